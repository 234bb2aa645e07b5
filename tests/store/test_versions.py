"""A store entry's version is its bytes' sha256 prefix: an entry whose folder name, manifest
``model_version`` and model bytes disagree is never promoted, loaded or repaired from, and the
refusal is one line naming the entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsapi.model.artifact import load_artifact, manifest_path, read_manifest, sha256_bytes
from newsapi.store.catalog import ModelStore, StoredModel
from newsapi.store.served import load_served
from tests.support import newsapi, store_tiny


def rewrite_manifest(entry_folder: Path, **changes: str) -> None:
    manifest_file = manifest_path(entry_folder / "newsgroups_model.joblib")
    manifest = json.loads(manifest_file.read_text())
    manifest.update(changes)
    manifest_file.write_text(json.dumps(manifest, indent=2))


def carry_other_bytes(entry: StoredModel, other: StoredModel) -> None:
    """``entry`` keeps its folder and version but holds ``other``'s model, its manifest's
    sha256 rewritten to match: answers of one model would be served as another's."""
    data = other.model_path.read_bytes()
    entry.model_path.write_bytes(data)
    rewrite_manifest(entry.path, sha256=sha256_bytes(data))


def flip_a_byte(entry: StoredModel) -> None:
    """A byte of the model changed and the manifest's sha256 rewritten to the new bytes."""
    data = bytearray(entry.model_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    entry.model_path.write_bytes(bytes(data))
    rewrite_manifest(entry.path, sha256=sha256_bytes(bytes(data)))


def rename(entry: StoredModel, name: str) -> Path:
    target = entry.path.parent / name
    entry.path.rename(target)
    return target


def other_version(version: str) -> str:
    return ("0" if version[0] != "0" else "1") + version[1:]


@pytest.mark.parametrize(
    "damage",
    ["a flipped byte, sha256 rewritten", "another model's bytes", "folder renamed",
     "folder and model_version renamed"],
)  # fmt: skip
def test_promote_refuses_an_entry_whose_version_is_not_its_bytes(
    tmp_path: Path, damage: str
) -> None:
    store = ModelStore(tmp_path)
    a, b, c = (store_tiny(store, alpha) for alpha in (0.2, 0.5, 0.9))
    store.promote(a.version)
    served = store.served_path.read_bytes(), manifest_path(store.served_path).read_bytes()
    name, asked = b.version, b.version
    if damage == "a flipped byte, sha256 rewritten":
        flip_a_byte(b)
    elif damage == "another model's bytes":
        carry_other_bytes(b, c)
    elif damage == "folder renamed":
        name = other_version(b.version)
        rename(b, name)
    else:
        name = asked = other_version(b.version)
        rewrite_manifest(rename(b, name), model_version=name)
    refused = newsapi("promote", asked, "--artifacts", str(tmp_path))
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith(
        f"newsapi: store entry {name} names another version than its bytes (folder {name}, "
    )
    assert "Traceback" not in refused.stderr
    assert (store.served_path.read_bytes(), manifest_path(store.served_path).read_bytes()) == served
    assert store.promotion_stack() == [a.version]


def test_a_server_start_never_falls_back_to_an_entry_carrying_other_bytes(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    a, b, c = (store_tiny(store, alpha) for alpha in (0.2, 0.5, 0.9))
    store.promote(a.version)
    store.promote(b.version)
    carry_other_bytes(b, c)
    store.served_path.write_bytes(b"truncated by a full disk")
    artifact, note = load_served(store.served_path)
    assert artifact.model_version == a.version
    assert note is not None
    assert a.version in note
    assert load_artifact(store.served_path).model_version == a.version
    assert read_manifest(store.served_path)["model_version"] == a.version


def test_repair_restores_the_served_manifest_only_from_an_entry_that_verifies(
    tmp_path: Path,
) -> None:
    store = ModelStore(tmp_path)
    a, b = (store_tiny(store, alpha) for alpha in (0.2, 0.5))
    store.promote(a.version)
    store.promote(b.version)
    # the served manifest is lost, and b's entry was edited to claim other bytes
    manifest_path(store.served_path).write_text("{}")
    rewrite_manifest(b.path, sha256=sha256_bytes(a.model_path.read_bytes()))
    message = store.repair()
    assert message is not None
    assert f"last good promoted model {a.version}" in message
    artifact, _ = load_served(store.served_path)
    assert artifact.model_version == a.version
    served = read_manifest(store.served_path)
    assert sha256_bytes(store.served_path.read_bytes()) == served["sha256"]
