"""How soon a killed worker's activity is given to another: the heartbeat timeout every step has.

Without one, an attempt whose worker died is only retried once its start-to-close timeout passes
(30 s for a database or external step, two minutes for a PDF). With one, the worker beats for
every activity it runs (``activities.liveness``) and the server gives up on a silent worker's
attempt after ``HEARTBEAT_TIMEOUT``, whatever the step. A workflow schedules its activities with
it (``workflows.policies``); the worker beats ``BEATS_PER_TIMEOUT`` times within it.
"""

from __future__ import annotations

from datetime import timedelta

HEARTBEAT_TIMEOUT = timedelta(seconds=15)

# The SDK sends at most one heartbeat each 0.8 of the timeout and keeps the newest pending, so
# beating more often than that only keeps the newest fresh; a few beats leave room for a stalled
# event loop before the server gives up on a live worker.
BEATS_PER_TIMEOUT = 5
