"""Signing an e-contract for your organisation, or declining to.

Signing is the ``decide_task`` update on the contract's workflow, so its validator refuses a
hash other than the stored PDF's; the workflow makes the Ed25519 signature. Declining lapses the
contract and its lines go back to award.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import CurrentActor, PlatformDep, not_found
from api.idempotency import update_id
from api.params import IdPath
from api.platform import Platform
from api.routes.e_contracts import visible_contract
from contracts.common import Actor, Role, Text
from contracts.sourcing import SignDecision
from contracts.tasks import DecideTaskInput, TaskAnswer
from db.models import HumanTask
from db.tasks import open_task
from workflows.contract import SIGNATURE_TASK

router = APIRouter(tags=["e-contracts"])


class SignRequest(SignDecision):
    """The SHA-256 of the PDF you read (``GET /contracts/{id}/document``)."""


class DeclineSignatureRequest(BaseModel):
    reason: Annotated[Text, Field(min_length=1, max_length=2000)]


def _signature_task(platform: Platform, actor: Actor, contract_id: str) -> HumanTask:
    """The caller's organisation's open signature task; its party role is required."""
    with platform.sessions() as session:
        row = visible_contract(session, actor, contract_id)
        if actor.org_id not in (row.buyer_org_id, row.supplier_org_id):
            raise not_found("contract")
        role = Role.BUYER if actor.org_id == row.buyer_org_id else Role.SUPPLIER
        if not actor.has_any(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"signing for your organisation needs the {role} role",
            )
        task = open_task(session, subject_id=contract_id, kind=SIGNATURE_TASK, org_id=actor.org_id)
        if task is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"no signature is awaited from your organisation: the contract is "
                f"{row.status}",
            )
        return task


async def _decide_signature(
    platform: Platform, request: Request, actor: Actor, contract_id: str, **decision: Any
) -> TaskAnswer:
    task = await run_in_threadpool(_signature_task, platform, actor, contract_id)
    key = request.headers.get("idempotency-key")
    answer: TaskAnswer = await platform.temporal.get_workflow_handle(
        task.workflow_id
    ).execute_update(
        "decide_task",
        DecideTaskInput(task_id=task.id, actor=actor, **decision),
        result_type=TaskAnswer,
        id=update_id(actor.user_id, key) if key else None,
    )
    return answer


@router.post("/contracts/{contract_id}/signatures")
async def sign_contract(
    contract_id: IdPath,
    body: SignRequest,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
) -> TaskAnswer:
    """Sign for your organisation the PDF whose SHA-256 you give; another hash is refused."""
    return await _decide_signature(
        platform,
        request,
        actor,
        contract_id,
        outcome="sign",
        choices={"document_sha256": body.document_sha256},
    )


@router.post("/contracts/{contract_id}/decline-signature")
async def decline_signature(
    contract_id: IdPath,
    body: DeclineSignatureRequest,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
) -> TaskAnswer:
    """Refuse to sign, with the reason: the contract lapses and its lines go back to award."""
    return await _decide_signature(
        platform, request, actor, contract_id, outcome="decline", comment=body.reason
    )
