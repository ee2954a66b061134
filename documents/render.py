"""Rendering templates to HTML and PDF; used by activities only, never imported by a workflow.

weasyprint is CPU-bound and holds the interpreter lock while it lays a page out (an e-waybill
~0.7 s), so a render worker (``worker.py --roles render``) hands each PDF to a pool of processes
(``use_render_processes``): the activity's thread waits for the bytes without the lock, and two
renders use two cores. Anywhere else (tests, a one-off script) ``render_pdf`` renders in place.

Each thread that renders keeps one weasyprint font configuration from render to render. A new
one for every PDF read the system's fonts and copied the CJK font (5 MB) into a temporary folder
of its own: a third of an invoice's time. Its folder was removed only once the configuration was
garbage-collected, which a render process ending never waited for, so every test run and every
benchmark left dozens of 5 MB folders in the temporary directory. Now the process removes its
threads' copies as it exits (``stack.process_pools.at_exit``: a render process also as its worker
goes or as a broken pool terminates it); a render process keeps its copy in a folder of its own,
which its worker removes should the process be killed outright.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Mapping
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from decimal import Decimal
from pathlib import Path
from shutil import rmtree

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from temporalio.exceptions import ApplicationError

# Imported eagerly (about a second) so the worker pays for it at start, not inside an activity.
from weasyprint import HTML  # type: ignore[import-untyped]
from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]
from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

from contracts.common import Money, money_text
from stack.process_pools import SpawnedPool, at_exit, ensure_temporary_folder

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# Debian's fonts-wqy-microhei, installed by the set-up (stack/install.sh, the Dockerfile).
FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_FAMILY = "WenQuanYi Micro Hei"

TIER_LABELS = {"tier_1": "一级 Tier 1", "tier_2": "二级 Tier 2", "tier_3": "三级 Tier 3"}
RISK_BAND_LABELS = {"low": "低 Low", "medium": "中 Medium", "high": "高 High"}


class FontMissingError(RuntimeError):
    """The CJK font is not installed, so Chinese text would print as empty boxes."""


def font_available() -> bool:
    """Whether the CJK font the templates embed is installed and readable."""
    return FONT_PATH.is_file() and os.access(FONT_PATH, os.R_OK)


def money(value: Money | Decimal | int, currency: str | None = None) -> str:
    """'CNY 1,234,567.89': thousands separators, two decimals rounded half up, ISO currency."""
    if isinstance(value, Money):
        amount, code = value.amount, value.currency
    elif isinstance(value, Decimal | int) and not isinstance(value, bool):
        if currency is None:
            raise ValueError("money needs a currency for a bare amount")
        amount, code = Decimal(value), currency
    else:
        # A float has already lost the cents; refuse it rather than print a plausible figure.
        raise TypeError(f"money expects Money, Decimal or int, not {type(value).__name__}")
    return money_text(amount, code)


def date_cn(value: date) -> str:
    """'2026年11月29日'."""
    return f"{value.year}年{value.month}月{value.day}日"


_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["money"] = money
_env.filters["date_cn"] = date_cn
_env.globals.update(
    font_url=FONT_PATH.as_uri(),
    font_family=FONT_FAMILY,
    tier_labels=TIER_LABELS,
    risk_band_labels=RISK_BAND_LABELS,
)

# Only local files (the font): nothing a template renders may make weasyprint reach the network.
_fetcher = URLFetcher(allowed_protocols=("file",))


def render_html(template: str, context: Mapping[str, object]) -> str:
    """The template rendered with ``context``; a missing context key raises."""
    return _env.get_template(template).render(context)


# The render worker's processes, when this process is one; none renders in place. Each
# process imports weasyprint once, at its start.
_pool = SpawnedPool(initializer=font_available)


def use_render_processes(count: int) -> None:
    """Render every later PDF of this process in ``count`` processes of its own."""
    _pool.use(count)


def render_process_ids() -> frozenset[int]:
    """The pids of this process's render processes (none where it renders in place)."""
    return _pool.process_ids()


def stop_render_processes() -> None:
    """Back to rendering in place; the processes end after their current render."""
    _pool.stop()


def render_pdf(template: str, context: Mapping[str, object]) -> bytes:
    """The PDF bytes; refuses to render without the CJK font rather than print empty boxes."""
    if not font_available():
        raise FontMissingError(f"CJK font missing at {FONT_PATH}: run stack/install.sh")
    processes, _ = _pool.executor()
    if processes is None:
        return render_here(template, dict(context))
    try:
        return processes.submit(render_here, template, dict(context)).result()
    except BrokenProcessPool as broken:
        # A render process died (killed, out of memory): nothing was stored, so fresh processes
        # and the activity's retry render it again.
        _pool.renew(processes)
        raise ApplicationError(
            f"a render process died rendering {template}", type="RenderProcessLost"
        ) from broken


def render_here(template: str, context: dict[str, object]) -> bytes:
    """Render in this process (a render process's side of ``render_pdf``)."""
    document = HTML(
        string=render_html(template, context),
        base_url=TEMPLATES_DIR.as_uri() + "/",
        url_fetcher=_fetcher,
    )
    pdf: bytes = document.write_pdf(font_config=_font_config())
    return pdf


class _Fonts(threading.local):
    config: FontConfiguration | None = None


_fonts = _Fonts()
# Every thread's, so the process's end finds them; a thread that ends first lets weasyprint
# remove its copy of the font when the configuration is collected.
_configs: weakref.WeakSet[FontConfiguration] = weakref.WeakSet()


def _font_config() -> FontConfiguration:
    """This thread's font configuration (pango's font map is not shared between threads); a
    new one when a cleaner of old files removed the folder of its copy of the font, which
    every later render would fail to find."""
    config = _fonts.config
    if config is None or (config._folder is not None and not config._folder.is_dir()):
        ensure_temporary_folder()  # where the new configuration's copy goes
        config = _fonts.config = FontConfiguration()
        _configs.add(config)
    return config


def _remove_font_copies() -> None:
    for config in list(_configs):
        # weasyprint's own field: the folder its ``@font-face`` copies go to, made at the first.
        folder = config._folder
        if folder is not None:
            rmtree(folder, ignore_errors=True)


at_exit(_remove_font_copies)
