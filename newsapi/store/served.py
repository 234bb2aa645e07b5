"""The store's serving-side entry: loading the promoted pair as a starting server should.

The serving layer reaches the store only through this module.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from newsapi.model.artifact import Artifact, ArtifactError, load_artifact
from newsapi.settings import MODEL_FILENAME
from newsapi.store.catalog import ModelStore
from newsapi.store.layout import MODELS, StoreError

log = logging.getLogger(__name__)


def load_served(
    model_path: str | os.PathLike[str], *, allow_version_mismatch: bool = False
) -> tuple[Artifact, str | None]:
    """Load the promoted model at ``model_path`` the way a starting server should.

    Beside a store, a pair left inconsistent by a crash is repaired first; if the promoted
    pair still cannot be loaded, the last good promoted model of the store is served instead
    (an entry whose folder, manifest version and bytes agree: :meth:`StoredModel.verify
    <newsapi.store.layout.StoredModel.verify>`).
    Returns the artifact and, when it is not the model that was promoted, one line saying why.
    Without a store (or with nothing good in it) the loader's own error is raised.
    """
    path = Path(model_path)
    store = ModelStore(path.parent)
    if path.name != MODEL_FILENAME or not store.models.is_dir():
        return load_artifact(path, allow_version_mismatch=allow_version_mismatch), None
    before, note = store.served_version(), None
    try:
        note = store.repair()
    except (OSError, StoreError) as exc:  # a read-only deployment (or log): serve, unrepaired
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
