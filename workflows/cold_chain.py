"""A temperature-controlled shipment's trip, from pickup to the buyer's disposition.

The order starts it as a child when the carrier reports the pickup, and tells it the delivery.
Loggers post readings to the API in batches; the API stores them and signals this workflow once
per batch (``readings``), never once per reading, with the batch's span and whether any reading
was in the warning band or outside the range. The workflow then has the trip assessed from the
database (``assess_cold_trip``: every rule in ``rules.cold_chain`` over each logger's series),
so duplicate and out-of-order batches change nothing and no reading lives in history:

- a batch with an alarm is assessed at once (an excursion's task opens within seconds);
- quiet batches are assessed at most every ``ROUTINE``, to keep the figures, the budget left and
  the predicted breach current;
- with no batch at all, the workflow wakes when the first logger would exceed its allowed
  silence, and the assessment raises the silence.

Alerts are tasks asked beside the loop (``workflows.cold_chain_alerts``). The run continues as
new past ``history_limit`` events, handing over what it alerted and the tasks still open, so
history stays bounded however long the trip and however dense the readings.

On delivery (``arrived``): the trip is assessed to its end. No excursion, no silence: accepted
automatically. A critical limit passed, the budget exhausted or MKT over the label: quarantined
at once, and the buyer's inspection decides. Otherwise the buyer decides: accept, accept with a
claim, quarantine for inspection, or reject, with the quantities lost
(``rules.cold_chain_claims``); a platform supervisor decides if the buyer has not within
``decide_within``. The decision is recorded with its report PDF, and a claim with its credit
note; the order learns the outcome as this workflow's result.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.cold_chain import (
        ArriveTripInput,
        AssessInput,
        Assessment,
        BeginTripInput,
        ColdChainCarry,
        ColdChainInput,
        ColdChainOutcome,
        DecisionInput,
        DecisionRecord,
        Disposition,
        ReadingsBatch,
        TripArrival,
    )
    from contracts.common import OPERATOR_ORG_ID, Money, Role
    from contracts.fulfilment import ShipmentLine
    from contracts.tasks import DecideTaskInput, TaskDecision, TaskSpec
    from rules.cold_chain_claims import (
        ClaimRefused,
        claim_value,
        liable_party,
        lost_quantities,
    )
    from workflows import policies
    from workflows.cold_chain_alerts import Alerts

ROUTINE = timedelta(minutes=10)
HISTORY_WAKES_PATCH = "cold-chain-history-wakes"
REASSESS_PATCH = "cold-chain-reassess-on-decision"
DISPOSITION_TASK = "cold_chain_disposition"
INSPECTION_TASK = "cold_chain_inspection"
_DISPOSITIONS = tuple(d.value for d in Disposition)
_AFTER_INSPECTION = (
    Disposition.ACCEPT.value,
    Disposition.ACCEPT_WITH_CLAIM.value,
    Disposition.REJECT.value,
)
_GS1 = {
    Disposition.ACCEPT: "sellable_accessible",
    Disposition.ACCEPT_WITH_CLAIM: "sellable_accessible",
    Disposition.REJECT: "destroyed",
}


@workflow.defn
class ColdChainWorkflow(Alerts):
    @workflow.init
    def __init__(self, trip: ColdChainInput) -> None:
        responder = trip.carrier_org_id or trip.supplier_org_id
        super().__init__(
            responder_org_id=responder,
            order_id=trip.order_id,
            watchers=(trip.buyer_org_id, trip.supplier_org_id),
            chart=f"/orders/{trip.order_id}/shipments/{trip.shipment}/temperature/chart.svg",
        )
        carry = trip.carry or ColdChainCarry()
        self._trip = trip
        self._alerted = set(carry.alerted)
        self._arrived_at: datetime | None = carry.arrived_at
        self._batches = carry.batches
        self._runs = carry.runs
        self._unassessed = 0  # batches stored since the last assessment
        self._alarm = False
        self._latest: Assessment | None = None
        self._silence = {zone.zone: zone.max_silence_s for zone in trip.zones}
        self._watching_since = carry.watching_since or workflow.now()
        self._wake_when_full = False

    @workflow.run
    async def run(self, trip: ColdChainInput) -> ColdChainOutcome:
        # Runs from before it wake when the history is full as well (a backlog of batches).
        self._wake_when_full = workflow.patched(HISTORY_WAKES_PATCH)
        if trip.carry is None:
            await policies.run(
                "begin_cold_trip",
                BeginTripInput(trip_id=trip.trip_id, started_at=trip.trip_start, route=trip.route),
            )
        else:
            for alert in trip.carry.open_alerts:
                self.watch(alert)
        if await self._under_way():
            return await self._continue()
        return await self._decide()

    @workflow.signal(name="readings")
    def readings(self, batch: ReadingsBatch) -> None:
        self._batches += 1
        self._unassessed += 1
        self._alarm = self._alarm or batch.alarm

    @workflow.signal(name="arrived")
    def arrived(self, arrival: TripArrival) -> None:
        if self._arrived_at is None:
            self._arrived_at = arrival.at

    @workflow.query
    def figures(self) -> Assessment | None:
        return self._latest

    # -- under way ------------------------------------------------------------------------

    async def _under_way(self) -> bool:
        """Watch the trip until it arrives; True when the run should continue as new first."""
        await self._assess()
        last = workflow.now()
        while self._arrived_at is None:
            if self._history_full():
                return True
            silence = self._next_silence()
            routine = last + ROUTINE if self._unassessed else None
            deadlines = [d for d in (silence, routine) if d is not None]
            timeout = None
            if deadlines:
                timeout = max(min(deadlines) - workflow.now(), timedelta(seconds=1))
            armed = routine is not None
            # Wakes for an alarm, the arrival, a deadline, a first quiet batch (to arm the
            # routine assessment), or a history grown full (a logger uploading a backlog sends
            # batches faster than the routine assessment comes); later quiet batches only count.
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda armed=armed: (
                        self._alarm  # type: ignore[misc]
                        or self._arrived_at is not None
                        or (self._unassessed > 0 and not armed)
                        or (self._wake_when_full and self._history_full())
                    ),
                    timeout=timeout,
                )
            now = workflow.now()
            due = (
                self._alarm
                or (silence is not None and now >= silence)
                or (self._unassessed > 0 and now >= last + ROUTINE)
            )
            if self._arrived_at is None and due:
                await self._assess()
                last = workflow.now()
        return False

    async def _assess(self) -> Assessment:
        self._alarm = False
        self._unassessed = 0
        now = workflow.now()
        assessment = await policies.call(
            "assess_cold_trip",
            AssessInput(
                trip_id=self._trip.trip_id,
                zones=self._trip.zones,
                trip_start=self._trip.trip_start,
                trip_end=self._arrived_at,
                now=now,
            ),
            Assessment,
            policy=policies.DATABASE,
        )
        self._latest = assessment
        workflow.set_current_details(
            f"**Trip** {self._trip.trip_id}: verdict {assessment.verdict}, "
            f"{self._batches} batches, run {self._runs}"
        )
        if not assessment.arrived:
            self.raise_alerts(
                assessment,
                now,
                trip_start=self._trip.trip_start,
                watching_since=self._watching_since,
                silence_allowed=self._silence,
            )
        return assessment

    def _next_silence(self) -> datetime | None:
        """When the first logger would have been silent for longer than its zone allows."""
        if self._latest is None:
            return None
        due = [
            max(logger.last_reading_at or self._trip.trip_start, self._watching_since)
            + timedelta(seconds=self._silence.get(logger.zone, 900) + 1)
            for logger in self._latest.loggers
            if f"silence:{logger.logger_id}:{_since(logger.last_reading_at, self._trip)}"
            not in self._alerted
        ]
        return min(due, default=None)

    def _history_full(self) -> bool:
        info = workflow.info()
        return (
            info.get_current_history_length() >= self._trip.history_limit
            or info.is_continue_as_new_suggested()
        )

    async def _continue(self) -> ColdChainOutcome:
        await workflow.wait_condition(workflow.all_handlers_finished)
        carry = ColdChainCarry(
            alerted=tuple(sorted(self._alerted)),
            open_alerts=tuple(self._open_alerts.values()),
            arrived_at=self._arrived_at,
            watching_since=self._watching_since,
            batches=self._batches,
            runs=self._runs + 1,
        )
        workflow.continue_as_new(self._trip.model_copy(update={"carry": carry}))

    # -- on arrival -----------------------------------------------------------------------

    async def _decide(self) -> ColdChainOutcome:
        trip = self._trip
        arrived_at = self._arrived_at
        if arrived_at is None:  # unreachable: _under_way returns only once arrived
            raise ApplicationError("deciding a trip that has not arrived", non_retryable=True)
        await policies.run(
            "arrive_cold_trip", ArriveTripInput(trip_id=trip.trip_id, arrived_at=arrived_at)
        )
        final = await self._assess()
        decision: TaskDecision | None = None
        quarantined = False
        if final.verdict == "accept":
            disposition = Disposition.ACCEPT
        else:
            if final.verdict == "quarantine":
                quarantined = True
            else:
                decision = await self._ask_buyer(DISPOSITION_TASK, final)
                quarantined = Disposition(decision.outcome) is Disposition.QUARANTINE
                if quarantined:
                    self.reply(decision, process_status="quarantined", message="in quarantine")
            if quarantined:
                decision = await self._ask_buyer(INSPECTION_TASK, final)
            if decision is None:  # unreachable: a buyer task always comes back decided
                raise ApplicationError("no disposition decided", non_retryable=True)
            disposition = Disposition(decision.outcome)
            if workflow.patched(REASSESS_PATCH):
                # The logger may have uploaded what it buffered while people decided: the
                # report states every reading up to the arrival.
                final = await self._assess()
        outcome = await self._record(final, disposition, decision, quarantined=quarantined)
        if decision is not None:
            self.reply(
                decision,
                process_status=disposition.value,
                message=_decided_text(outcome),
            )
        await self.close_alerts()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return outcome

    async def _ask_buyer(self, kind: str, final: Assessment) -> TaskDecision:
        trip = self._trip
        inspection = kind == INSPECTION_TASK
        lines = "; ".join(f"{x.line_id} {x.quantity} {x.unit} {x.description}" for x in trip.lines)
        spec = TaskSpec(
            kind=kind,
            role=Role.BUYER,
            org_id=trip.buyer_org_id,
            subject_type="order",
            subject_id=trip.order_id,
            title=(
                f"{'检验结论 Inspection result' if inspection else '到货处置 Disposition'}: "
                f"{trip.trip_id}"
            ),
            summary=(
                f"Arrived with verdict {final.verdict} ({', '.join(final.reasons) or 'none'}). "
                f"Lines: {lines}. "
                + (
                    "The goods are in quarantine; after inspection decide accept, "
                    "accept_with_claim or reject. "
                    if inspection
                    else "Decide accept, accept_with_claim, quarantine (for inspection) or reject. "
                )
                + 'State the quantities lost as {"lost:<line>": "<qty>"} and, if not the '
                'carrier, who is liable as {"liable": "supplier"}. The temperature report '
                "records the decision."
            ),
            outcomes=_AFTER_INSPECTION if inspection else _DISPOSITIONS,
            details={"chart": self._chart, "trip_id": trip.trip_id},
            escalate_after=trip.decide_within,
            escalate_to=Role.OPS_SUPERVISOR,
            escalate_to_org=OPERATOR_ORG_ID,
        )
        decision = await self.ask(kind, spec, abandonable=False)
        if decision is None:  # no expiry is set, so a decision always comes
            raise ApplicationError(f"{kind} ended undecided", non_retryable=True)
        return decision

    def choices_problem(self, spec: TaskSpec, decision: DecideTaskInput) -> str | None:
        if spec.kind not in (DISPOSITION_TASK, INSPECTION_TASK):
            return super().choices_problem(spec, decision)
        disposition = Disposition(decision.outcome)
        if disposition is Disposition.QUARANTINE:
            return "choices: quarantine takes none" if decision.choices else None
        try:
            lost_quantities(self._trip.lines, decision.choices, disposition)
            liable_party(decision.choices, has_carrier=self._trip.carrier_org_id is not None)
        except ClaimRefused as refused:
            return str(refused)
        return None

    async def _record(
        self,
        final: Assessment,
        disposition: Disposition,
        decision: TaskDecision | None,
        *,
        quarantined: bool,
    ) -> ColdChainOutcome:
        trip = self._trip
        choices = decision.choices if decision is not None else {}
        lost = lost_quantities(trip.lines, choices, disposition)
        claim = None
        liable = None
        liable_org_id = None
        if lost:
            liable = liable_party(choices, has_carrier=trip.carrier_org_id is not None)
            liable_org_id = trip.carrier_org_id if liable == "carrier" else trip.supplier_org_id
            claim = Money(
                amount=claim_value(trip.lines, lost, trip.tax_rate), currency=trip.currency
            )
        record = await policies.call(
            "record_cold_decision",
            DecisionInput(
                trip_id=trip.trip_id,
                order_id=trip.order_id,
                shipment=trip.shipment,
                disposition=disposition,
                quarantined=quarantined,
                automatic=decision is None,
                decided_by=decision.actor if decision is not None else None,
                decided_at=decision.decided_at if decision is not None else workflow.now(),
                comment=decision.comment if decision is not None else "",
                lost=lost,
                shipped=tuple(
                    ShipmentLine(line_id=x.line_id, quantity=x.quantity) for x in trip.lines
                ),
                claim=claim,
                liable=liable,
                liable_org_id=liable_org_id,
                route=trip.route,
                carrier_org_id=trip.carrier_org_id,
                gs1_disposition=_GS1.get(disposition, "non_sellable_other"),
                assessment=final,
            ),
            DecisionRecord,
            policy=policies.DOCUMENT,
        )
        outcome = ColdChainOutcome(
            trip_id=trip.trip_id,
            disposition=disposition,
            lost=lost,
            claim=claim,
            liable_org_id=liable_org_id,
            credit_note_id=record.credit_note_id,
            report_document_id=record.report.document_id,
        )
        # In a fixed order (a set's would change between processes, and replays with it).
        parties = (trip.buyer_org_id, trip.supplier_org_id, self._responder_org_id)
        for org_id in dict.fromkeys(parties):
            await self.tell("decided", org_id, _decided_text(outcome))
        return outcome


def _since(at: datetime | None, trip: ColdChainInput) -> str:
    """Since when a logger is silent: its last reading, or the pickup if it never sent one."""
    return (at or trip.trip_start).isoformat()


def _decided_text(outcome: ColdChainOutcome) -> str:
    text = f"shipment {outcome.trip_id} {outcome.disposition.value}"
    if outcome.lost:
        lost = ", ".join(f"{x.line_id} {x.quantity}" for x in outcome.lost)
        text += f"; lost {lost}"
    if outcome.claim is not None:
        text += f"; claim {outcome.claim.currency} {outcome.claim.amount}"
        text += f" (credit note {outcome.credit_note_id})"
    return text
