"""The model card: its figures are the manifest's, and it says how to train the model again."""

from __future__ import annotations

from pathlib import Path

from newsapi.store.catalog import ModelStore
from newsapi.training.card import write_card
from tests.support import store_tiny


def test_model_card_figures_are_the_manifests(tmp_path: Path) -> None:
    entry = store_tiny(ModelStore(tmp_path), 0.5)
    card = (entry.path / "card.md").read_text()
    metrics = entry.manifest["metrics"]
    assert f"| accuracy |  {metrics['accuracy']}" in card or str(metrics["accuracy"]) in card
    for name, scores in metrics["per_class"].items():
        row = next(line for line in card.splitlines() if line.startswith(f"| {name}") or
                   (line.strip().startswith("|") and f" {name} " in line))  # fmt: skip
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells == [
            name, str(scores["precision"]), str(scores["recall"]), str(scores["f1"]),
            str(scores["support"]),
        ]  # fmt: skip
    assert entry.version in card
    assert "newsapi train -y 'categories: null' -p alpha 0.5" in card
    assert "![Confusion matrix](confusion_matrix.png)" in card
    assert write_card(entry.path, entry.manifest)["card.md"].decode() == card
    assert "<table>" in (entry.path / "card.html").read_text()
