"""A spawned pool whose process died is renewed by the caller that met it, once."""

from __future__ import annotations

import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from stack.process_pools import SpawnedPool


def test_a_broken_pool_is_renewed_once_and_works_again() -> None:
    pool = SpawnedPool()
    assert pool.executor() == (None, 0)
    pool.use(1)
    try:
        broken, count = pool.executor()
        assert broken is not None and count == 1
        with pytest.raises(BrokenProcessPool):
            broken.submit(os._exit, 1).result()
        pool.renew(broken)
        fresh, _ = pool.executor()
        assert fresh is not None and fresh is not broken
        pool.renew(broken)  # a second caller that met the same broken pool
        assert pool.executor()[0] is fresh
        assert fresh.submit(abs, -3).result() == 3
    finally:
        pool.stop()
    assert pool.executor() == (None, 0)
