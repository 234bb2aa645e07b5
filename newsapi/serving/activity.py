"""Whether this worker is busy answering requests: what the disk writer waits on.

The disk tier's writer is Python (joblib), and so are the event loop's HTTP handling and the
model's tokenising: whatever runs holds the GIL, and the others wait. The writer therefore
writes only once the worker has had no request in flight for a moment: a busy worker keeps
its answers in the write queue (bounded in bytes; beyond, dropped and counted) and spends
no time on its disk tier until the load pauses.
"""

from __future__ import annotations

import time


class Activity:
    """Requests in flight in this worker, counted by the request layer's front door
    (:class:`newsapi.http.fastlane.FastLane`), and since when there are none. Counted and
    reset on the event loop; read from the writer's thread (a float and an int: no lock)."""

    def __init__(self) -> None:
        self.in_flight = 0
        self._idle_since = time.monotonic()

    def begin(self) -> None:
        self.in_flight += 1

    def end(self) -> None:
        self.in_flight -= 1
        if not self.in_flight:
            self._idle_since = time.monotonic()

    def quiet_for(self) -> float:
        """Seconds since the last request in flight ended; 0 while one is."""
        if self.in_flight:
            return 0.0
        return time.monotonic() - self._idle_since
