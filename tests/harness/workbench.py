"""A person at the workbench over plain HTTP: signs in through the form, keeps the cookies,
posts forms with the page's CSRF token. For page tests that need no browser."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import Role
from db.models import User
from db.seed import DEMO_PASSWORD
from db.session import transaction
from security.passwords import hash_password

_HIDDEN = re.compile(r'name="(csrf|login_csrf)" value="([^"]*)"')


def hidden(page: str, name: str) -> str:
    """A hidden form field's value in ``page``."""
    for field, value in _HIDDEN.findall(page):
        if field == name:
            return str(value)
    raise AssertionError(f"no hidden field {name} on the page")


def login_user(sessions: sessionmaker[Session], org_id: str, role: Role) -> str:
    """A new user of ``org_id`` with ``role`` who signs in with the demo password: its e-mail.
    For pages seen by someone of an organisation the test made (a test supplier's buyer...)."""
    user_id = f"usr_{role.value}_{uuid.uuid4().hex[:10]}"
    email = f"{user_id}@workbench.example"
    with transaction(sessions) as session:
        session.add(
            User(
                id=user_id,
                org_id=org_id,
                email=email,
                full_name=f"测试 {role.value}",
                password_hash=hash_password(DEMO_PASSWORD),
                roles=[role.value],
            )
        )
    return email


class Person:
    """One signed-in user at the workbench."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=60, follow_redirects=True)
        self.csrf = ""

    def sign_in(self, email: str, password: str = DEMO_PASSWORD) -> httpx.Response:
        form = self.http.get("/workbench/login")
        answer = self.http.post(
            "/workbench/login",
            data={
                "email": email,
                "password": password,
                "login_csrf": hidden(form.text, "login_csrf"),
                "next": "/workbench/",
            },
        )
        if answer.status_code == 200:
            self.csrf = hidden(answer.text, "csrf")
        return answer

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params)

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self.http.post(path, data={"csrf": self.csrf, **data})

    def close(self) -> None:
        self.http.close()
