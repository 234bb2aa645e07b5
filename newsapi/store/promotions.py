"""The promotion log: every promotion, rollback and repair, appended to ``promotions.jsonl``.

The log is what a rollback reads: the promoted versions as a stack, rolled-back ones popped.
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class PromotionLog:
    """The log file at ``path`` (one JSON object a line, fsynced after each)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, version: str, previous: str | None, how: str) -> None:
        """Record that ``version`` is served now (``how``: promote, rollback or repair)."""
        event = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "version": version,
            "previous": previous,
            "how": how,
        }
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(event) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def events(self) -> list[dict[str, Any]]:
        """Every event, oldest first (unreadable lines are skipped)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        events = []
        for line in lines:
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict) and "version" in event:
                    events.append(event)
        return events

    def stack(self) -> list[str]:
        """The promoted versions, oldest first, with rolled-back ones popped: the last one is
        the current model, the one before it is where a rollback goes."""
        stack: list[str] = []
        for event in self.events():
            if event.get("how") == "rollback" and stack:
                stack.pop()
                if not stack or stack[-1] != event["version"]:
                    stack.append(str(event["version"]))
            elif not stack or stack[-1] != event["version"]:
                stack.append(str(event["version"]))
        return stack
