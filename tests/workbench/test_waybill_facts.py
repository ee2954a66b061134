"""The e-waybill on the task page, on a safety review a real order opened (dev server, real
worker, the real API serving the pages): the consignor declares sodium cyanide with
hydrochloric acid, the carrier makes the waybill from its fleet, the check warns (a cyanide with
an acid; CV28 goods near food) and platform logistics safety reads the goods, the vehicle and
crew, and each warning with its rule and the source the rule cites."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from contracts.common import Actor, Role
from contracts.sourcing import RfqLine
from contracts.waybill import WaybillItem
from tests.harness import carriers as ca
from tests.harness import orders as o
from tests.harness import waybills as w
from tests.harness.temporal import terminate_all
from tests.workbench import test_task_facts
from tests.workbench.test_task_facts import Stage, fetch, open_task
from tests.workflows.test_order import decide

stage = test_task_facts.stage

# UN1689,Sodium cyanide,6.1,,I,6.1,  (with an acid it can give off hydrogen cyanide)
CYANIDE_LINE = RfqLine(
    line_id="L4",
    description="氰化钠 Sodium cyanide, solid",
    quantity=Decimal(100),
    unit="kg",
    un_number="UN1689",
    packing_group="I",
)
CYANIDE = WaybillItem(
    un_number="UN1689",
    proper_shipping_name="Sodium cyanide, solid",
    hazard_class="6.1",
    packing_group="I",
    packaging="25 kg steel drums",
    packages=4,
    quantity=Decimal(100),
    unit="kg",
)


async def test_the_safety_review_shows_the_waybill_goods_and_each_warning_with_its_rule(
    stage: Stage,
) -> None:
    sessions, store = stage.sessions, stage.store
    who = o.parties(sessions, store)
    carrier = ca.accredited_carrier(sessions, classes=("6.1", "8"))
    vehicle = ca.add_vehicle(sessions, carrier.id, plate="苏B61089", classes=("6.1", "8"))
    driver = ca.add_crew(sessions, carrier.id, role="driver")
    escort = ca.add_crew(sessions, carrier.id, role="escort", name="李押运")
    dispatcher = Actor(user_id="usr_facts_dispatch", org_id=carrier.id, roles=(Role.LOGISTICS,))
    terms = o.executed_contract(
        sessions, who, now=datetime.now(UTC), lines=(o.HYDROCHLORIC_ACID, CYANIDE_LINE)
    )
    handle = await o.start_order(stage.client, terms, task_queue=stage.task_queue)
    order_id = handle.id.removeprefix("Order:")
    try:
        confirm = await open_task(sessions, order_id, "order_confirmation")
        await decide(
            handle, confirm.id, who.supplier.actor, "confirm", choices={"carrier": carrier.id}
        )

        declaring = await open_task(sessions, order_id, "consignment_list")
        listed = w.consignment(who.supplier.org.credit_code, items=(w.HYDROCHLORIC_ACID, CYANIDE))
        stored = w.store_json(
            sessions,
            store,
            org_id=who.supplier.org.id,
            name="consignment",
            data=listed.model_dump_json().encode(),
            kind="consignment_list",
        )
        choices = {"document_id": stored.document_id}
        await decide(handle, declaring.id, who.logistics.actor, "submit", choices=choices)

        # The carrier makes the waybill as the API composes it, from its own fleet.
        making = await open_task(sessions, order_id, "waybill_submission")
        trip = w.trip(
            datetime.now(UTC) + timedelta(days=1),
            vehicle_id=vehicle.id,
            driver_id=driver.id,
            escort_id=escort.id,
        )
        draft = w.carriers_draft(
            sessions,
            listed,
            trip,
            carrier_org_id=carrier.id,
            order_id=order_id,
            task_details=making.details,
        )
        made = w.store_draft(sessions, store, org_id=carrier.id, draft=draft)
        choices = {"document_id": made.document_id}
        answer = await decide(handle, making.id, dispatcher, "submit", choices=choices)
        assert answer.process_status == "awaiting_safety_approval", answer.message

        review = await open_task(sessions, order_id, "waybill_safety_review")
        safety = await stage.signed_in("logistics@tradeflow.example")
        page = await fetch(safety, f"/workbench/tasks/{review.id}")
        assert page.status_code == 200, page.text
        assert 'data-testid="waybill-facts"' in page.text
        goods = re.findall(r'data-testid="un-number">([^<]+)<', page.text)
        assert goods == ["UN1789", "UN1689"]
        assert "Sodium cyanide, solid" in page.text and "毒性物质" in page.text
        assert "苏B61089" in page.text and "李押运" in page.text
        assert "道路危险货物运输押运人员" in page.text, "the escort's qualification"
        rows = dict(
            re.findall(
                r'<tr data-code="([A-Z_]+)">.*?data-testid="violation-source">([^<]+)<',
                page.text,
                re.DOTALL,
            )
        )
        assert rows == {
            "SEGREGATION": "平台规则",  # beyond the rulebook, which permits the pair
            "FOOD_SEPARATION": "JT/T 617.7-2018 · ADR 7.5.4 (CV28)",
        }
        assert "混装禁忌 / 配装" in page.text and "hydrogen cyanide" in page.text
        assert "混装规则 JT/T 617.7-2018 (ADR 7.5.2)" in page.text
    finally:
        await terminate_all(stage.client, [handle.id])
