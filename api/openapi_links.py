"""OpenAPI links: which answer feeds which next request (``POST /rfqs`` → ``GET /rfqs/{rfq_id}``).

FastAPI emits none. With them a client, the docs and the suite's stateful fuzzing can follow a
process from the id one call answers to the calls that take it, instead of guessing ids.
``add_links`` adds them to the dict FastAPI generates; it reads each answer's schema to find
where the id sits (the object itself, a list's first item, or a page's first item), so a list
that becomes a page keeps its links, and it skips a link whose operation is not served.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# (method, path) of an operation.
Operation = tuple[str, str]
# A target operation and its parameters: "path.rfq_id" -> the answer's field holding it
# ("rfq_id", "shipments/0/shipment") or a runtime expression used as is ("$request.path.x").
Target = tuple[Operation, Mapping[str, str]]

_RFQ = (
    ("get", "/rfqs/{rfq_id}"),
    ("get", "/rfqs/{rfq_id}/quotes"),
    ("post", "/rfqs/{rfq_id}/quotes"),
    ("get", "/rfqs/{rfq_id}/comparison"),
    ("post", "/rfqs/{rfq_id}/decline"),
    ("post", "/rfqs/{rfq_id}/deadline"),
    ("post", "/rfqs/{rfq_id}/close"),
    ("post", "/rfqs/{rfq_id}/cancel"),
    ("get", "/contracts"),
)
_CONTRACT = (
    ("get", "/contracts/{contract_id}"),
    ("get", "/contracts/{contract_id}/document"),
    ("post", "/contracts/{contract_id}/signatures"),
    ("post", "/contracts/{contract_id}/decline-signature"),
    ("get", "/contracts/{contract_id}/verification"),
    ("post", "/contracts/{contract_id}/verification"),
)
_ORDER = (
    ("get", "/orders/{order_id}"),
    ("post", "/orders/{order_id}/documents"),
    ("get", "/orders/{order_id}/invoice"),
    ("post", "/orders/{order_id}/payments"),
    ("post", "/orders/{order_id}/cancel"),
)
_SHIPMENT = (
    ("post", "/orders/{order_id}/shipments/{shipment}/consignment"),
    ("post", "/orders/{order_id}/shipments/{shipment}/waybill/make"),
    ("post", "/orders/{order_id}/shipments/{shipment}/loading-check"),
    ("post", "/orders/{order_id}/shipments/{shipment}/waybill"),
    ("post", "/orders/{order_id}/shipments/{shipment}/events"),
)
_CARRIER = (
    ("get", "/carriers/{org_id}/vehicles"),
    ("get", "/carriers/{org_id}/crew"),
    ("get", "/carriers/{org_id}/fleet/expiring"),
)
_TASK = (("get", "/tasks/{task_id}"), ("post", "/tasks/{task_id}/decision"))
_WAYBILL = (
    ("get", "/regulator/waybills/{number}"),
    ("get", "/regulator/waybills/{number}/pdf"),
    ("get", "/regulator/waybills/{number}/integrity"),
)
_ORGANISATION = (
    ("get", "/organisations/{org_id}/approval-chain"),
    ("put", "/organisations/{org_id}/approval-chain"),
    ("get", "/organisations/{org_id}/signing-keys"),
    ("get", "/accreditation/suppliers/{org_id}"),
)
_APPLICATION = (("get", "/accreditation/applications/{application_id}"),)
_LOAN = (
    ("get", "/loans/{loan_id}"),
    ("get", "/loans/{loan_id}/statement"),
    ("post", "/loans/{loan_id}/withdraw"),
)


def _to(targets: Iterable[Operation], **fields: str) -> tuple[Target, ...]:
    """Each target takes the same ids: in its path when the path names them, else as a query
    filter (``GET /contracts?rfq_id=``)."""
    return tuple(
        (
            target,
            {
                ("path." if "{" + name + "}" in target[1] else "query.") + name: field
                for name, field in fields.items()
            },
        )
        for target in targets
    )


# (method, path, status) of a source operation -> where its answer leads.
LINKS: Mapping[tuple[str, str, str], tuple[Target, ...]] = {
    ("post", "/rfqs", "202"): _to(_RFQ, rfq_id="rfq_id"),
    ("get", "/rfqs", "200"): _to(_RFQ, rfq_id="rfq_id"),
    ("get", "/contracts", "200"): _to(_CONTRACT, contract_id="contract_id"),
    ("get", "/orders", "200"): _to(_ORDER, order_id="order_id"),
    ("get", "/orders/{order_id}", "200"): _to(
        _SHIPMENT, order_id="order_id", shipment="shipments/0/shipment"
    ),
    ("post", "/orders/{order_id}/documents", "201"): (
        (
            ("get", "/orders/{order_id}/documents/{document_id}"),
            {"path.order_id": "$request.path.order_id", "path.document_id": "document_id"},
        ),
        (("get", "/documents/{document_id}"), {"path.document_id": "document_id"}),
    ),
    ("get", "/tasks", "200"): _to(_TASK, task_id="task_id"),
    ("get", "/tasks/{task_id}", "200"): _to(_TASK[1:], task_id="task_id"),
    ("post", "/accreditation/applications", "202"): _to(
        _APPLICATION, application_id="application_id"
    ),
    ("get", "/accreditation/applications", "200"): _to(
        _APPLICATION, application_id="application_id"
    ),
    ("get", "/regulator/waybills", "200"): _to(_WAYBILL, number="waybill_number"),
    ("post", "/loans", "202"): _to(_LOAN, loan_id="loan_id"),
    ("get", "/loans", "200"): _to(_LOAN, loan_id="loan_id"),
    ("get", "/auth/me", "200"): _to(_ORGANISATION, org_id="org_id"),
    ("get", "/carriers", "200"): _to(_CARRIER, org_id="org_id"),
    ("post", "/carriers/{org_id}/vehicles", "201"): _to(
        (("delete", "/carriers/{org_id}/vehicles/{vehicle_id}"),),
        org_id="carrier_org_id",
        vehicle_id="vehicle_id",
    ),
    ("post", "/carriers/{org_id}/crew", "201"): _to(
        (("delete", "/carriers/{org_id}/crew/{crew_id}"),),
        org_id="carrier_org_id",
        crew_id="crew_id",
    ),
}


def add_links(openapi: dict[str, Any]) -> dict[str, Any]:
    """Adds ``LINKS`` to the answers of a generated OpenAPI document, in place; returns it."""
    paths: dict[str, dict[str, Any]] = openapi.get("paths", {})
    for (method, path, status), targets in LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            continue
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        links = response.setdefault("links", {})
        for (target_method, target_path), parameters in targets:
            target = paths.get(target_path, {}).get(target_method)
            if target is None or "operationId" not in target:
                continue
            links[target["operationId"]] = {
                "operationId": target["operationId"],
                "parameters": {
                    name: _expression(openapi, schema, field) for name, field in parameters.items()
                },
            }
    return openapi


def _expression(openapi: dict[str, Any], schema: dict[str, Any], field: str) -> str:
    if field.startswith("$"):
        return field
    return f"$response.body#{_item_pointer(openapi, schema, field.split('/')[0])}/{field}"


def _item_pointer(openapi: dict[str, Any], schema: dict[str, Any], field: str) -> str:
    """Where the object holding ``field`` sits in the answer: "" (the answer itself), "/0" (a
    list's first item) or "/items/0" (the first item of a page's list property)."""
    schema = _resolve(openapi, schema)
    if schema.get("type") == "array":
        return "/0"
    properties: dict[str, Any] = schema.get("properties", {})
    if field in properties:
        return ""
    for name, prop in properties.items():
        prop = _resolve(openapi, prop)
        if prop.get("type") == "array" and field in _resolve(openapi, prop.get("items", {})).get(
            "properties", {}
        ):
            return f"/{name}/0"
    return ""


def _resolve(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = openapi
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema
