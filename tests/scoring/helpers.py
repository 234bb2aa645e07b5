"""What the scoring tests share: running ``newsapi score`` and reading what it wrote."""

from __future__ import annotations

import json
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from newsapi.model.params import TrainingParameters
from newsapi.store.catalog import ModelStore
from newsapi.training.pipeline import fit
from tests.support import TOPICS, newsapi, tiny_corpus, topic_sentences


@dataclass(frozen=True)
class Store:
    """An artifacts folder: ``promoted`` is served, ``other`` and ``no_scores`` only stored."""

    root: Path
    promoted: str
    other: str
    no_scores: str


def add(store: ModelStore, **values: object) -> str:
    """Train the tiny corpus's model with ``values`` and file it in ``store``; its version."""
    corpus = tiny_corpus()
    parameters = TrainingParameters.build({"categories": None, **values})
    pipeline, metrics = fit(parameters, corpus)
    entry = store.add(
        pipeline,
        corpus.target_names,
        parameters=parameters.model_dump(),
        metrics=metrics,
        dataset=corpus.description,
    )
    return entry.version


def score(
    store: Path, *args: str | Path, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``newsapi score ARGS --artifacts STORE``, to the end."""
    extra = {"cwd": cwd} if cwd else {}
    return newsapi("score", *map(str, args), "--artifacts", str(store), **extra)  # type: ignore[arg-type]


def read_output(path: Path) -> pa.Table:
    """A Parquet, CSV or JSON Lines output (file or folder of parts) as one table."""
    files = sorted(path.glob("part-*")) if path.is_dir() else [path]
    suffix = files[0].suffix
    if suffix == ".parquet":
        return pa.concat_tables([pq.read_table(f) for f in files])
    if suffix == ".csv":
        options = pa_csv.ConvertOptions(strings_can_be_null=True)
        return pa.concat_tables([pa_csv.read_csv(f, convert_options=options) for f in files])
    rows = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    return pa.Table.from_pylist(rows)


def metadata(path: Path) -> dict[str, Any]:
    """The ``newsapi`` record of a Parquet output (its key-value metadata)."""
    first = sorted(path.glob("part-*"))[0] if path.is_dir() else path
    return dict(json.loads(pq.read_schema(first).metadata[b"newsapi"]))


def sentences(count: int, seed: int = 0) -> list[str]:
    """``count`` made-up texts of the tiny corpus's topics."""
    per_topic = -(-count // len(TOPICS))
    rows = topic_sentences(per_topic, seed)
    random.Random(seed).shuffle(rows)
    return [text for text, _ in rows[:count]]


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The refusal of a run that must fail with one line on stderr."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("newsapi: "), lines[0]
    return lines[0]
