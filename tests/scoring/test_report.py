"""``newsapi score --report`` executes 05_score.ipynb over a sample of the input with the model
that scored it, into ``<output name>.report/``: the mix against the training split's, the
confidences and the least confident ids, and never a text of the input."""

from __future__ import annotations

import json
from pathlib import Path

from newsapi.model.params import TrainingParameters
from newsapi.store.catalog import ModelStore
from newsapi.training.pipeline import fit
from newsapi.training.run import corpus_for
from tests.scoring.helpers import score, sentences
from tests.support import topic_sentences, write_csv


def test_the_report_shows_the_sample_by_id_and_no_text(tmp_path: Path) -> None:
    corpus_csv = write_csv(tmp_path / "corpus.csv", topic_sentences(30))
    parameters = TrainingParameters.build({"dataset": str(corpus_csv)})
    corpus = corpus_for(parameters)
    pipeline, metrics = fit(parameters, corpus)
    store = ModelStore(tmp_path / "artifacts")
    entry = store.add(
        pipeline, corpus.target_names, parameters=parameters.model_dump(), metrics=metrics,
        dataset=corpus.description,
    )  # fmt: skip
    store.promote(entry.version)
    texts = sentences(80, seed=3)
    source = write_csv(
        tmp_path / "posts.csv", [(f"doc-{i}", t) for i, t in enumerate(texts)], ("id", "text")
    )
    out = tmp_path / "scores.parquet"
    result = score(store.root, source, "-o", out, "--id-column", "id", "--report", "--sample", "50")
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "scores.report"
    assert result.stdout.strip().splitlines()[-1] == f"report: {folder / '05_score.html'}"
    assert (folder / "05_score.html").is_file()
    cells = json.loads((folder / "05_score.ipynb").read_text())["cells"]
    printed = "".join(
        "".join(output.get("text", "")) for cell in cells for output in cell.get("outputs", [])
    )
    assert f"scored 50 of 50 rows with model {entry.version}; 0 without text" in printed
    assert f"{len(corpus.train_texts)} training documents" in printed
    assert "doc-" in printed  # the least confident documents, by id
    assert not any(text in printed for text in texts)
