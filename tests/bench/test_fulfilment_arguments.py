"""The orders benchmark waits between runs until the run before's activity timeouts are due, so
neither side pays for the other's (``bench.fulfilment``'s ``--settle-s``)."""

from __future__ import annotations

import pytest

from bench.fulfilment import SETTLE_S, _arguments
from workflows import policies


def test_the_default_wait_outlasts_every_activity_timeout_but_a_renders() -> None:
    for policy in (policies.DATABASE, policies.EXTERNAL, policies.VALIDATION):
        assert policy.timeout.total_seconds() < SETTLE_S
    # A render's two minutes are left to come due in a later run (the benchmark says so).
    assert policies.DOCUMENT.timeout.total_seconds() > SETTLE_S
    assert _arguments([]).settle_s == SETTLE_S


def test_no_wait_can_be_asked_a_negative_or_endless_one_not(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _arguments(["--settle-s", "0"]).settle_s == 0
    for refused in ("-1", "nan", "inf"):
        with pytest.raises(SystemExit):
            _arguments(["--settle-s", refused])
        assert "--settle-s must be zero or more seconds" in capsys.readouterr().err
