"""The runs table, the comparison of two runs and each run's links, read from the manifests."""

from __future__ import annotations

from pathlib import Path

from newsapi.store.catalog import ModelStore
from newsapi.store.runs import compare, entry_links, runs_table
from newsapi.training.run import train_and_store
from tests.support import TINY_PARAMETERS, store_tiny, tiny_corpus


def test_runs_table_and_compare_read_the_manifests(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    a = store_tiny(store, 0.2)
    b = train_and_store(store, TINY_PARAMETERS.replace(classifier="complement_nb"), tiny_corpus())
    store.promote(b.version)
    rows = runs_table(store, sort_by="created_at")
    assert {row["version"] for row in rows} == {a.version, b.version}
    assert list(rows[0]["parameters"]) == ["classifier", "alpha"]
    assert [row["promoted"] for row in rows if row["version"] == b.version] == [True]
    result = compare(a, b)
    assert result["parameters"] == {
        "classifier": ("multinomial_nb", "complement_nb"),
        "alpha": (0.2, 1.0),
    }
    for name in ("accuracy", "macro_f1"):
        va, vb = a.manifest["metrics"][name], b.manifest["metrics"][name]
        assert result["metrics"][name] == (va, vb, round(vb - va, 6))
    for name, (fa, fb, delta) in result["per_class_f1"].items():
        assert fa == a.manifest["metrics"]["per_class"][name]["f1"]
        assert fb == b.manifest["metrics"]["per_class"][name]["f1"]
        assert delta == round(fb - fa, 6)


def test_entry_links_name_only_files_that_exist(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    entry = store_tiny(store, 0.5)
    links = entry_links(store, entry.version)
    assert links == {"card": f"models/{entry.version}/card.html"}
    assert all((tmp_path / path).is_file() for path in links.values())
