"""The model store: every training run kept as plain files, and the promoted (served) pair.

An entry appears whole or not at all: it is written into a staging folder inside ``models/``
(:mod:`.staging`) and renamed into place. A promotion is recorded in the log first
(:mod:`.promotions`), then the promoted pair is replaced file by file, model first; every model
that promotion can write has its manifest in the store, so a reader that catches the moment
between the two renames verifies the bytes against the store's manifest instead
(:func:`newsapi.model.artifact.load_artifact`), and :meth:`ModelStore.repair` (:mod:`.recovery`)
puts the served manifest (and the log) right at the next start. An entry is promoted,
restored or repaired from only when its folder name, its manifest's ``model_version`` and its
bytes' sha256 agree (:meth:`StoredModel.verify`). The folders are described in :mod:`.layout`.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsapi.model.artifact import (
    VERSION_LENGTH,
    Artifact,
    ArtifactError,
    atomic_write,
    manifest_path,
    read_manifest,
    save_artifact,
    sha256_bytes,
)
from newsapi.settings import MODEL_FILENAME
from newsapi.store import recovery
from newsapi.store.layout import (
    FAILED,
    LOG_NAME,
    MODELS,
    VERSION_RE,
    StoredModel,
    StoreError,
    fsync_dir,
    fsync_tree,
)
from newsapi.store.promotions import FAILED_SWITCH, PromotionLog, nothing_to_roll_back
from newsapi.store.staging import discard, staging_folder

log = logging.getLogger(__name__)

__all__ = ["ModelStore", "StoreError", "StoredModel"]


class ModelStore:
    """The store under ``root`` (the artifacts folder)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.models = self.root / MODELS
        self.served_path = self.root / MODEL_FILENAME
        self.log_path = self.models / LOG_NAME
        self.log = PromotionLog(self.log_path)

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
        return sha256_bytes(data)[:VERSION_LENGTH]

    def history(self) -> list[dict[str, Any]]:
        """Every promotion and rollback, oldest first (unreadable lines are skipped)."""
        return self.log.events()

    def promotion_stack(self) -> list[str]:
        """The promoted versions, oldest first, rolled-back ones popped (see
        :meth:`PromotionLog.stack`)."""
        return self.log.stack()

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
        with staging_folder(self.models) as staging:
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
        existing = self.get(staged.version)
        if existing is not None:
            return existing
        with staging_folder(self.models) as staging:
            staging.rmdir()
            shutil.move(str(staged.path), staging)
            artifact = Artifact(None, [], staged.manifest, staging / MODEL_FILENAME)
            return self._commit(staging, artifact)

    def remove(self, version: str) -> None:
        """Delete an entry (refused for the promoted model)."""
        entry = self.resolve(version)
        if entry.version == self.served_version():
            raise StoreError(f"model {entry.version} is promoted; promote another one first")
        discard(entry.path, self.models, entry.version)

    def promote(self, version: str, *, how: str = "promote") -> StoredModel:
        """Serve the entry ``version`` (a unique prefix): record the event in the log, then
        copy the entry's pair over the served pair, model first.

        The record is written ahead of the switch, so that the two succeed or fail together:
        a log that cannot be written refuses the promotion before anything changes (checking
        that it is writable and appending after the switch would leave a window, a disk
        filling up in between, where the switch happens unrecorded); a switch that fails
        after its record marks the record failed; a crash between the two leaves a record
        whose switch never happened, which :meth:`repair` marks failed at the next start.
        """
        with self.locked():
            entry = self.resolve(version)
            entry.verify()
            previous = self.served_version()
            model_bytes = entry.model_path.read_bytes()
            manifest_bytes = manifest_path(entry.model_path).read_bytes()
            self.log.append(entry.version, previous, how)
            try:
                # model first: between the two renames the old manifest sits beside a model
                # whose manifest the store holds, which the loader and repair() both accept
                atomic_write(self.served_path, model_bytes)
                atomic_write(manifest_path(self.served_path), manifest_bytes)
            except OSError as exc:
                raise self._switch_failed(entry, previous, exc) from None
        log.info("promoted model %s (was %s, %s)", entry.version, previous, how)
        return entry

    def rollback(self) -> StoredModel:
        """Serve again the model promoted before the current one."""
        stack = self.promotion_stack()
        if len(stack) < 2:
            raise StoreError(nothing_to_roll_back(self.history(), stack))
        return self.promote(stack[-2], how="rollback")

    def repair(self) -> str | None:
        """Make the served pair and the log consistent after a crash, from the store; say
        what was done.

        A record whose switch a crash stopped is marked failed; a served model whose manifest
        does not match gets its manifest back from its store entry (when that entry
        verifies); a served pair that is missing or unreadable is restored from the last
        promoted entry that verifies. Each record is written before the files it describes.
        Returns a one-line description, or None when the served pair needed nothing.
        """
        return recovery.repair(self)

    def last_good(self, exclude: str | None = None) -> StoredModel | None:
        """The most recently promoted entry that verifies (other than ``exclude``)."""
        return recovery.last_good(self, exclude)

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

    def _switch_failed(self, entry: StoredModel, previous: str | None, exc: OSError) -> StoreError:
        """The error of a promotion whose record was written and whose switch was not (or
        half: the model without its manifest), after marking a switch that did not happen."""
        reason = exc.strerror or str(exc)
        if self.served_version() == entry.version:  # the model renamed, not its manifest
            return StoreError(
                f"model {entry.version} is served, but its manifest could not be written beside "
                f"it ({reason}); it loads with the store's manifest, and the next server start "
                "puts the served manifest right"
            )
        if previous != entry.version:
            with contextlib.suppress(StoreError):
                self.log.append(entry.version, previous, FAILED_SWITCH)
        return StoreError(
            f"could not replace the served model {self.served_path} ({reason}); it still serves "
            f"{previous or 'no model'}, and the promotion of {entry.version} is recorded as failed"
        )

    def _commit(self, staging: Path, artifact: Artifact) -> StoredModel:
        version = str(artifact.manifest["model_version"])
        os.chmod(staging, 0o755)  # noqa: S103  mkdtemp makes it private; entries are plain folders
        fsync_tree(staging)
        target = self.models / version
        try:
            staging.rename(target)
        except OSError:  # another run stored the same bytes first
            existing = self.get(version)
            if existing is None:
                raise
            return existing
        fsync_dir(self.models)
        log.info("stored model %s in %s", version, target)
        return StoredModel(target, artifact.manifest)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock: one promotion, rollback or repair at a time."""
        self.models.mkdir(parents=True, exist_ok=True)
        with (self.models / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
