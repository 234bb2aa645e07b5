"""Cross-worker signalling: a token in the cache folder that changes when any worker clears it.

Workers share the disk tier but each keeps its own memory tier; a worker that empties the
disk tier writes a new token, and the others, noticing it, drop their memory tier too.
"""

from __future__ import annotations

import uuid
from pathlib import Path

GENERATION_FILE = ".generation"


class ClearSignal:
    """Announces and notices clears of the shared cache folder."""

    def __init__(self, location: Path) -> None:
        self.path = Path(location) / GENERATION_FILE
        self._seen = self._read()

    def _read(self) -> str | None:
        try:
            return self.path.read_text()
        except OSError:
            return None

    def announce(self) -> None:
        """Tell every worker (this one included, already done) that the folder was cleared.

        Raises OSError when the folder cannot be written."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(uuid.uuid4().hex)
        self._seen = self._read()

    def cleared_elsewhere(self) -> bool:
        """True once after another worker announced a clear."""
        token = self._read()
        if token == self._seen:
            return False
        self._seen = token
        return True
