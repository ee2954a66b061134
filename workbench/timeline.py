"""A process's history as people tell it: what was done, who decided what, what got stuck.

Pure mapping, no I/O (``workbench.timeline_sources`` reads Temporal and the database): Temporal's
history events, the activities still being retried and the process's task rows become dated
lines in both languages. Only what the events carry in the clear is used (event types, activity
and signal names, attempts, times, failure messages): the payloads are encrypted and are never
decoded here, so a page cannot show another party's data from them. Failure messages are the
platform's to read (``show_failures``); a task of another organisation shows what was decided,
not by whom nor why (``TaskFacts.full``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import PendingActivityInfo

from workbench.i18n import Lang, china_time
from workbench.terms import term
from workbench.timeline_words import (
    ACTIVITIES,
    MESSAGES_BY_NAME,
    SYSTEMS,
    TASK_MECHANICS,
    Words,
    duration_words,
    humanise,
)

_FAILURE_CHARS = 300


@dataclass(frozen=True)
class Line:
    """One dated line. ``kind`` names what it is (for the page's marks and tests); ``note`` is
    shown as written (a decider's comment, a failure message); ``href`` links a related page."""

    at: datetime | None
    kind: str
    zh: str
    en: str
    note: str = ""
    href: str = ""
    count: int = 1

    def text(self, lang: str) -> str:
        words = self.zh if lang == "zh" else self.en
        return words if self.count == 1 else f"{words} (×{self.count})"  # noqa: RUF001 - a count, as printed

    @property
    def problem(self) -> bool:
        return self.kind in ("outage", "failed", "retrying", "expired", "ended-badly")


@dataclass(frozen=True)
class TaskFacts:
    """A task row of the process as the timeline tells it. ``full`` when the caller may read
    who decided and why (its own organisation's task, or platform staff)."""

    title: str
    org_name: str
    role: str
    status: str
    created_at: datetime
    escalated_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    decider_name: str | None
    comment: str | None
    full: bool


def _at(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC)


def _activity(name: str) -> Words:
    return ACTIVITIES.get(name) or humanise(name)


def _failure(message: str, show: bool) -> str:
    return message[:_FAILURE_CHARS] if show else ""


def history_lines(events: Sequence[HistoryEvent], *, show_failures: bool) -> list[Line]:
    """The run's steps, retries, deadlines, updates, signals, child processes and its end."""
    scheduled: dict[int, HistoryEvent] = {}
    started: dict[int, HistoryEvent] = {}
    timers: dict[str, HistoryEvent] = {}
    lines: list[Line] = []
    for event in events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            lines.append(Line(_at(event), "started", "流程开始", "The process started"))
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled[event.event_id] = event
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started[event.activity_task_started_event_attributes.scheduled_event_id] = event
        elif kind in _ACTIVITY_ENDS:
            lines.extend(_activity_end(event, scheduled, started, show_failures))
        elif kind == EventType.EVENT_TYPE_TIMER_STARTED:
            timers[event.timer_started_event_attributes.timer_id] = event
        elif kind == EventType.EVENT_TYPE_TIMER_FIRED:
            timers.pop(event.timer_fired_event_attributes.timer_id, None)
            lines.append(Line(_at(event), "deadline", "时限已到", "A deadline passed"))
        elif kind == EventType.EVENT_TYPE_TIMER_CANCELED:
            timers.pop(event.timer_canceled_event_attributes.timer_id, None)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            name = event.workflow_execution_update_accepted_event_attributes.accepted_request
            lines.extend(_message(_at(event), "update", name.input.name))
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            signal = event.workflow_execution_signaled_event_attributes.signal_name
            lines.extend(_message(_at(event), "signal", signal))
        elif kind == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
            child = event.child_workflow_execution_started_event_attributes.workflow_execution
            lines.append(_child(_at(event), child.workflow_id))
        elif kind in _ENDS:
            lines.append(_end(event, show_failures))
    waiting = [
        _at(t) + t.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        for t in timers.values()
    ]
    ended = any(line.kind in ("ended", "ended-badly") for line in lines)
    if waiting and not ended:
        due = min(waiting)
        when = china_time(due)
        lines.append(Line(due, "waiting", f"下一个时限：{when}", f"Next deadline: {when}"))
    return lines


def _activity_end(
    event: HistoryEvent,
    scheduled: dict[int, HistoryEvent],
    started: dict[int, HistoryEvent],
    show_failures: bool,
) -> list[Line]:
    """A finished step, and before it the outage it rode out when it took more than one try."""
    scheduled_id = _scheduled_id(event)
    first = scheduled.get(scheduled_id)
    last = started.get(scheduled_id)
    if first is None:
        return []
    name = first.activity_task_scheduled_event_attributes.activity_type.name
    step = _activity(name)
    lines: list[Line] = []
    attempts = last.activity_task_started_event_attributes.attempt if last is not None else 1
    if last is not None and attempts > 1:
        message = last.activity_task_started_event_attributes.last_failure.message
        outage = outage_line(
            name,
            since=_at(first),
            last_try=_at(last),
            attempts=attempts,
            then=step if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED else None,
        )
        lines.append(replace(outage, note=_failure(message, show_failures)))
    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        if name not in TASK_MECHANICS:
            lines.append(Line(_at(event), "step", step[0], step[1]))
    elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
        pass  # the process no longer needed it: nothing happened
    else:
        failure = (
            event.activity_task_failed_event_attributes.failure.message
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED
            else "timed out"
        )
        lines.append(
            Line(
                _at(event),
                "failed",
                f"步骤失败：{step[0]}",
                f"A step failed: {step[1]}",
                note=_failure(failure, show_failures),
            )
        )
    return lines


def outage_line(
    activity: str, *, since: datetime, last_try: datetime, attempts: int, then: Words | None
) -> Line:
    """ "The regulator did not answer for 1 h 5 min: 14 attempts, then: e-waybill filed"."""
    system = SYSTEMS.get(activity)
    step = _activity(activity)
    span = duration_words(last_try - since)
    outcome_zh = f"随后{then[0]}" if then else "随后放弃"
    outcome_en = f"then: {then[1]}" if then else "then gave up"
    if system is not None:
        zh = f"{system[0]}无响应 {span[0]}，共尝试 {attempts} 次，{outcome_zh}"
        en = f"{system[1]} did not answer for {span[1]}: {attempts} attempts, {outcome_en}"
    else:
        zh = f"“{step[0]}”重试了 {span[0]}，共尝试 {attempts} 次，{outcome_zh}"
        en = f"“{step[1]}” was retried for {span[1]}: {attempts} attempts, {outcome_en}"
    return Line(since, "outage", zh, en)


def pending_lines(
    pending: Iterable[PendingActivityInfo],
    scheduled_at: dict[str, datetime],
    *,
    now: datetime,
    show_failures: bool,
) -> list[Line]:
    """Steps still being retried now: an outage in progress, with its attempts so far."""
    lines: list[Line] = []
    for activity in pending:
        if activity.attempt <= 1:
            continue
        name = activity.activity_type.name
        since = scheduled_at.get(activity.activity_id) or activity.scheduled_time.ToDatetime(
            tzinfo=UTC
        )
        system = SYSTEMS.get(name) or _activity(name)
        span = duration_words(now - since)
        lines.append(
            Line(
                since,
                "retrying",
                f"{system[0]}已 {span[0]} 无响应，已尝试 {activity.attempt} 次，仍在重试",
                f"{system[1]} has not answered for {span[1]}: {activity.attempt} attempts so "
                "far, still trying",
                note=_failure(activity.last_failure.message, show_failures),
            )
        )
    return lines


def task_lines(tasks: Iterable[TaskFacts]) -> list[Line]:
    """Each task: opened, escalated, and decided (outcome, by whom, why) or expired."""
    lines: list[Line] = []
    for task in tasks:
        role = _both(task.role)
        lines.append(
            Line(
                task.created_at,
                "task-opened",
                f"等待 {task.org_name}（{role[0]}）决定：{task.title}",
                f"Waiting for {task.org_name} ({role[1]}) to decide: {task.title}",
            )
        )
        if task.escalated_at is not None:
            lines.append(
                Line(
                    task.escalated_at,
                    "escalated",
                    f"已升级：{task.title}",
                    f"Escalated: {task.title}",
                )
            )
        if task.status == "decided":
            lines.append(_decision(task))
        elif task.status in ("expired", "cancelled"):
            expired = task.status == "expired"
            lines.append(
                Line(
                    task.closed_at,
                    "expired" if expired else "cancelled",
                    f"{'无人决定，已过期' if expired else '已不再需要，已取消'}：{task.title}",
                    f"{'Nobody decided in time' if expired else 'No longer needed'}: {task.title}",
                )
            )
    return lines


def _both(code: str | None) -> Words:
    """A role's or outcome's code in the words of both languages (``workbench.terms``)."""
    return term(Lang.ZH, code), term(Lang.EN, code)


def _decision(task: TaskFacts) -> Line:
    outcome = _both(task.outcome)
    if task.full:
        name = task.decider_name or "—"
        return Line(
            task.closed_at,
            "decision",
            f"{name}（{task.org_name}）决定：{outcome[0]} — {task.title}",
            f"{name} ({task.org_name}) decided: {outcome[1]} — {task.title}",
            note=task.comment or "",
        )
    return Line(
        task.closed_at,
        "decision",
        f"{task.org_name} 决定：{outcome[0]} — {task.title}",
        f"{task.org_name} decided: {outcome[1]} — {task.title}",
    )


def merged(*parts: Iterable[Line]) -> list[Line]:
    """All lines in time order (undated last); the same line repeated back to back is counted
    once (a cold chain's readings arrive every few minutes)."""
    lines = sorted(
        (line for part in parts for line in part),
        key=lambda line: (line.at is None, line.at or datetime.min.replace(tzinfo=UTC)),
    )
    folded: list[Line] = []
    for line in lines:
        previous = folded[-1] if folded else None
        if previous is not None and (previous.kind, previous.en) == (line.kind, line.en):
            folded[-1] = replace(line, count=previous.count + 1)
        else:
            folded.append(line)
    return folded


def _scheduled_id(event: HistoryEvent) -> int:
    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        return event.activity_task_completed_event_attributes.scheduled_event_id
    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        return event.activity_task_failed_event_attributes.scheduled_event_id
    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        return event.activity_task_timed_out_event_attributes.scheduled_event_id
    return event.activity_task_canceled_event_attributes.scheduled_event_id


def _message(at: datetime, kind: str, name: str) -> list[Line]:
    """An update or signal the process received; decisions are told by their tasks."""
    if name == "decide_task":
        return []
    words = MESSAGES_BY_NAME.get(name) or humanise(name)
    return [Line(at, kind, words[0], words[1])]


def _child(at: datetime, workflow_id: str) -> Line:
    return Line(
        at,
        "child",
        f"启动了下一个流程：{workflow_id}",
        f"Started the next process: {workflow_id}",
        href=workflow_id,
    )


def _end(event: HistoryEvent, show_failures: bool) -> Line:
    kind = event.event_type
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        return Line(_at(event), "ended", "流程结束", "The process ended")
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        return Line(
            _at(event), "continued", "流程以新的运行继续", "The process continued as a new run"
        )
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        message = event.workflow_execution_failed_event_attributes.failure.message
        return Line(
            _at(event),
            "ended-badly",
            "流程失败",
            "The process failed",
            _failure(message, show_failures),
        )
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
        reason = event.workflow_execution_terminated_event_attributes.reason
        return Line(
            _at(event),
            "ended-badly",
            "流程被强制终止",
            "The process was terminated",
            _failure(reason, show_failures),
        )
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
        return Line(_at(event), "ended-badly", "流程已取消", "The process was cancelled")
    return Line(_at(event), "ended-badly", "流程超时", "The process timed out")


_ACTIVITY_ENDS = frozenset(
    {
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
    }
)
_ENDS = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }
)
