"""The model store: every training run kept as plain files, and the promoted (served) pair.

Layout, under the artifacts folder::

    newsgroups_model.joblib, newsgroups_model.json   the promoted model (what the API serves)
    models/<model_version>/                           one complete entry per stored run
        newsgroups_model.joblib, newsgroups_model.json, confusion_matrix.png,
        card.md, card.html, notebooks/ (executed notebooks and their HTML)
    models/promotions.jsonl                           every promotion and rollback, appended
    failed/                                           executed notebooks of failed runs (last few)

An entry appears whole or not at all: it is written into a hidden temporary folder inside
``models/`` and renamed into place, so a run killed half-way leaves nothing a reader lists
(the temporary folder is swept by the next write). The promoted pair is replaced file by file,
model first; every model that promotion can write has its manifest in the store, so a reader
that catches the moment between the two renames verifies the bytes against the store's manifest
instead (:func:`newsapi.artifacts.load_artifact`), and :meth:`ModelStore.repair` puts the
served manifest right at the next start.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsapi.artifacts import (
    Artifact,
    ArtifactError,
    atomic_write,
    manifest_path,
    read_manifest,
    save_artifact,
    sha256_bytes,
)
from newsapi.errors import NewsapiError
from newsapi.settings import MODEL_FILENAME

log = logging.getLogger(__name__)

MODELS = "models"
LOG_NAME = "promotions.jsonl"
FAILED = "failed"
INCOMING = ".incoming-"
VERSION_RE = re.compile(r"^[0-9a-f]{12}$")


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


class ModelStore:
    """The store under ``root`` (the artifacts folder)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.models = self.root / MODELS
        self.served_path = self.root / MODEL_FILENAME
        self.log_path = self.models / LOG_NAME

    # reading -------------------------------------------------------------------------------

    def entries(self) -> list[StoredModel]:
        """Every complete entry, newest first."""
        found = []
        if self.models.is_dir():
            for folder in self.models.iterdir():
                if not VERSION_RE.match(folder.name):
                    continue
                try:
                    found.append(StoredModel(folder, read_manifest(folder / MODEL_FILENAME)))
                except ArtifactError:
                    log.warning("store entry %s has no readable manifest; skipped", folder)
        return sorted(found, key=lambda e: (e.created_at, e.version), reverse=True)

    def get(self, version: str) -> StoredModel | None:
        """The entry of exactly ``version``, if stored."""
        folder = self.models / version
        if not VERSION_RE.match(version) or not (folder / MODEL_FILENAME).is_file():
            return None
        try:
            return StoredModel(folder, read_manifest(folder / MODEL_FILENAME))
        except ArtifactError:
            return None

    def resolve(self, prefix: str) -> StoredModel:
        """The entry whose version starts with ``prefix`` (a unique prefix, as in git)."""
        entries = self.entries()
        if not entries:
            raise StoreError(
                f"the store in {self.models} is empty; train a model first with `newsapi train`"
            )
        matches = [e for e in entries if e.version.startswith(prefix.strip().lower())]
        if not prefix.strip() or not matches:
            known = ", ".join(e.version for e in entries[:10])
            raise StoreError(
                f"no stored model matches {prefix!r}; stored: {known} (see `newsapi runs`)"
            )
        if len(matches) > 1:
            names = ", ".join(e.version for e in matches)
            raise StoreError(f"{prefix!r} is ambiguous: {names}; give more characters")
        return matches[0]

    def served_version(self) -> str | None:
        """The version of the model file being served (from its bytes), or None."""
        try:
            data = self.served_path.read_bytes()
        except OSError:
            return None
        return sha256_bytes(data)[:12]

    def history(self) -> list[dict[str, Any]]:
        """Every promotion and rollback, oldest first (unreadable lines are skipped)."""
        try:
            lines = self.log_path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        events = []
        for line in lines:
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict) and "version" in event:
                    events.append(event)
        return events

    def promotion_stack(self) -> list[str]:
        """The promoted versions, oldest first, with rolled-back ones popped: the last one is
        the current model, the one before it is where a rollback goes."""
        stack: list[str] = []
        for event in self.history():
            if event.get("how") == "rollback" and stack:
                stack.pop()
                if not stack or stack[-1] != event["version"]:
                    stack.append(str(event["version"]))
            elif not stack or stack[-1] != event["version"]:
                stack.append(str(event["version"]))
        return stack

    # writing -------------------------------------------------------------------------------

    def add(
        self,
        pipeline: Any,
        target_names: Sequence[str],
        *,
        parameters: Mapping[str, Any],
        metrics: Mapping[str, Any],
        dataset: Mapping[str, Any],
        extra: Mapping[str, Any] | None = None,
        attach: Callable[[Path, dict[str, Any]], Mapping[str, bytes]] | None = None,
    ) -> StoredModel:
        """Store a fitted pipeline with its manifest as one entry, and the files that
        ``attach(folder, manifest)`` returns (name -> bytes: plot, card); return it.

        When the same bytes are already stored (identical parameters in the same environment),
        the existing entry is reused and nothing is written.
        """
        self.models.mkdir(parents=True, exist_ok=True)
        self._sweep_incoming()
        with self._incoming() as staging:
            artifact = save_artifact(
                pipeline,
                target_names,
                staging / MODEL_FILENAME,
                parameters=parameters,
                metrics=metrics,
                dataset=dataset,
                extra=extra,
            )
            existing = self.get(artifact.model_version)
            if existing is not None:
                log.info("model %s is already stored; reusing its entry", existing.version)
                return existing
            for name, data in (attach(staging, artifact.manifest) if attach else {}).items():
                atomic_write(staging / name, data)
            return self._commit(staging, artifact)

    def import_entry(self, staged: StoredModel) -> StoredModel:
        """Move an entry written into another (staging) store into this one, whole."""
        self.models.mkdir(parents=True, exist_ok=True)
        existing = self.get(staged.version)
        if existing is not None:
            return existing
        with self._incoming() as staging:
            staging.rmdir()
            shutil.move(str(staged.path), staging)
            artifact = Artifact(None, [], staged.manifest, staging / MODEL_FILENAME)
            return self._commit(staging, artifact)

    def remove(self, version: str) -> None:
        """Delete an entry (refused for the promoted model)."""
        entry = self.resolve(version)
        if entry.version == self.served_version():
            raise StoreError(f"model {entry.version} is promoted; promote another one first")
        trash = self.models / f"{INCOMING}{entry.version}-removed"
        entry.path.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)

    def promote(self, version: str, *, how: str = "promote") -> StoredModel:
        """Serve the entry ``version`` (a unique prefix): copy its pair over the served pair,
        model first, and append the event to the log."""
        with self._lock():
            entry = self.resolve(version)
            entry.verify()
            previous = self.served_version()
            model_bytes = entry.model_path.read_bytes()
            manifest_bytes = manifest_path(entry.model_path).read_bytes()
            # model first: between the two renames the old manifest sits beside a model whose
            # manifest the store holds, which the loader and repair() both accept
            atomic_write(self.served_path, model_bytes)
            atomic_write(manifest_path(self.served_path), manifest_bytes)
            self._append_log(entry.version, previous, how)
        log.info("promoted model %s (was %s, %s)", entry.version, previous, how)
        return entry

    def rollback(self) -> StoredModel:
        """Serve again the model promoted before the current one."""
        stack = self.promotion_stack()
        if len(stack) < 2:
            raise StoreError(
                "nothing to roll back to: fewer than two models were ever promoted "
                "(see `newsapi runs`, then `newsapi promote VERSION`)"
            )
        return self.promote(stack[-2], how="rollback")

    def repair(self) -> str | None:
        """Make the served pair consistent after a crash, from the store; say what was done.

        A served model whose manifest does not match gets its manifest back from the store;
        a served pair that is missing or unreadable is restored from the last promoted entry
        that verifies. Returns a one-line description, or None when nothing was needed.
        """
        if not self.models.is_dir():
            return None
        with self._lock():
            served = self.served_version()
            try:
                manifest = read_manifest(self.served_path) if served else None
            except ArtifactError:
                manifest = None
            if served and manifest and manifest["sha256"][:12] == served:
                if self.promotion_stack()[-1:] != [served] and self.get(served):
                    self._append_log(served, None, "repair")
                return None
            entry = self.get(served) if served else None
            if entry is not None:
                atomic_write(
                    manifest_path(self.served_path),
                    manifest_path(entry.model_path).read_bytes(),
                )
                self._append_log(entry.version, None, "repair")
                return f"served manifest restored from the store entry of model {entry.version}"
            for version in reversed(self.promotion_stack()):
                candidate = self.get(version)
                if candidate is None:
                    continue
                try:
                    candidate.verify()
                except StoreError:
                    continue
                atomic_write(self.served_path, candidate.model_path.read_bytes())
                atomic_write(
                    manifest_path(self.served_path),
                    manifest_path(candidate.model_path).read_bytes(),
                )
                self._append_log(candidate.version, served, "repair")
                return (
                    f"the promoted model was unusable; restored the last good promoted model "
                    f"{version} from the store"
                )
            return None

    def last_good(self, exclude: str | None = None) -> StoredModel | None:
        """The most recently promoted entry that verifies (other than ``exclude``)."""
        for version in reversed(self.promotion_stack()):
            entry = self.get(version)
            if entry is None or version == exclude:
                continue
            try:
                entry.verify()
            except StoreError:
                continue
            return entry
        return None

    def record_failure(self, notebook: Path, keep: int = 5) -> Path:
        """Keep the executed copy of a failed notebook in ``failed/``, pruned to ``keep``."""
        folder = self.root / FAILED
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = folder / f"{stamp}-{notebook.name}"
        shutil.copyfile(notebook, target)
        kept = sorted(folder.glob("*.ipynb"))
        for old in kept[:-keep]:
            old.unlink(missing_ok=True)
        return target

    # internals -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _incoming(self) -> Iterator[Path]:
        staging = Path(tempfile.mkdtemp(prefix=f"{INCOMING}{os.getpid()}-", dir=self.models))
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _commit(self, staging: Path, artifact: Artifact) -> StoredModel:
        version = str(artifact.manifest["model_version"])
        os.chmod(staging, 0o755)  # noqa: S103  mkdtemp makes it private; entries are plain folders
        _fsync_tree(staging)
        target = self.models / version
        try:
            staging.rename(target)
        except OSError:  # another run stored the same bytes first
            existing = self.get(version)
            if existing is None:
                raise
            return existing
        _fsync_dir(self.models)
        log.info("stored model %s in %s", version, target)
        return StoredModel(target, artifact.manifest)

    def _sweep_incoming(self) -> None:
        """Remove temporary folders whose writer is gone (killed half-way)."""
        for folder in self.models.glob(f"{INCOMING}*"):
            owner = folder.name.removeprefix(INCOMING).split("-")[0]
            if not owner.isdigit() or not _alive(int(owner)) or folder.name.endswith("-removed"):
                shutil.rmtree(folder, ignore_errors=True)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.models.mkdir(parents=True, exist_ok=True)
        with (self.models / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _append_log(self, version: str, previous: str | None, how: str) -> None:
        event = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "version": version,
            "previous": previous,
            "how": how,
        }
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(event) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


def load_served(
    model_path: str | os.PathLike[str], *, allow_version_mismatch: bool = False
) -> tuple[Artifact, str | None]:
    """Load the promoted model at ``model_path`` the way a starting server should.

    Beside a store, a pair left inconsistent by a crash is repaired first; if the promoted
    pair still cannot be loaded, the last good promoted model of the store is served instead.
    Returns the artifact and, when it is not the model that was promoted, one line saying why.
    Without a store (or with nothing good in it) the loader's own error is raised.
    """
    from newsapi.artifacts import load_artifact

    path = Path(model_path)
    store = ModelStore(path.parent)
    if path.name != MODEL_FILENAME or not store.models.is_dir():
        return load_artifact(path, allow_version_mismatch=allow_version_mismatch), None
    before, note = store.served_version(), None
    try:
        note = store.repair()
    except OSError as exc:  # a read-only deployment: serve from the store without writing
        log.warning("cannot repair the promoted model in %s (%s)", store.root, exc)
    if note:
        log.warning("%s", note)
        # only the manifest put right: the promoted model itself serves, nothing to report
        note = note if store.served_version() != before else None
    try:
        return load_artifact(path, allow_version_mismatch=allow_version_mismatch), note
    except ArtifactError as exc:
        entry = store.last_good(exclude=None)
        if entry is None:
            raise
        artifact = load_artifact(entry.model_path, allow_version_mismatch=allow_version_mismatch)
        note = (
            f"the promoted model is unusable ({exc}); serving the last good promoted model "
            f"{entry.version} from the store"
        )
        log.error("%s", note)
        return artifact, note


def stored_entry(model_path: str | os.PathLike[str], version: str) -> str | None:
    """``models/<version>`` when the store beside ``model_path`` holds that model, else None."""
    entry = Path(model_path).parent / MODELS / version
    return f"{MODELS}/{version}" if (entry / MODEL_FILENAME).is_file() else None
