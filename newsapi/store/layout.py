"""What the store is made of: its folders, its entries, and how they reach the disk.

Layout, under the artifacts folder::

    newsgroups_model.joblib, newsgroups_model.json   the promoted model (what the API serves)
    models/<model_version>/                           one complete entry per stored run
        newsgroups_model.joblib, newsgroups_model.json, confusion_matrix.png,
        card.md, card.html, notebooks/ (executed notebooks and their HTML)
    models/promotions.jsonl                           every promotion and rollback, appended
                                                      (before the switch it records)
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
        return str(self.manifest.get("model_version", self.path.name))

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILENAME

    @property
    def created_at(self) -> str:
        return str(self.manifest.get("created_at", ""))

    def verify(self) -> None:
        """Refuse an entry whose model file does not match its manifest's sha256, or whose
        folder name and manifest ``model_version`` are not that sha256's first
        ``VERSION_LENGTH`` hex digits: the version names the bytes (it feeds the cache keys),
        so a version that another model's bytes could carry is refused, naming the entry."""
        name = self.path.name
        try:
            data = self.model_path.read_bytes()
        except OSError as exc:
            raise StoreError(f"store entry {name} has no readable model ({exc})") from None
        digest = sha256_bytes(data)
        fix = f"delete {self.path} or retrain it with `newsapi train`"
        if digest != self.manifest.get("sha256"):
            raise StoreError(
                f"store entry {name} does not match its manifest's sha256 (damaged or edited); "
                f"{fix}"
            )
        stated = self.manifest.get("model_version")
        if not name == stated == digest[:VERSION_LENGTH]:
            raise StoreError(
                f"store entry {name} names another version than its bytes (folder {name}, "
                f"manifest model_version {stated}, sha256 of the model {digest[:VERSION_LENGTH]}"
                f"...): the version must be the sha256's first {VERSION_LENGTH} hex digits; {fix}"
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
