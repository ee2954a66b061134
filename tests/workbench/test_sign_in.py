"""Signing in to the workbench: the API's accounts and its audit, a session cookie, CSRF."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.harness.workbench import Person, hidden


@pytest.fixture
def person(api_url: str) -> Iterator[Person]:
    someone = Person(api_url)
    yield someone
    someone.close()


def test_a_page_without_a_session_sends_to_sign_in_and_back(person: Person) -> None:
    answer = person.get("/workbench/", process="Accreditation")
    assert answer.url.path == "/workbench/login"
    assert 'value="/workbench/?process=Accreditation"' in answer.text


def test_compliance_signs_in_and_sees_the_inbox_in_both_languages(person: Person) -> None:
    inbox = person.sign_in("compliance@tradeflow.example")
    assert inbox.status_code == 200 and inbox.url.path == "/workbench/"
    assert "我的待办" in inbox.text and "陈静" in inbox.text
    english = person.get("/workbench/lang/en", next="/workbench/")
    assert "My tasks" in english.text
    cookie = next(c for c in person.http.cookies.jar if c.name == "tf_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/workbench"
    assert "frame-ancestors 'none'" in inbox.headers["content-security-policy"]
    assert inbox.headers["cache-control"] == "no-store"


def test_a_wrong_password_is_refused_on_the_form(person: Person) -> None:
    answer = person.sign_in("compliance@tradeflow.example", "not-the-password")
    assert answer.status_code == 401 and "邮箱或密码不正确" in answer.text


def test_sign_in_needs_the_forms_own_token(api_url: str) -> None:
    with httpx.Client(base_url=api_url) as http:
        answer = http.post(
            "/workbench/login",
            data={"email": "compliance@tradeflow.example", "password": "tradeflow-demo"},
        )
    assert answer.status_code == 403 and "csrf" in answer.text


def test_a_post_without_the_sessions_csrf_token_is_refused(person: Person) -> None:
    person.sign_in("compliance@tradeflow.example")
    person.csrf = "forged"
    assert person.post("/workbench/logout", {}).status_code == 403
    inbox = person.get("/workbench/")
    person.csrf = hidden(inbox.text, "csrf")
    assert person.post("/workbench/logout", {}).url.path == "/workbench/login"
    assert person.get("/workbench/").url.path == "/workbench/login"
