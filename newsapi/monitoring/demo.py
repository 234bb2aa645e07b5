"""A demo prediction log, for the notebook's committed run and for trying the report without a
server: test posts of the model's own categories, then posts of other newsgroups.

The records are made by the log writer's own functions (:func:`~newsapi.serving.predlog.
record.measure`, :class:`~newsapi.serving.predlog.Record`, :func:`~newsapi.serving.predlog.
files.write_file`) under the served model; only the clock is simulated: one post every
:data:`SPACING` from :data:`START`, so that the same inputs give the same log, times
included, and the notebook's outputs can be checked by nbval.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsapi.model.artifact import Artifact
from newsapi.model.data import NEWSGROUPS, load_newsgroups
from newsapi.model.params import TrainingParameters
from newsapi.serving.cache.keys import entry_keys
from newsapi.serving.predictor import Predictor, prepare
from newsapi.serving.predlog import Record, read_log
from newsapi.serving.predlog.feedback import Feedback, as_table, feedback_folder
from newsapi.serving.predlog.feedback import file_name as feedback_file
from newsapi.serving.predlog.files import file_name, write_file, write_table
from newsapi.serving.predlog.record import measure

START = datetime(2026, 1, 5, tzinfo=UTC)
SPACING = timedelta(minutes=2)
FILE_RECORDS = 200  #: records per file, as a writer rotating by size would cut them
#: the demo labels one in this many of its posts, this long after the answer
FEEDBACK_EVERY = 3
FEEDBACK_DELAY = timedelta(minutes=1)
#: newsgroups the book's four categories do not include, for the drifted part
OTHER_NEWSGROUPS = ("rec.autos", "sci.med")


def write_demo_log(
    folder: Path,
    artifact: Artifact,
    texts: Sequence[str],
    *,
    keep_text: bool = True,
    predictor: Predictor | None = None,
) -> int:
    """Log ``texts`` in order as ``artifact`` answers them, one every :data:`SPACING` from
    :data:`START`, into ``folder`` (files of :data:`FILE_RECORDS` records); the records
    written. ``keep_text``: as ``NEWSAPI_PREDICTION_LOG_TEXT``."""
    predictor = predictor or prepare(artifact.pipeline)
    texts = list(texts)
    names, version = artifact.target_names, artifact.model_version
    categories = predictor.categories(names, texts)
    measures = measure(predictor, names, texts)
    digests = entry_keys(version, texts)
    records = [
        Record(
            time=START + SPACING * i,
            request_id=f"demo-{i:06d}",
            model_version=version,
            endpoint="prediction",
            category=category,
            score_kind=m.score_kind,
            score=m.score,
            runner_up=m.runner_up,
            text_chars=len(text),
            text_tokens=m.tokens,
            oov_share=m.oov_share,
            digest=digest,
            trace_id=None,
            text=text if keep_text else None,
        )
        for i, (text, category, m, digest) in enumerate(
            zip(texts, categories, measures, digests, strict=True)
        )
    ]
    stamp = START.strftime("%Y%m%dT%H%M%S")
    for sequence, first in enumerate(range(0, len(records), FILE_RECORDS), start=1):
        write_file(folder, file_name(stamp, 0, sequence), records[first : first + FILE_RECORDS])
    return len(records)


def write_demo_feedback(folder: Path, labels: Sequence[str]) -> int:
    """Feedback on the demo log in ``folder``: one in :data:`FEEDBACK_EVERY` of its first
    ``len(labels)`` records labelled ``labels[i]`` by request id, :data:`FEEDBACK_DELAY`
    after its answer, as ``POST /feedback`` records it; the records written."""
    columns = ["time", "request_id", "model_version", "category", "digest"]
    rows = read_log(folder).select(columns).to_pylist()[: len(labels)]
    records = [
        Feedback(
            row["time"] + FEEDBACK_DELAY,
            row["request_id"],
            row["digest"],
            None,
            labels[i],
            row["model_version"],
            row["category"],
        )
        for i, row in enumerate(rows)
        if i % FEEDBACK_EVERY == 0
    ]
    name = feedback_file(START.strftime("%Y%m%dT%H%M%S"), 0, 1)
    write_table(feedback_folder(folder), name, as_table(records))
    return len(records)


def other_posts(artifact: Artifact, data_home: str | os.PathLike[str] | None = None) -> list[str]:
    """Test posts of :data:`OTHER_NEWSGROUPS` (those the model was not trained on), read as
    its own corpus was (the same parts removed); none for a model of another corpus."""
    params = TrainingParameters.build(artifact.manifest["parameters"])
    groups = [name for name in OTHER_NEWSGROUPS if name not in artifact.target_names]
    if params.dataset != NEWSGROUPS or not groups:
        return []
    return load_newsgroups(groups, params.remove, data_home, params.random_state).test_texts
