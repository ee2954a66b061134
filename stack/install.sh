#!/usr/bin/env bash
# Installs everything Tradeflow needs on a fresh Debian/Ubuntu machine, from package registries
# only: uv and the locked Python environment (PyPI: Temporal CLI and test server, PostgreSQL,
# moto, weasyprint, playwright...), and from Debian the CJK font and the Pango libraries weasyprint
# renders with, and Chromium for the browser tests.
#
# Python: a CPython 3.11 (pyproject's requires-python), taken from $TRADEFLOW_PYTHON, else
# python3.11, else python3 on PATH; on Debian 12 that is the system /usr/bin/python3.11, installed
# from Debian when it is missing and we are root. uv never downloads an interpreter: its managed
# Pythons come from GitHub, which is not a package registry.
# uv: the one on PATH, else a private copy in .tools/uv, installed from PyPI into a venv of that
# interpreter (Debian's own Python is externally managed, PEP 668: its pip refuses, or is absent).
# apt-get runs only for what is missing, and waits for a dpkg lock another apt holds (as
# unattended-upgrades does at boot) instead of failing.
set -euo pipefail
# A failure inside $(...) stops the script too.
shopt -s inherit_errexit

# The version uv.lock was written with; a newer uv on PATH reads it as well.
UV_VERSION=0.13.9
TOOLS_DIR=.tools
# Where Debian puts Chromium; the browser tests launch this very path (tests/browser/conftest.py).
CHROMIUM=/usr/bin/chromium
APT_LOCK_WAIT=(-o DPkg::Lock::Timeout=600)
_apt_updated=0

die() {
  echo "install: $*" >&2
  exit 1
}

# The sys.executable of a CPython 3.11: uv given the same interpreter by another path (a pyenv
# shim) would rebuild .venv.
find_python() {
  local candidate candidates=(python3.11 python3)
  if [ -n "${TRADEFLOW_PYTHON:-}" ]; then candidates=("$TRADEFLOW_PYTHON"); fi
  for candidate in "${candidates[@]}"; do
    command -v "$candidate" >/dev/null 2>&1 && _python_311 "$candidate" && return 0
  done
  return 1
}

_python_311() {
  "$1" -c 'import sys
ok = sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11)
print(sys.executable) if ok else sys.exit(1)' 2>/dev/null
}

# Debian packages whose files are missing: the font, every library weasyprint loads (the Pango
# package brings GLib, HarfBuzz and fontconfig's library with it) and Chromium. Reads two caches
# and one path only.
missing_debian_packages() {
  local ldconfig libs need=()
  # Outside root's PATH ldconfig lives in /sbin.
  ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
  libs=$("$ldconfig" -p 2>/dev/null || true)
  if ! { command -v fc-list >/dev/null && fc-list : family | grep -q "WenQuanYi Micro Hei"; }; then
    need+=(fonts-wqy-microhei fontconfig)
  fi
  for soname in libgobject-2.0.so.0 libpango-1.0.so.0 libharfbuzz.so.0 libfontconfig.so.1; do
    grep -q "$soname" <<<"$libs" || { need+=(libpango-1.0-0); break; }
  done
  grep -q libpangoft2-1.0.so.0 <<<"$libs" || need+=(libpangoft2-1.0-0)
  grep -q libharfbuzz-subset.so.0 <<<"$libs" || need+=(libharfbuzz-subset0)
  # Debian's Chromium, which the workbench's browser tests drive (Playwright never downloads a
  # browser of its own: that is no package registry). Installed by `make up` too, not only by
  # `make test`: one install step for both, and a developer who runs the platform runs its tests.
  [ -x "$CHROMIUM" ] || need+=(chromium)
  echo "${need[@]}"
}

can_apt() {
  [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null
}

# apt-get update takes the package lists' lock without waiting (DPkg::Lock::Timeout covers
# dpkg's locks only), so a lock another apt holds is waited for here, at most as long.
apt_update_once() {
  local deadline=$((SECONDS + 600)) errors
  [ "$_apt_updated" -eq 0 ] || return 0
  errors=$(mktemp)
  until LC_ALL=C apt-get "${APT_LOCK_WAIT[@]}" update -qq 2>"$errors"; do
    if ! grep -q "Could not get lock" "$errors" || [ "$SECONDS" -ge "$deadline" ]; then
      cat "$errors" >&2
      rm -f "$errors"
      die "apt-get update failed"
    fi
    echo "install: waiting for another apt to release its lock" >&2
    sleep 5
  done
  cat "$errors" >&2
  rm -f "$errors"
  _apt_updated=1
}

apt_install() {
  if ! can_apt; then
    die "missing Debian packages: $*. Run: sudo apt-get install -y $* (then this again)"
  fi
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get "${APT_LOCK_WAIT[@]}" install -y -qq "$@" >/dev/null
}

# Prints the uv to use: the one on PATH, else the private one under $1, installed when absent.
ensure_uv() {
  local python=$1 tools=$2 venv_package
  if command -v uv >/dev/null 2>&1; then
    command -v uv
    return 0
  fi
  if [ ! -x "$tools/uv/bin/uv" ]; then
    if ! "$python" -m venv "$tools/uv" >/dev/null 2>&1; then
      # Debian splits venv's ensurepip into its own package.
      rm -rf "$tools/uv"
      venv_package="python$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv"
      apt_install "$venv_package" >&2
      "$python" -m venv "$tools/uv" >&2 || die "$python -m venv fails even with $venv_package"
    fi
    "$tools/uv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" >&2
  fi
  echo "$tools/uv/bin/uv"
}

main() {
  cd "$(dirname "$0")/.."
  local python uv
  local -a need
  read -r -a need <<<"$(missing_debian_packages)"
  python=$(find_python) || python=""
  if [ -z "$python" ] && [ -z "${TRADEFLOW_PYTHON:-}" ] && can_apt; then
    # Debian 12's python3 is 3.11, but a minimal image may have no Python at all.
    apt_update_once
    if apt-cache show python3.11 >/dev/null 2>&1; then need+=(python3.11); fi
  fi
  if [ ${#need[@]} -gt 0 ]; then
    apt_install "${need[@]}"
  fi
  if [ -z "$python" ]; then
    python=$(find_python) || die "Tradeflow needs CPython 3.11 (requires-python >=3.11,<3.12)" \
      "and found none (tried: ${TRADEFLOW_PYTHON:-python3.11, python3}). Install one" \
      "(Debian 12: apt-get install python3.11) or set TRADEFLOW_PYTHON to its path."
  fi
  uv=$(ensure_uv "$python" "$TOOLS_DIR")
  # Compiled once here: with PYTHONDONTWRITEBYTECODE set (as on our machines) no process writes
  # bytecode, so each one started (a worker, a sandbox, a test process) compiled every module it
  # imported, about 5 s of CPU, and Temporal's default build ID, which reads every loaded
  # module's code, compiled them all once more. uv and compileall skip what is up to date.
  "$uv" sync --frozen --quiet --python "$python" --no-python-downloads --compile-bytecode
  .venv/bin/python -m compileall -q -j 0 ./*/ ./*.py
}

# Sourced, it only defines the functions (to try one on its own).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
