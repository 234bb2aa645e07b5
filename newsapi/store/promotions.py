"""The promotion log: every promotion, rollback and repair, appended to ``promotions.jsonl``.

The log is what a rollback reads: the promoted versions as a stack, rolled-back ones popped.
It is written ahead of the switch it records (:meth:`ModelStore.promote
<newsapi.store.catalog.ModelStore.promote>`), so a log that cannot be written refuses the
promotion before anything changes, and a recorded switch that then fails is marked ``failed``,
which undoes its record. A crash can leave a torn last line, and an editor or a disk fault a
line that is not UTF-8: each is skipped with one warning, and the next record starts on a
line of its own.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsapi.store.layout import StoreError

log = logging.getLogger(__name__)

#: the ``how`` of a record that undoes the record before it (a switch that did not happen)
FAILED_SWITCH = "failed"


class PromotionLog:
    """The log file at ``path`` (one JSON object a line, fsynced after each)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._warned: set[tuple[int, ...]] = set()

    def append(self, version: str, previous: str | None, how: str) -> None:
        """Record that ``version`` is served now (``how``: promote, rollback, repair, or
        :data:`FAILED_SWITCH` for a recorded switch that did not happen); :class:`StoreError` when
        the log cannot be written (whatever reached the file then is at most a torn line)."""
        event = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "version": version,
            "previous": previous,
            "how": how,
        }
        record = (json.dumps(event) + "\n").encode()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                size = os.fstat(fd).st_size
                # a crash mid-append left a line without its newline: end it, or this record
                # would be glued onto it and be unreadable too
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    record = b"\n" + record
                os.write(fd, record)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StoreError(
                f"cannot write the promotion log {self.path} ({exc.strerror or exc}); nothing "
                "was changed; make it a writable file (or free some space) and try again"
            ) from None

    def events(self) -> list[dict[str, Any]]:
        """Every event, oldest first. Lines that are torn, not UTF-8 or not a record are
        skipped, with one warning naming them (once per reader and set of lines)."""
        try:
            with self.path.open("rb") as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise IsADirectoryError(f"{self.path} is not a regular file")
                # what the file held when opened: an append racing this read waits for next time
                data = handle.read(info.st_size)
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.warning("promotion log %s is unreadable (%s); no promotions read", self.path, exc)
            return []
        events, skipped = [], []
        for number, line in enumerate(data.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line.decode("utf-8"))
            except ValueError:  # UnicodeDecodeError and JSONDecodeError both are
                skipped.append(number)
                continue
            if isinstance(event, dict) and isinstance(event.get("version"), str):
                events.append(event)
            else:
                skipped.append(number)
        if skipped and tuple(skipped) not in self._warned:
            self._warned.add(tuple(skipped))
            shown = ", ".join(map(str, skipped[:10])) + (", ..." if len(skipped) > 10 else "")
            log.warning(
                "promotion log %s: skipped %d unreadable line(s) (torn by a crash, not UTF-8 or "
                "not a record): line %s",
                self.path,
                len(skipped),
                shown,
            )
        return events

    def effective(self) -> list[dict[str, Any]]:
        """The events that took effect: a :data:`FAILED_SWITCH` record removes the record of the
        same version just before it (whose switch did not happen), and itself."""
        kept: list[dict[str, Any]] = []
        for event in self.events():
            if event.get("how") == FAILED_SWITCH:
                if kept and kept[-1]["version"] == event["version"]:
                    kept.pop()
                continue
            kept.append(event)
        return kept

    def stack(self) -> list[str]:
        """The promoted versions, oldest first, with rolled-back ones popped: the last one is
        the current model, the one before it is where a rollback goes."""
        stack: list[str] = []
        for event in self.effective():
            if event.get("how") == "rollback" and stack:
                stack.pop()
                if not stack or stack[-1] != event["version"]:
                    stack.append(str(event["version"]))
            elif not stack or stack[-1] != event["version"]:
                stack.append(str(event["version"]))
        return stack


def nothing_to_roll_back(events: list[dict[str, Any]], stack: list[str]) -> str:
    """Why a rollback has nowhere to go, from the log's ``events`` and promoted ``stack``:
    fewer than two models ever served, or the start of the history reached (with what was
    promoted, oldest first)."""
    served = list(
        dict.fromkeys(
            str(event["version"])
            for event, after in zip(events, [*events[1:], {}], strict=False)
            if FAILED_SWITCH not in (event.get("how"), after.get("how"))
        )
    )
    if len(served) < 2:
        return (
            "nothing to roll back to: fewer than two models were ever promoted "
            "(see `newsapi runs`, then `newsapi promote VERSION`)"
        )
    return (
        f"nothing to roll back to: the start of the promotion history is reached (model "
        f"{stack[-1] if stack else served[0]}); promoted so far, oldest first: "
        f"{', '.join(served)}; serve one again with `newsapi promote VERSION`"
    )
