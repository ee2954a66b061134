"""People at the workbench in Chromium: compliance approves a high-risk supplier with a second
officer, a buyer awards from the quote comparison, a supplier is kept out of what is not theirs;
the main pages kept as screenshots, in Chinese and in English.

One set-up for the module: a real accreditation and a real RFQ, made through the REST API and run
by the worker, whose tasks the tests then decide in the browser.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from gateways.certification_registry import CertificationRegistryClient
from gateways.regulator import RegulatorClient
from security.keys import jwt_secret_from_settings
from settings import Settings
from storage.object_store import ObjectStore
from tests.browser.conftest import OpenTab, Tab
from tests.browser.real_processes import (
    QuotedRfq,
    high_risk_application,
    open_task,
    rfq_with_two_quotes,
)
from tests.e2e.test_accreditation_api import Caller, caller
from tests.harness.temporal import eventually
from worker import build_worker

COMPLIANCE = "compliance@tradeflow.example"
COMPLIANCE2 = "compliance2@tradeflow.example"
BUYER = "buyer@huadong.example"
SUPPLIER = "supplier@hengxin.example"


@dataclass(frozen=True)
class Made:
    application_id: str
    review_task_id: str
    rfq: QuotedRfq
    award_task_id: str


@pytest.fixture(scope="module")
async def made(
    api_url: str,
    dev_env: WorkflowEnvironment,
    e2e_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    regulator: RegulatorClient,
) -> AsyncIterator[Made]:
    """The module's processes, and the worker that runs them while the tests decide their tasks."""
    secret = jwt_secret_from_settings(e2e_settings)
    running = build_worker(
        dev_env.client,
        settings=e2e_settings,
        sessions=sessions,
        store=store,
        registry=registry,
        regulator=regulator,
    )
    async with running:
        application_id, rfq = await asyncio.gather(
            high_risk_application(api_url, secret, sessions, registry),
            rfq_with_two_quotes(api_url, secret, sessions, store),
        )
        compliance, buyer = await caller(api_url, COMPLIANCE), await caller(api_url, BUYER)
        review, award = await asyncio.gather(
            open_task(compliance.http, "accreditation_review", application_id),
            open_task(buyer.http, "rfq_award", rfq.rfq_id),
        )
        await compliance.http.aclose()
        await buyer.http.aclose()
        yield Made(application_id, review, rfq, award)


async def decide(tab: Tab, outcome: str, comment: str = "") -> str:
    """Press the outcome's button on the task page; answers the text of the process's answer."""
    form = tab.page.get_by_test_id("decision-form")
    if comment:
        await form.locator("textarea[name=comment]").fill(comment)
    await form.locator(f"button[data-outcome={outcome}]").click()
    answer = tab.page.get_by_test_id("answer")
    await answer.wait_for()
    return await answer.inner_text()


async def open_from_inbox(tab: Tab, task_id: str) -> None:
    """Follow the task's link in the inbox, as a person would."""
    row = tab.page.locator(f"tr[data-task-id='{task_id}']")
    await row.locator("a").first.click()
    await tab.page.wait_for_url(lambda url: unquote(url).endswith(f"/workbench/tasks/{task_id}"))


async def test_two_compliance_officers_approve_a_high_risk_supplier(
    open_tab: OpenTab, made: Made, api_url: str
) -> None:
    first = await open_tab(COMPLIANCE)
    await first.shoot("inbox-zh")
    await open_from_inbox(first, made.review_task_id)
    status = first.page.get_by_test_id("task-status")
    assert await status.get_attribute("data-status") == "open"
    assert await status.inner_text() == "待处理"
    await first.shoot("task-accreditation-zh")
    answer = await decide(first, "approve", "财务风险高，证书有效 high risk, certificates valid")
    assert "待第二人审批" in answer, answer
    await first.page.get_by_test_id("process-link").click()
    await first.page.wait_for_url("**/workbench/processes/**")
    status = first.page.get_by_test_id("live-status")
    assert await status.get_attribute("data-status") == "awaiting_second_approval"
    assert "Chen Jing 陈静" in await first.page.locator("main").inner_text()
    await first.shoot("process-accreditation-zh")

    compliance = await caller(api_url, COMPLIANCE)
    second_id = await open_task(compliance.http, "accreditation_second_review", made.application_id)
    await compliance.http.aclose()
    second = await open_tab(COMPLIANCE2)
    await open_from_inbox(second, second_id)
    answer = await decide(second, "approve")
    assert "已准入" in answer, answer
    await second.page.get_by_test_id("process-link").click()
    await second.page.wait_for_url("**/workbench/processes/**")
    assert await second.page.get_by_test_id("live-status").inner_text() == "已准入"
    assert "Li Wei 李伟" in await second.page.locator("main").inner_text()

    # The decided task and its process in English, here where it was decided (a test that read
    # it elsewhere would pass only after this one).
    await first.page.locator(".lang a", has_text="EN").click()
    await first.page.wait_for_url("**/workbench/processes/**")
    await first.open(f"/workbench/tasks/{made.review_task_id}")
    decided = await first.page.locator("section.decided").inner_text()
    assert "Chen Jing" in decided and "usr_" not in decided, decided  # a name, not an id
    await first.shoot("task-accreditation-en")
    await first.page.get_by_test_id("process-link").click()
    await first.page.wait_for_url("**/workbench/processes/**")
    assert await fits_across(first)
    await first.shoot("process-accreditation-en")


async def test_a_supplier_cannot_open_other_organisations_tasks_or_ops_pages(
    open_tab: OpenTab, made: Made
) -> None:
    supplier = await open_tab(SUPPLIER)
    for task_id in (made.review_task_id, made.award_task_id):
        await supplier.open(f"/workbench/tasks/{task_id}", refused=404)
        assert "(404)" in await supplier.page.locator("main h1").inner_text()
    await supplier.shoot("error-404-zh")
    await supplier.open("/workbench/waybills", refused=403)
    assert "(403)" in await supplier.page.locator("main h1").inner_text()
    assert await supplier.page.locator("nav.main [data-nav=waybills]").count() == 0


async def test_a_buyer_awards_from_the_comparison_on_the_task_page(
    open_tab: OpenTab, made: Made, api_url: str
) -> None:
    buyer = await open_tab(BUYER)
    await open_from_inbox(buyer, made.award_task_id)
    a, b = made.rfq.cheaper_on_l1, made.rfq.cheaper_on_l2
    comparison = buyer.page.get_by_test_id("comparison")
    for supplier in (a, b):
        assert await comparison.locator(f"tr[data-supplier='{supplier}']").count() == 1
    await buyer.shoot("task-award-zh")
    # One supplier for both lines, against the recommendation for L1: one contract, not two.
    for line in ("L1", "L2"):
        await buyer.page.get_by_test_id(f"award-choice-{line}").select_option(b)
    answer = await decide(buyer, "award", "一家供应商供全部两行 one supplier for both lines")
    assert "授标中" in answer and answer.count(f"{made.rfq.rfq_id}-C") == 1, answer

    rest = await caller(api_url, BUYER)
    contracts = await eventually(
        lambda: drafted(rest, made.rfq.rfq_id), what="the award's contract", attempts=600
    )
    await rest.http.aclose()
    assert [c["supplier_org_id"] for c in contracts] == [b]


async def drafted(rest: Caller, rfq_id: str) -> list[dict[str, Any]] | None:
    rows: list[dict[str, Any]] = (
        await rest.http.get("/contracts", params={"rfq_id": rfq_id})
    ).json()
    return rows or None


async def test_the_main_pages_read_in_chinese_and_in_english(open_tab: OpenTab, made: Made) -> None:
    ops = await open_tab(COMPLIANCE)
    for path, name in (
        ("/workbench/dashboard", "dashboard-ops-zh"),
        ("/workbench/registers", "registers-zh"),
        ("/workbench/registers/suppliers", "registers-suppliers-zh"),
    ):
        await ops.open(path)
        await ops.shoot(name)
        assert await ops.page.locator("html").get_attribute("lang") == "zh-CN"
        assert await fits_across(ops), f"{path} is wider than the window"
    await ops.page.locator(".lang a", has_text="EN").click()
    await ops.page.wait_for_url("**/workbench/registers/suppliers")
    await ops.shoot("registers-suppliers-en")
    buyer = await open_tab(BUYER)
    await buyer.open("/workbench/dashboard")
    await buyer.shoot("dashboard-buyer-zh")
    await buyer.page.locator(".lang a", has_text="EN").click()
    await buyer.page.wait_for_url("**/workbench/dashboard")
    assert await buyer.page.locator("html").get_attribute("lang") == "en"
    assert await fits_across(buyer)
    await buyer.shoot("dashboard-buyer-en")
    await buyer.open("/workbench/")
    assert await buyer.page.locator("main h1").inner_text() == "My tasks"
    await buyer.shoot("inbox-en")
    await buyer.open(f"/workbench/tasks/{made.award_task_id}")
    assert await fits_across(buyer)
    await buyer.shoot("task-award-en")


async def fits_across(tab: Tab) -> bool:
    """Nothing on the page pushes it wider than the window (a table or chart overflowing)."""
    fits: bool = await tab.page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    return fits
