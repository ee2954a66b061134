"""A deadline on every call the API makes to Temporal, whichever route makes it.

Without ``rpc_timeout`` a call waits as long as the server (or a dropped connection) lets it: one
stuck frontend would hold every request that reached it, and their places in the API's admission
queue (api.shedding). Routes may still pass a shorter deadline of their own (the live-status
queries do); a call without one gets the API's default here, an update the longer one, since the
server holds its start until the handler has run. A call past its deadline raises
``RPCTimeoutOrCancelledError``, which api.errors answers 503 with ``Retry-After``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from temporalio.client import (
    CancelWorkflowInput,
    Client,
    DescribeWorkflowInput,
    FetchWorkflowHistoryEventsInput,
    Interceptor,
    OutboundInterceptor,
    QueryWorkflowInput,
    SignalWorkflowInput,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    StartWorkflowUpdateWithStartInput,
    TerminateWorkflowInput,
    WorkflowExecutionDescription,
    WorkflowHandle,
    WorkflowHistoryEventAsyncIterator,
    WorkflowUpdateHandle,
)


class RpcDeadlines(Interceptor):
    """Gives each call without a deadline the API's default (``call``) or the update one."""

    def __init__(self, *, call: timedelta, update: timedelta) -> None:
        self.call = call
        self.update = update

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Deadlines(next, self)


class _Deadlines(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, deadlines: RpcDeadlines) -> None:
        super().__init__(next)
        self._call = deadlines.call
        self._update = deadlines.update

    def _bounded(self, input: Any, default: timedelta) -> Any:
        return input if input.rpc_timeout is not None else replace(input, rpc_timeout=default)

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        return await super().start_workflow(self._bounded(input, self._call))

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        return await super().query_workflow(self._bounded(input, self._call))

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        await super().signal_workflow(self._bounded(input, self._call))

    async def describe_workflow(self, input: DescribeWorkflowInput) -> WorkflowExecutionDescription:
        return await super().describe_workflow(self._bounded(input, self._call))

    def fetch_workflow_history_events(
        self, input: FetchWorkflowHistoryEventsInput
    ) -> WorkflowHistoryEventAsyncIterator:
        return super().fetch_workflow_history_events(self._bounded(input, self._call))

    async def cancel_workflow(self, input: CancelWorkflowInput) -> None:
        await super().cancel_workflow(self._bounded(input, self._call))

    async def terminate_workflow(self, input: TerminateWorkflowInput) -> None:
        await super().terminate_workflow(self._bounded(input, self._call))

    async def start_workflow_update(
        self, input: StartWorkflowUpdateInput
    ) -> WorkflowUpdateHandle[Any]:
        return await super().start_workflow_update(self._bounded(input, self._update))

    async def start_update_with_start_workflow(
        self, input: StartWorkflowUpdateWithStartInput
    ) -> WorkflowUpdateHandle[Any]:
        return await super().start_update_with_start_workflow(self._bounded(input, self._update))


def with_deadlines(client: Client, *, call: timedelta, update: timedelta) -> Client:
    """The same connection and converter, every call bounded."""
    config = client.config()
    config["interceptors"] = [*config["interceptors"], RpcDeadlines(call=call, update=update)]
    return Client(**config)
