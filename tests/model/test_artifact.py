"""The artifact contract: round trip, manifest, integrity and version checks."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import joblib
import pytest
import sklearn

from newsapi.model.artifact import (
    Artifact,
    ArtifactError,
    ArtifactNotFoundError,
    ChecksumMismatchError,
    VersionMismatchError,
    load_artifact,
    manifest_path,
    sha256_bytes,
)
from newsapi.model.params import DEFAULTS
from newsapi.settings import MODEL_FILENAME
from tests.support import tiny_corpus, train_tiny


def test_round_trip_predicts_like_the_original(tiny_model: Artifact) -> None:
    loaded = load_artifact(tiny_model.path)
    texts = tiny_corpus().test_texts
    assert list(loaded.pipeline.predict(texts)) == list(tiny_model.pipeline.predict(texts))
    assert loaded.target_names == tiny_model.target_names
    assert loaded.model_version == tiny_model.model_version


def test_file_is_the_books_tuple(tiny_model: Artifact) -> None:
    model, targets = joblib.load(tiny_model.path)
    assert targets == ["cooking", "space", "sport"]
    assert targets[model.predict(["rocket launch to orbit the moon"])[0]] == "space"


def test_manifest_describes_the_file(tiny_model: Artifact) -> None:
    manifest = json.loads(manifest_path(tiny_model.path).read_text())
    digest = sha256_bytes(tiny_model.path.read_bytes())
    assert manifest["sha256"] == digest
    assert manifest["model_version"] == digest[:12]
    assert manifest["model_file"] == MODEL_FILENAME
    assert manifest["target_names"] == ["cooking", "space", "sport"]
    assert manifest["parameters"] == DEFAULTS.model_dump()
    assert set(manifest["metrics"]) == {"accuracy", "macro_f1", "per_class", "confusion_matrix"}
    assert set(manifest["metrics"]["per_class"]["space"]) == {
        "precision",
        "recall",
        "f1",
        "support",
    }
    assert manifest["versions"]["scikit-learn"] == sklearn.__version__
    assert {"python", "joblib"} <= set(manifest["versions"])
    assert manifest["created_at"].endswith("+00:00")
    assert manifest["dataset"]["source"] == "tests"


def test_same_training_gives_the_same_version(tmp_path: Path) -> None:
    first = train_tiny(tmp_path / "a" / MODEL_FILENAME)
    second = train_tiny(tmp_path / "b" / MODEL_FILENAME)
    assert first.model_version == second.model_version
    other = train_tiny(tmp_path / "c" / MODEL_FILENAME, alpha=0.5)
    assert other.model_version != first.model_version


def test_writing_leaves_no_temporary_files(tmp_path: Path) -> None:
    train_tiny(tmp_path / MODEL_FILENAME)
    train_tiny(tmp_path / MODEL_FILENAME, alpha=0.3)  # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        MODEL_FILENAME, "newsgroups_model.json",
    ]  # fmt: skip
    assert load_artifact(tmp_path / MODEL_FILENAME).manifest["parameters"]["alpha"] == 0.3


def test_tampered_file_is_refused_before_unpickling(model_copy: Path, tmp_path: Path) -> None:
    # a pickle that would leave a mark if it were ever loaded
    marker = tmp_path / "pwned"
    evil = f"import pathlib; pathlib.Path({str(marker)!r}).touch()"

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (exec, (evil,))

    joblib.dump(Exploit(), model_copy)
    with pytest.raises(ChecksumMismatchError, match="does not match the sha256"):
        load_artifact(model_copy)
    assert not marker.exists()


def test_truncated_file_is_refused(model_copy: Path) -> None:
    data = model_copy.read_bytes()
    model_copy.write_bytes(data[: len(data) // 2])
    with pytest.raises(ChecksumMismatchError, match="make train"):
        load_artifact(model_copy)


def test_missing_file_and_missing_manifest(model_copy: Path) -> None:
    manifest_path(model_copy).unlink()
    with pytest.raises(ArtifactNotFoundError, match=r"manifest .* is missing"):
        load_artifact(model_copy)
    model_copy.unlink()
    with pytest.raises(ArtifactNotFoundError, match="does not exist; run `make train`"):
        load_artifact(model_copy)


def test_unreadable_manifest(model_copy: Path) -> None:
    manifest_path(model_copy).write_text("{not json")
    with pytest.raises(ArtifactError, match="unreadable"):
        load_artifact(model_copy)


def _pretend_written_by(model_path: Path, version: str) -> None:
    path = manifest_path(model_path)
    manifest = json.loads(path.read_text())
    manifest["versions"]["scikit-learn"] = version
    path.write_text(json.dumps(manifest))


def test_other_scikit_learn_minor_is_refused(model_copy: Path) -> None:
    _pretend_written_by(model_copy, "1.2.2")
    with pytest.raises(VersionMismatchError, match=r"scikit-learn 1\.2\.2"):
        load_artifact(model_copy)


def test_other_scikit_learn_minor_can_be_allowed(
    model_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _pretend_written_by(model_copy, "1.2.2")
    with caplog.at_level(logging.WARNING):
        loaded = load_artifact(model_copy, allow_version_mismatch=True)
    assert loaded.target_names == ["cooking", "space", "sport"]
    assert "written by scikit-learn 1.2.2" in caplog.text


def test_other_patch_release_is_fine(model_copy: Path) -> None:
    major_minor = ".".join(sklearn.__version__.split(".")[:2])
    _pretend_written_by(model_copy, f"{major_minor}.99")
    assert load_artifact(model_copy).target_names == ["cooking", "space", "sport"]
