"""The artifact contract: one joblib file holding ``(pipeline, target_names)`` and a manifest.

``newsgroups_model.joblib`` is exactly what the book's loading code expects
(``model, targets = joblib.load(path)``). Beside it, ``newsgroups_model.json`` records the
file's sha256, a short ``model_version`` derived from it, the training parameters, metrics,
dataset and library versions. Both files are written atomically; loading checks the sha256
before anything is unpickled, because unpickling runs code.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import sklearn

from newsapi.errors import NewsapiError

log = logging.getLogger(__name__)

MANIFEST_FORMAT = 1
VERSION_LENGTH = 12
# where a promoted model's store keeps its entries, beside it: models/<version>/
STORE_FOLDER = "models"
FIX = "run `make train` to write a fresh model"


class ArtifactError(NewsapiError):
    """The model artifact cannot be used; the message names the file and the fix."""


class ArtifactNotFoundError(ArtifactError):
    """No model file (or no manifest) where configuration says it is."""


class ChecksumMismatchError(ArtifactError):
    """The model file is not the one its manifest describes (tampered, truncated, replaced)."""


class VersionMismatchError(ArtifactError):
    """The model was written by another scikit-learn minor version than the one installed."""


@dataclass(frozen=True)
class Artifact:
    """A loaded, verified model with its manifest."""

    pipeline: Any
    target_names: list[str]
    manifest: dict[str, Any]
    path: Path

    @functools.cached_property  # read on every request: sliced once
    def model_version(self) -> str:
        """The first hex digits of the verified sha256: tied to the bytes, not to the text
        of the manifest, so two different models never share cache keys."""
        return str(self.manifest["sha256"][:VERSION_LENGTH])


def manifest_path(model_path: str | os.PathLike[str]) -> Path:
    """Where the manifest of ``model_path`` lives: same name, ``.json``."""
    return Path(model_path).with_suffix(".json")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file readable by its owner only; give it the usual mode
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _drop_memory_addresses(pipeline: Any) -> None:
    """Make the dump depend on the fitted model only, so that the same training gives the
    same bytes, hence the same ``model_version`` (and the prediction cache stays valid).

    scikit-learn's text vectorizers remember ``id(self.stop_words)`` (a memory address, new in
    every process) to skip a re-check; without it they simply check again on first use.
    """
    for step in getattr(pipeline, "steps", [(None, pipeline)]):
        estimator = step[1]
        if getattr(estimator, "_stop_words_id", None) is not None:
            estimator._stop_words_id = None


def save_artifact(
    pipeline: Any,
    target_names: Sequence[str],
    model_path: str | os.PathLike[str],
    *,
    parameters: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    dataset: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Artifact:
    """Dump ``(pipeline, target_names)`` to ``model_path`` and its manifest beside it.

    The model goes first and the manifest second, each by atomic rename; a reader that
    catches the moment between the two sees a checksum mismatch and retries (see
    :func:`load_artifact`).
    """
    path = Path(model_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [str(name) for name in target_names]
    _drop_memory_addresses(pipeline)
    buffer = io.BytesIO()
    joblib.dump((pipeline, names), buffer)
    data = buffer.getvalue()
    digest = sha256_bytes(data)
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "model_file": path.name,
        "sha256": digest,
        "model_version": digest[:VERSION_LENGTH],
        "size_bytes": len(data),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "target_names": names,
        "parameters": dict(parameters or {}),
        "metrics": dict(metrics or {}),
        "dataset": dict(dataset or {}),
        "versions": {
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "joblib": joblib.__version__,
        },
        "git_commit": _git_commit(),
        **dict(extra or {}),
    }
    atomic_write(path, data)
    atomic_write(manifest_path(path), json.dumps(manifest, indent=2).encode())
    log.info("saved model %s (%d bytes) to %s", manifest["model_version"], len(data), path)
    return Artifact(pipeline, names, manifest, path)


def read_manifest(model_path: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of ``model_path``; :class:`ArtifactNotFoundError` when absent or unreadable."""
    path = manifest_path(model_path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactNotFoundError(
            f"model manifest {path} is missing, so model file {model_path} cannot be verified; "
            f"{FIX}"
        ) from None
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"model manifest {path} is unreadable ({exc}); {FIX}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sha256"), str):
        raise ArtifactError(f"model manifest {path} has no sha256; {FIX}")
    return manifest


def _read_verified(path: Path, attempts: int = 3) -> tuple[bytes, dict[str, Any]]:
    """The model file's bytes and a manifest whose sha256 they match."""
    for attempt in range(attempts):
        manifest = read_manifest(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ArtifactNotFoundError(f"model file {path} does not exist; {FIX}") from None
        except OSError as exc:
            raise ArtifactError(f"model file {path} is unreadable ({exc}); {FIX}") from exc
        digest = sha256_bytes(data)
        if digest == manifest["sha256"]:
            return data, manifest
        stored = _stored_manifest(path, digest)
        if stored is not None:  # a promotion between its two renames, or killed there
            return data, stored
        if attempt + 1 < attempts:  # a writer may be between its two renames
            time.sleep(0.05)
    raise ChecksumMismatchError(
        f"model file {path} does not match the sha256 in {manifest_path(path).name} "
        f"(tampered, truncated or replaced without its manifest); refusing to unpickle it; {FIX}"
    )


def _stored_manifest(path: Path, digest: str) -> dict[str, Any] | None:
    """The model store's manifest for bytes ``digest``, when ``path`` is a promoted model."""
    candidate = path.parent / STORE_FOLDER / digest[:VERSION_LENGTH] / path.name
    try:
        manifest = read_manifest(candidate)
    except ArtifactError:
        return None
    return manifest if manifest["sha256"] == digest else None


def load_artifact(
    model_path: str | os.PathLike[str], *, allow_version_mismatch: bool = False
) -> Artifact:
    """Load and verify the model at ``model_path``.

    The file's sha256 must match its manifest before it is unpickled (the bytes hashed are the
    bytes loaded). A model written by another scikit-learn minor version raises
    :class:`VersionMismatchError`, or with ``allow_version_mismatch`` loads with a warning.
    """
    path = Path(model_path)
    if not path.exists():
        raise ArtifactNotFoundError(f"model file {path} does not exist; {FIX}")
    data, manifest = _read_verified(path)
    written = str(manifest.get("versions", {}).get("scikit-learn", "unknown"))
    if _minor(written) != _minor(sklearn.__version__):
        message = (
            f"model file {path} was written by scikit-learn {written}, "
            f"this environment has {sklearn.__version__}"
        )
        if not allow_version_mismatch:
            raise VersionMismatchError(
                f"{message}; retrain with `make train` or install scikit-learn {written}"
            )
        log.warning("%s; loading anyway because version mismatches are allowed", message)
    try:
        loaded = joblib.load(io.BytesIO(data))
        pipeline, target_names = loaded
        names = [str(name) for name in target_names]
    except Exception as exc:  # unpickling can fail in many ways; all mean the same to a user
        raise ArtifactError(f"model file {path} could not be loaded ({exc!r}); {FIX}") from exc
    if (
        manifest.get("model_version", manifest["sha256"][:VERSION_LENGTH])
        != (manifest["sha256"][:VERSION_LENGTH])
    ):
        raise ArtifactError(f"model manifest of {path} names a model_version not its sha256; {FIX}")
    if not hasattr(pipeline, "predict") or names != list(manifest.get("target_names", names)):
        raise ArtifactError(
            f"model file {path} does not hold a (pipeline, target_names) tuple matching its "
            f"manifest; {FIX}"
        )
    return Artifact(pipeline, names, manifest, path)
