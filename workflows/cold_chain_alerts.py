"""A cold trip's alerts while under way: a task for the people who can still act, one per event.

Each assessment of the trip (``activities.cold_chain``) lists the runs outside the range, the
runs inside its warning band and the loggers gone silent. Four things open a task for the
carrier's logistics (the supplier's when the order has no carrier), escalated to the platform's
logistics if nobody acknowledges it within ``ACKNOWLEDGE_WITHIN``:

- a pre-alert: a logger inside the warning band, or outside the range but not yet for the
  profile's single tolerance (there is still time to act);
- an excursion: outside the range for the tolerance, or past a critical limit;
- a silent logger: no reading for longer than the profile allows;
- and, for an excursion or a silence, the buyer and the supplier are notified.

A run is keyed by its logger, kind and start, so the readings that keep coming during the same
excursion never open a second task. Tasks are asked beside the trip's loop (the trip does not
wait for people); a run that continues as new hands the open ones over (``OpenAlert``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.cold_chain import Assessment, LoggerFigures, OpenAlert, RunView
    from contracts.common import OPERATOR_ORG_ID, Role
    from contracts.tasks import NotifyInput, TaskSpec
    from workflows.human_tasks import Abandoned, HumanTaskWorkflow, process_key

ALERT_TASK = "cold_chain_alert"
ACKNOWLEDGE_WITHIN = timedelta(minutes=30)


def _minutes(seconds: int) -> str:
    hours, minutes = divmod(max(seconds, 0) // 60, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _figures(logger: LoggerFigures | None, now: datetime) -> str:
    if logger is None:
        return ""
    parts = [f"readings {logger.readings}"]
    if logger.min_celsius is not None:
        parts.append(f"min {logger.min_celsius} °C, max {logger.max_celsius} °C")
    if logger.mkt_celsius is not None:
        parts.append(f"MKT {logger.mkt_celsius} °C")
    parts.append(f"out of range {_minutes(logger.time_out_of_range_s)}")
    parts.append(f"stability budget left {_minutes(logger.budget_left_s)}")
    if logger.breach_at is not None and logger.breach_kind:
        what = (
            "the stability budget is gone"
            if logger.breach_kind == "budget"
            else "the range is left"
        )
        seconds = int((logger.breach_at - now).total_seconds())
        # The trend runs from the last reading, which may be older than now.
        when = f"in {_minutes(seconds)}" if seconds > 0 else "already"
        parts.append(f"at this rate {what} {when} ({logger.breach_at:%H:%M} UTC)")
    return "; ".join(parts)


class Alerts(HumanTaskWorkflow):
    """The alert tasks of ``workflows.cold_chain.ColdChainWorkflow``."""

    def __init__(
        self, *, responder_org_id: str, order_id: str, watchers: tuple[str, ...], chart: str
    ) -> None:
        super().__init__()
        self._responder_org_id = responder_org_id
        self._subject_order_id = order_id
        self._watchers = watchers
        self._chart = chart
        self._alerted: set[str] = set()
        self._open_alerts: dict[str, OpenAlert] = {}
        self._alert_tasks: list[asyncio.Task[None]] = []
        self._closing = False

    def abandoned(self) -> bool:
        return self._closing

    def raise_alerts(
        self,
        assessment: Assessment,
        now: datetime,
        *,
        trip_start: datetime,
        watching_since: datetime,
        silence_allowed: Mapping[str, int],
    ) -> None:
        """Open a task for every new alert the assessment shows (module docstring);
        ``silence_allowed``: each zone's allowed silence in seconds."""
        figures = {x.logger_id: x for x in assessment.loggers}
        for run in assessment.warnings:
            if run.ongoing:
                self._alert(
                    f"warning:{run.logger_id}:{run.start.isoformat()}",
                    "预警 Pre-alert",
                    f"logger {run.logger_id} is inside the warning band ({run.side} side) since "
                    f"{run.start:%H:%M} UTC, {run.peak_celsius} °C at worst. Act before the "
                    "range is left.",
                    figures.get(run.logger_id),
                    notify=False,
                    now=now,
                )
        for run in assessment.runs:
            if run.is_excursion or run.critical:
                self._alert(
                    f"excursion:{run.logger_id}:{run.start.isoformat()}",
                    "温度偏离 Excursion",
                    _run_text(run, "critical limit passed" if run.critical else "excursion"),
                    figures.get(run.logger_id),
                    notify=True,
                    now=now,
                )
            elif run.ongoing:
                self._alert(
                    f"outside:{run.logger_id}:{run.start.isoformat()}",
                    "预警 Pre-alert",
                    _run_text(run, "outside the range, not yet an excursion"),
                    figures.get(run.logger_id),
                    notify=False,
                    now=now,
                )
        for logger in assessment.loggers:
            since = logger.last_reading_at or trip_start
            allowed = timedelta(seconds=silence_allowed.get(logger.zone, 900))
            if now - max(since, watching_since) <= allowed:
                continue
            self._alert(
                f"silence:{logger.logger_id}:{since.isoformat()}",
                "记录仪静默 Logger silent",
                f"logger {logger.logger_id} has sent nothing since {since:%Y-%m-%d %H:%M} UTC "
                f"({_minutes(int((now - since).total_seconds()))}). Check the logger and the "
                "reefer unit.",
                logger,
                notify=True,
                now=now,
            )

    def _alert(
        self,
        key: str,
        title: str,
        text: str,
        logger: LoggerFigures | None,
        *,
        notify: bool,
        now: datetime,
    ) -> None:
        if key in self._alerted:
            return
        self._alerted.add(key)
        spec = TaskSpec(
            kind=ALERT_TASK,
            role=Role.LOGISTICS,
            org_id=self._responder_org_id,
            subject_type="order",
            subject_id=self._subject_order_id,
            title=f"{title}: {workflow.info().workflow_id.removeprefix('ColdChain:')}",
            summary=f"{text} Figures: {_figures(logger, now)}. Acknowledge with what was done.",
            outcomes=("acknowledge",),
            details={"alert": key, "chart": self._chart},
            escalate_after=ACKNOWLEDGE_WITHIN,
            escalate_to=Role.LOGISTICS,
            escalate_to_org=OPERATOR_ORG_ID,
        )
        self.watch(OpenAlert(step=f"alert:{key}", spec=spec))
        if notify:
            message = f"{title}: {text}"
            for org_id in self._watchers:
                self._alert_tasks.append(asyncio.create_task(self.tell(key, org_id, message)))

    def watch(self, alert: OpenAlert) -> None:
        """Ask the alert's task beside the trip; it stays open until acknowledged."""
        self._open_alerts[alert.step] = alert
        self._alert_tasks.append(asyncio.create_task(self._ask_alert(alert)))

    async def _ask_alert(self, alert: OpenAlert) -> None:
        try:
            decision = await self.ask(alert.step, alert.spec)
        except Abandoned:
            return
        finally:
            self._open_alerts.pop(alert.step, None)
        if decision is not None:
            self.reply(decision, process_status="acknowledged", message="alert acknowledged")

    async def tell(self, key: str, org_id: str, message: str) -> None:
        """Notify an organisation about the trip, once per key."""
        order_id = self._subject_order_id
        await self.notify(
            NotifyInput(
                notification_id=process_key(f"{key}:{org_id}"),
                org_id=org_id,
                role=None,
                kind=ALERT_TASK,
                subject_type="order",
                subject_id=order_id,
                message=f"Order {order_id}: {message}",
            )
        )

    async def close_alerts(self) -> None:
        """The trip is decided: close the alerts nobody acknowledged (as cancelled)."""
        self._closing = True
        await asyncio.gather(*self._alert_tasks)


def _run_text(run: RunView, what: str) -> str:
    return (
        f"logger {run.logger_id} ({run.zone}) {what}: {run.side} the range since "
        f"{run.start:%H:%M} UTC for {_minutes(run.duration_s)}, {run.peak_celsius} °C at worst."
    )
