"""Reading one batch ahead of the model: a thread pulls the next batch of a piece while the
caller classifies the current one.

pyarrow reads and decompresses without the GIL, so on a machine with a spare core the input's
reading is done beside the model's arithmetic (pure Python, holding the GIL) instead of between
its batches. The thread holds at most :data:`DEPTH` batches the caller has not taken, plus the
one it is reading: memory holds that many batches more than a loop without it, each at most
:data:`~newsapi.scoring.sources.BATCH_ROWS` rows of one block.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

T = TypeVar("T")

#: batches read and not yet taken, at most
DEPTH = 1
#: how often a reader blocked on a full queue looks whether the caller has stopped (seconds)
POLL_S = 0.05


class _End:
    """The reader's last item: the end of the batches, or the exception that ended them."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def read_ahead(batches: Iterator[T], depth: int = DEPTH) -> Iterator[T]:
    """The items of ``batches`` in order, produced by a thread up to ``depth`` items ahead of
    the caller; an exception raised while reading is raised here, at the item where it came.
    When the caller stops early (an error, Ctrl-C, ``close``), the thread ends before this
    returns and ``batches`` is closed (its files too)."""
    items: queue.Queue[T | _End] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: T | _End) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in batches:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the caller, raised in its thread
            put(_End(exc))
        else:
            put(_End())

    thread = threading.Thread(target=read, name="newsapi-score-read", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        stop.set()
        thread.join()
        if isinstance(batches, Generator):
            batches.close()
