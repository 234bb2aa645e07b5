"""Which model scores: the promoted one, or a store entry by version prefix (the lookup and the
refusals of ``newsapi promote``), loaded only after its bytes match its manifest's sha256."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsapi.errors import NewsapiError
from newsapi.model.artifact import ChecksumMismatchError, load_artifact, sha256_bytes
from newsapi.serving.predictor import prepare
from newsapi.store.catalog import ModelStore


@dataclass(frozen=True)
class ScoringModel:
    """A verified, loaded model, ready to predict as the server predicts (its
    :class:`~newsapi.serving.predictor.Predictor`), and the file it came from."""

    pipeline: Any
    predictor: Any
    target_names: list[str]
    manifest: dict[str, Any]
    path: Path

    @property
    def sha256(self) -> str:
        return str(self.manifest["sha256"])

    @property
    def version(self) -> str:
        return self.sha256[:12]

    def payload(self) -> bytes:
        """The model file's bytes, checked against the sha256 they were loaded with (what a
        Dask worker receives, and verifies again before unpickling)."""
        data = self.path.read_bytes()
        if sha256_bytes(data) != self.sha256:
            raise ChecksumMismatchError(
                f"model file {self.path} changed while scoring; run the command again"
            )
        return data


def choose_model(artifacts: Path, version: str | None) -> ScoringModel:
    """The model ``version`` (a unique prefix) of the store in ``artifacts``, or the promoted
    one; its checksum verified before it is unpickled, and warmed up as a server's is."""
    store = ModelStore(artifacts)
    if version is not None:
        entry = store.resolve(version)
        entry.verify()
        path = entry.model_path
    else:
        served = store.served_version()
        if served is None:
            raise NewsapiError(
                f"no promoted model in {artifacts}; train one with `newsapi train`, or choose "
                "a stored one with --model VERSION (see `newsapi runs`)"
            )
        # the store's entry never changes, the promoted pair may be replaced while we score
        entry_or_none = store.get(served)
        path = entry_or_none.model_path if entry_or_none else store.served_path
    artifact = load_artifact(path)
    predictor = prepare(artifact.pipeline)
    return ScoringModel(
        artifact.pipeline, predictor, artifact.target_names, artifact.manifest, path
    )
