"""The demo's REST client, its users and the waits every act of ``make demo`` shares.

Each demo user logs in once (``Caller``) and calls the API as a person would; the acts then wait
by polling (``wait_for``, ``open_task``) for the workflows to catch up, never by sleeping a guess.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from db.seed import DEMO_PASSWORD

BUYER = "buyer@huadong.example"
FINANCE = "finance@huadong.example"
COMPLIANCE = "compliance@tradeflow.example"
SAFETY = "logistics@tradeflow.example"
INSPECTOR = "inspector@regulator.example"
# Where the buyer wants its goods: the RFQ's delivery place, the e-waybill's unloading place
# and the carrier's last stop.
DESTINATION = "上海市金山区化学工业区 Jinshan Chemical Park, Shanghai"


class Caller:
    def __init__(self, base: str, email: str) -> None:
        self.email = email
        self.http = httpx.Client(base_url=base, timeout=60)
        token = self.http.post("/auth/token", data={"username": email, "password": DEMO_PASSWORD})
        token.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.http.request(method, path, **kwargs)
        if answer.status_code >= 400:
            raise SystemExit(f"{self.email}: {method} {path} → {answer.status_code} {answer.text}")
        if answer.headers.get("content-type", "").startswith("application/json"):
            return answer.json()
        return answer.content


def wait_for(what: str, probe: Callable[[], Any], *, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    raise SystemExit(f"gave up waiting for {what}")


def open_task(
    caller: Caller,
    kind: str,
    subject_id: str,
    *,
    not_id: str = "",
    details: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The caller's open task of ``kind`` on the subject (other than ``not_id``, with these
    ``details`` if given), once opened."""
    wanted = details or {}
    found: dict[str, Any] = wait_for(
        f"{caller.email}'s {kind} task",
        lambda: next(
            (
                t
                for t in caller.call(
                    "GET", "/tasks", params={"kind": kind, "subject_id": subject_id}
                )
                if t["task_id"] != not_id
                and all(t["details"].get(k) == v for k, v in wanted.items())
            ),
            None,
        ),
    )
    return found


def step(text: str) -> None:
    print(f"\n== {text}")
