"""The model card: its figures are the manifest's, and it says how to train the model again."""

from __future__ import annotations

from pathlib import Path

from newsapi.store.catalog import ModelStore
from newsapi.training.card import write_card
from tests.support import store_tiny


def table_rows(markdown: str) -> dict[str, list[str]]:
    """The rows of every table in ``markdown`` as their stripped cells, by their first cell."""
    rows = {}
    for line in markdown.splitlines():
        if line.startswith("|") and not set(line) <= set("|:- "):  # not a separator line
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


def test_model_card_figures_are_the_manifests(tmp_path: Path) -> None:
    entry = store_tiny(ModelStore(tmp_path), 0.5)
    card = (entry.path / "card.md").read_text()
    metrics = entry.manifest["metrics"]
    rows = table_rows(card)
    assert rows["accuracy"] == ["accuracy", str(metrics["accuracy"])]
    assert rows["macro_f1"] == ["macro_f1", str(metrics["macro_f1"])]
    for name, scores in metrics["per_class"].items():
        assert rows[name] == [
            name, str(scores["precision"]), str(scores["recall"]), str(scores["f1"]),
            str(scores["support"]),
        ]  # fmt: skip
    assert entry.version in card
    assert "newsapi train -y 'categories: null' -p alpha 0.5" in card
    assert "![Confusion matrix](confusion_matrix.png)" in card
    assert write_card(entry.path, entry.manifest)["card.md"].decode() == card
    assert "<table>" in (entry.path / "card.html").read_text()
