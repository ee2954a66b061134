"""A worker process's roles (``worker.py --roles``) and the Worker objects that serve them,
started and stopped together."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AsyncExitStack
from types import TracebackType

from temporalio.worker import Worker, WorkerConfig

from contracts.queues import Role, io_queue

ALL_ROLES = frozenset(Role)


def parse_roles(text: str) -> frozenset[Role]:
    """``"workflows,io"`` → those roles; ``"all"`` or empty → every role; unknown names refused."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if not names or names == ["all"]:
        return ALL_ROLES
    unknown = sorted(set(names) - {role.value for role in Role})
    if unknown:
        known = ", ".join(role.value for role in Role)
        raise ValueError(f"unknown worker role {', '.join(unknown)}: choose from {known}, or all")
    return frozenset(Role(name) for name in names)


class Workers:
    """The Worker objects of one process's roles, started and stopped together."""

    def __init__(self, workers: Sequence[Worker], *, task_queue: str) -> None:
        self.workers = tuple(workers)
        # The workflows' queue: where a caller starts workflows for these workers.
        self.task_queue = task_queue
        self._stack: AsyncExitStack | None = None

    async def __aenter__(self) -> Workers:
        stack = AsyncExitStack()
        try:
            for worker in self.workers:
                await stack.enter_async_context(worker)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.__aexit__(kind, error, trace)

    def config(self) -> WorkerConfig:
        """Where a benchmark's baseline worker starts: the first Worker's configuration (client,
        converter, interceptors, cache) with the I/O Worker's threads."""
        config = self.workers[0].config()
        for worker in self.workers:
            if worker.task_queue == io_queue(self.task_queue):
                io = worker.config()
                config["activity_executor"] = io.get("activity_executor")
                config["max_concurrent_activities"] = io.get("max_concurrent_activities")
        return config

    async def run(self) -> None:
        """Run every worker until one stops (a fatal error or a shutdown)."""
        await asyncio.gather(*(worker.run() for worker in self.workers))
