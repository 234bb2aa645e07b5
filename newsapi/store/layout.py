"""What the store is made of: its folders, its entries, and how they reach the disk.

Layout, under the artifacts folder::

    newsgroups_model.joblib, newsgroups_model.json   the promoted model (what the API serves)
    models/<model_version>/                           one complete entry per stored run
        newsgroups_model.joblib, newsgroups_model.json, confusion_matrix.png,
        card.md, card.html, notebooks/ (executed notebooks and their HTML)
    models/promotions.jsonl                           every promotion and rollback, appended
    models/.incoming-<pid>-*/                         a write in progress (:mod:`.staging`)
    failed/                                           executed notebooks of failed runs (last few)
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsapi.errors import NewsapiError
from newsapi.model.artifact import STORE_FOLDER, VERSION_LENGTH, sha256_bytes
from newsapi.settings import MODEL_FILENAME

MODELS = STORE_FOLDER
LOG_NAME = "promotions.jsonl"
FAILED = "failed"
VERSION_RE = re.compile(rf"^[0-9a-f]{{{VERSION_LENGTH}}}$")


class StoreError(NewsapiError):
    """A store operation cannot be done; the message says what exists and what to do."""


@dataclass(frozen=True)
class StoredModel:
    """One entry of the store: its folder and its manifest."""

    path: Path
    manifest: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.manifest["model_version"])

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILENAME

    @property
    def created_at(self) -> str:
        return str(self.manifest.get("created_at", ""))

    def verify(self) -> None:
        """Refuse an entry whose model file does not match its manifest's sha256."""
        try:
            data = self.model_path.read_bytes()
        except OSError as exc:
            raise StoreError(f"store entry {self.version} has no readable model ({exc})") from None
        if sha256_bytes(data) != self.manifest["sha256"]:
            raise StoreError(
                f"store entry {self.version} does not match its manifest's sha256 "
                f"(damaged or edited); delete {self.path} or retrain it with `newsapi train`"
            )


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a rename into it) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Make every file under ``folder`` and the folder itself durable."""
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(folder)
