"""Putting the store right after a crash: the served pair and the promotion log made
consistent again, from entries that verify.

A crash can stop a promotion between its record and its switch, or between the model's rename
and its manifest's; :func:`repair` runs at each server start (:mod:`.served`) and mends what
such a crash left, each record written before the files it describes. Only an entry whose
folder name, manifest and bytes agree (:meth:`StoredModel.verify`) is restored from.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from newsapi.model.artifact import (
    VERSION_LENGTH,
    ArtifactError,
    atomic_write,
    manifest_path,
    read_manifest,
)
from newsapi.store.layout import StoredModel, StoreError
from newsapi.store.promotions import FAILED_SWITCH

if TYPE_CHECKING:
    from newsapi.store.catalog import ModelStore

log = logging.getLogger(__name__)


def repair(store: ModelStore) -> str | None:
    """Make the served pair and the log of ``store`` consistent after a crash; say what was
    done (see :meth:`ModelStore.repair <newsapi.store.catalog.ModelStore.repair>`)."""
    if not store.models.is_dir():
        return None
    with store.locked():
        served = store.served_version()
        try:
            manifest = read_manifest(store.served_path) if served else None
        except ArtifactError:
            manifest = None
        if served and manifest and manifest["sha256"][:VERSION_LENGTH] == served:
            _reconcile_log(store, served)
            return None
        entry = verified(store.get(served)) if served else None
        if entry is not None:
            store.log.append(entry.version, None, "repair")
            atomic_write(
                manifest_path(store.served_path),
                manifest_path(entry.model_path).read_bytes(),
            )
            return f"served manifest restored from the store entry of model {entry.version}"
        candidate = last_good(store)
        if candidate is None:
            return None
        store.log.append(candidate.version, served, "repair")
        atomic_write(store.served_path, candidate.model_path.read_bytes())
        atomic_write(
            manifest_path(store.served_path), manifest_path(candidate.model_path).read_bytes()
        )
        return (
            "the promoted model was unusable; restored the last good promoted model "
            f"{candidate.version} from the store"
        )


def last_good(store: ModelStore, exclude: str | None = None) -> StoredModel | None:
    """The most recently promoted entry of ``store`` that verifies (other than ``exclude``)."""
    for version in reversed(store.promotion_stack()):
        if version == exclude:
            continue
        entry = verified(store.get(version))
        if entry is not None:
            return entry
    return None


def verified(entry: StoredModel | None) -> StoredModel | None:
    """``entry`` when its folder, manifest and bytes agree, else None."""
    if entry is None:
        return None
    try:
        entry.verify()
    except StoreError as exc:
        log.warning("%s", exc)
        return None
    return entry


def _reconcile_log(store: ModelStore, served: str) -> None:
    """Make the log's last promoted version the served one: a record written ahead of a
    switch that a crash stopped is marked failed; any other difference (a pair copied by
    hand) is recorded as a repair."""
    stack = store.promotion_stack()
    if stack[-1:] == [served]:
        return
    events = store.log.effective()
    last = events[-1] if events else None
    if (
        last is not None
        and stack
        and last["version"] == stack[-1]
        and last.get("previous") == served
        and last.get("how") in ("promote", "rollback")
    ):
        store.log.append(str(last["version"]), served, FAILED_SWITCH)
        if store.promotion_stack()[-1:] == [served]:
            return
    if verified(store.get(served)) is not None:
        store.log.append(served, None, "repair")
