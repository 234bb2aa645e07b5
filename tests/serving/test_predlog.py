"""The prediction log: a real writer thread writing real Parquet files, read back.

The measures are checked against the served pipeline's own scikit-learn objects (its
vectorizer's analyzer and vocabulary, its predict_proba or decision_function), computed here
independently of the writer's lean path.
"""

from __future__ import annotations

import gc
import logging
import random
import time
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from newsapi.model.artifact import Artifact
from newsapi.serving.cache import entry_key
from newsapi.serving.metrics import Metrics
from newsapi.serving.predictor import Predictor, prepare
from newsapi.serving.predlog import PredictionLog, read_log, schema
from newsapi.serving.predlog.writer import POLL
from newsapi.settings import PredictionLogSettings
from tests.support import train_tiny
from tests.support.corpora import mixed_sentences, tiny_corpus


@pytest.fixture(scope="module")
def served(tiny_model: Artifact) -> tuple[Artifact, Predictor]:
    return tiny_model, prepare(tiny_model.pipeline)


def settings(folder: Path, **values: Any) -> PredictionLogSettings:
    return PredictionLogSettings(prediction_log_dir=folder, **values)


def sample_value(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def submit(log: PredictionLog, served: tuple[Artifact, Predictor], texts: list[str]) -> None:
    artifact, predictor = served
    categories = predictor.categories(artifact.target_names, texts)
    version = artifact.model_version
    keys = [entry_key(version, text) for text in texts]
    log.submit("prediction", "req-1", version, predictor, artifact.target_names, texts,
               categories, keys)  # fmt: skip


def wait_for(condition: Any, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the writer did not get there"
        time.sleep(0.01)


@pytest.mark.parametrize("inference", ["lean", "scikit-learn"])
def test_records_are_written_and_read_back_with_the_models_own_measures(
    served: tuple[Artifact, Predictor], inference: str, tmp_path: Path
) -> None:
    artifact = served[0]
    if inference == "scikit-learn":  # a model the lean path does not compute
        served = (artifact, Predictor(artifact.pipeline, None, "not compiled, for the test"))
    assert served[1].inference == inference
    texts = [*mixed_sentences(6, seed=1), "", "zzqx unknownword only"]
    metrics = Metrics()
    log = PredictionLog(settings(tmp_path / "log"), metrics)
    log.start()
    submit(log, served, texts)
    log.stop()
    table = read_log(tmp_path / "log")
    assert table.schema == schema()
    rows = table.to_pylist()
    assert [row["digest"] for row in rows] == [
        entry_key(artifact.model_version, text) for text in texts
    ]
    vectorizer = artifact.pipeline[0]
    analyze, vocabulary = vectorizer.build_analyzer(), vectorizer.vocabulary_
    proba = artifact.pipeline.predict_proba(texts)
    for text, row, p in zip(texts, rows, proba, strict=True):
        tokens = analyze(text)
        unknown = [token for token in tokens if token not in vocabulary]
        order = np.argsort(-p, kind="stable")
        assert row["request_id"] == "req-1"
        assert row["endpoint"] == "prediction"
        assert row["model_version"] == artifact.model_version
        assert row["category"] == artifact.target_names[order[0]]
        assert row["runner_up"] == artifact.target_names[order[1]]
        assert row["score_kind"] == "probability"
        assert row["score"] == pytest.approx(p.max(), abs=1e-12)
        assert row["text_chars"] == len(text)
        assert row["text_tokens"] == len(tokens)
        assert row["oov_share"] == (len(unknown) / len(tokens) if tokens else None)
        assert row["text"] is None
        assert row["trace_id"] is None
        assert row["time"].tzinfo is not None
    assert rows[-1]["oov_share"] == 1.0  # every token of the last text is unknown
    assert sample_value(metrics, "newsapi_prediction_log_records_total") == len(texts)


def test_a_model_without_probabilities_logs_its_margin(tmp_path: Path) -> None:
    artifact = train_tiny(tmp_path / "svc" / "model.joblib", classifier="linear_svc")
    served = (artifact, prepare(artifact.pipeline))
    texts = mixed_sentences(5, seed=2)
    log = PredictionLog(settings(tmp_path / "log"), Metrics())
    log.start()
    submit(log, served, texts)
    log.stop()
    rows = read_log(tmp_path / "log").to_pylist()
    for row, d in zip(rows, artifact.pipeline.decision_function(texts), strict=True):
        order = np.argsort(-d, kind="stable")
        assert row["score_kind"] == "margin"
        assert row["category"] == artifact.target_names[order[0]]
        assert row["runner_up"] == artifact.target_names[order[1]]
        assert row["score"] == pytest.approx(d[order[0]] - d[order[1]], abs=1e-12)


def test_the_text_is_kept_only_when_asked(
    served: tuple[Artifact, Predictor], tmp_path: Path
) -> None:
    # distinct made-up words: zstd keeps such a short text as literal bytes in the page
    text = "qwertyuiop asdfghjkl zxcvbnm poiuytrewq lkjhgfdsa mnbvcxz"
    for keep, folder in ((False, tmp_path / "off"), (True, tmp_path / "on")):
        values = {"prediction_log_text": True} if keep else {}
        log = PredictionLog(settings(folder, **values), Metrics())
        log.start()
        submit(log, served, [text])
        log.stop()
        raw = b"".join(path.read_bytes() for path in folder.glob("*.parquet"))
        assert (text.encode() in raw) is keep
        assert read_log(folder).column("text").to_pylist() == [text if keep else None]


def test_sampling_draws_per_text(served: tuple[Artifact, Predictor], tmp_path: Path) -> None:
    texts = mixed_sentences(400, seed=3)
    random.seed(7)
    log = PredictionLog(settings(tmp_path / "half", prediction_log_sample=0.5), Metrics())
    log.start()
    submit(log, served, texts)
    log.stop()
    digests = read_log(tmp_path / "half").column("digest").to_pylist()
    version = served[0].model_version
    assert 140 < len(digests) < 260
    assert set(digests) <= {entry_key(version, text) for text in texts}
    log = PredictionLog(settings(tmp_path / "none", prediction_log_sample=0.0), Metrics())
    log.start()
    submit(log, served, texts)
    log.stop()
    assert read_log(tmp_path / "none").num_rows == 0


def test_a_bad_sample_rate_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSAPI_PREDICTION_LOG_SAMPLE", "1.5")
    with pytest.raises(ValidationError, match="prediction_log_sample"):
        PredictionLogSettings()


def test_files_rotate_by_size_and_by_time(
    served: tuple[Artifact, Predictor], tmp_path: Path
) -> None:
    metrics = Metrics()
    log = PredictionLog(settings(tmp_path / "size", prediction_log_file_bytes=500), metrics)
    log.start()
    for seed in range(12):  # one call at a time, so that each drain holds one call
        submit(log, served, mixed_sentences(2, seed=seed))
        wait_for(lambda: log.queued_bytes == 0)
    log.stop()
    files = sorted((tmp_path / "size").glob("*.parquet"))
    assert len(files) >= 4  # 24 records of ~160 bytes, a file per ~500
    assert read_log(tmp_path / "size").num_rows == 24
    assert not list((tmp_path / "size").glob(".*"))  # no partial file left behind

    log = PredictionLog(settings(tmp_path / "time", prediction_log_file_seconds=0.2), Metrics())
    log.start()
    submit(log, served, mixed_sentences(2, seed=99))
    wait_for(lambda: any((tmp_path / "time").glob("*.parquet")))  # before any stop
    log.stop()


def test_the_folder_stays_under_its_byte_bound_oldest_files_first(
    served: tuple[Artifact, Predictor], tmp_path: Path
) -> None:
    folder = tmp_path / "log"
    metrics = Metrics()
    # one record a file: a file is a few kilobytes, mostly Parquet's own metadata
    log = PredictionLog(settings(folder, prediction_log_file_bytes=1), metrics)
    log.start()
    submit(log, served, ["one record"])
    log.stop()
    one_file = next(folder.glob("*.parquet")).stat().st_size
    for path in folder.glob("*.parquet"):
        path.unlink()
    limit = int(3.5 * one_file)
    metrics = Metrics()
    log = PredictionLog(settings(folder, prediction_log_file_bytes=1, prediction_log_bytes=limit),
                        metrics)  # fmt: skip
    log.start()
    for n in range(8):
        submit(log, served, [f"record {n}"])
        wait_for(lambda n=n: sample_value(metrics, "newsapi_prediction_log_records_total") > n)
    log.stop()
    files = sorted(folder.glob("*.parquet"))
    total = sum(path.stat().st_size for path in files)
    assert total <= limit
    assert sample_value(metrics, "newsapi_prediction_log_bytes") == total
    assert [name[-14:-8] for name in (p.name for p in files)] == ["000006", "000007", "000008"]
    assert read_log(folder).num_rows == 3


def test_a_folder_that_cannot_be_written_is_one_log_line_and_a_metric(
    served: tuple[Artifact, Predictor], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # root may write anywhere, but not under a file
    metrics = Metrics()
    log = PredictionLog(settings(blocker / "log", prediction_log_file_bytes=1), metrics)
    log.start()
    with caplog.at_level(logging.WARNING, logger="newsapi.serving.predlog"):
        for n in range(3):
            submit(log, served, [f"text {n}", "another"])
            wait_for(lambda n=n: sample_value(
                metrics, "newsapi_prediction_log_faults_total", kind="write") > n)  # fmt: skip
        log.stop()
    lines = [r for r in caplog.records if r.name == "newsapi.serving.predlog"]
    assert len(lines) == 1
    assert "a-file" in lines[0].getMessage()
    assert sample_value(metrics, "newsapi_prediction_log_dropped_total", reason="fault") == 6
    assert sample_value(metrics, "newsapi_prediction_log_records_total") == 0


def test_a_full_queue_drops_and_counts_and_stop_writes_what_was_queued(
    served: tuple[Artifact, Predictor], tmp_path: Path
) -> None:
    metrics = Metrics()
    # the thread is not started yet, so nothing leaves the queue: two texts fit in 600 bytes
    log = PredictionLog(
        settings(tmp_path / "log", prediction_log_queue_bytes=600,
                 prediction_log_file_seconds=3600.0),
        metrics,
    )  # fmt: skip
    for n in range(5):
        submit(log, served, [f"short text {n}"])
    assert sample_value(metrics, "newsapi_prediction_log_dropped_total", reason="queue") == 3
    log.start()
    log.stop()  # nothing was written yet (an hour per file): stop writes the two queued
    assert read_log(tmp_path / "log").num_rows == 2
    assert log.queued_bytes == 0


def test_reading_an_empty_or_missing_folder_gives_an_empty_table(tmp_path: Path) -> None:
    assert read_log(tmp_path / "nothing").num_rows == 0
    assert read_log(tmp_path / "nothing").schema == schema()


def test_a_two_class_model_logs_its_absolute_decision_value_as_margin(tmp_path: Path) -> None:
    corpus = tiny_corpus()
    pairs = [(t, y) for t, y in zip(corpus.train_texts, corpus.train_labels, strict=True) if y < 2]
    pipeline = make_pipeline(TfidfVectorizer(), LinearSVC())
    pipeline.fit([t for t, _ in pairs], [y for _, y in pairs])
    names = corpus.target_names[:2]
    texts = mixed_sentences(6, seed=4)
    for predictor in (prepare(pipeline), Predictor(pipeline, None, "for the test")):
        folder = tmp_path / predictor.inference
        log = PredictionLog(settings(folder), Metrics())
        log.start()
        categories = predictor.categories(names, texts)
        log.submit("prediction", "r", "v1", predictor, names, texts, categories)
        log.stop()
        rows = read_log(folder).to_pylist()
        decisions = pipeline.decision_function(texts)
        for text, row, d in zip(texts, rows, decisions, strict=True):
            assert row["category"] == names[int(d > 0)]
            assert row["runner_up"] == names[int(d <= 0)]
            assert row["score"] == pytest.approx(abs(d), abs=1e-12)
            assert row["digest"] == entry_key("v1", text)


def test_records_of_models_swapped_while_they_waited_are_measured_by_their_own(
    served: tuple[Artifact, Predictor], tmp_path: Path
) -> None:
    """The records waiting hold the models that answered them, by version, so texts
    answered before and after a reload, taken by the writer together, are each measured by
    the model that answered them (one file, each its own version's measures)."""
    artifact, predictor = served
    other = train_tiny(tmp_path / "svc.joblib", classifier="linear_svc")
    other_predictor = prepare(other.pipeline)
    texts = mixed_sentences(6, seed=5)
    log = PredictionLog(settings(tmp_path / "log"), Metrics())
    for start, (model, lean) in enumerate([(artifact, predictor), (other, other_predictor)] * 2):
        chunk = texts[start : start + 2]
        categories, figures = lean.categories_figured(model.target_names, chunk)
        log.submit("predictions", f"r{start}", model.model_version, lean, model.target_names,
                   chunk, categories, figures=figures)  # fmt: skip
    log.start()  # one take: everything waited together
    log.stop()
    rows = read_log(tmp_path / "log").to_pylist()
    assert [row["request_id"] for row in rows] == ["r0", "r0", "r1", "r1", "r2", "r2", "r3", "r3"]
    for row in rows:
        model = artifact if row["request_id"] in ("r0", "r2") else other
        assert row["model_version"] == model.model_version
        expected = "probability" if model is artifact else "margin"
        assert row["score_kind"] == expected


def test_records_of_many_reloads_waiting_together_are_all_written(
    served: tuple[Artifact, Predictor], tmp_path: Path
) -> None:
    """The records waiting hold the models that answered them, however many reloads came
    while they waited: every record is written, under its own version, none dropped."""
    artifact, predictor = served
    metrics = Metrics()
    log = PredictionLog(settings(tmp_path / "log"), metrics)
    versions = [f"v{n}" for n in range(6)]
    for version in versions:  # six models, as six reloads would give, one record each first
        log.submit_one("prediction", version, version, prepare(artifact.pipeline),
                       artifact.target_names, "a short text", "x")  # fmt: skip
    for version in versions:  # then a call of two texts each
        log.submit("predictions", version, version, predictor, artifact.target_names,
                   ["a short text", "another one"], ["x", "y"])  # fmt: skip
    log.start()
    log.stop()
    rows = read_log(tmp_path / "log").to_pylist()
    assert [row["model_version"] for row in rows] == versions + [v for v in versions for _ in "ab"]
    assert sample_value(metrics, "newsapi_prediction_log_dropped_total", reason="fault") == 0
    assert log.queued_bytes == 0


def test_a_replaced_model_is_let_go_once_its_records_are_written(
    served: tuple[Artifact, Predictor], tmp_path: Path
) -> None:
    """The records waiting hold the models that answered them: a model replaced by a reload
    is let go once the writer has measured its records, while the writer runs, as the
    service lets it go with its last batch; it is not kept until the log stops."""
    artifact, predictor = served
    old = prepare(artifact.pipeline)
    gone = weakref.ref(old)
    log = PredictionLog(settings(tmp_path / "log"), Metrics())
    log.start()
    log.submit("prediction", "r1", "v1", old, artifact.target_names, ["before"], ["x"])
    log.submit("prediction", "r2", "v2", predictor, artifact.target_names, ["after"], ["y"])
    del old
    wait_for(lambda: log.recent.get("r1") is not None)  # measured, held for the next file
    wait_for(lambda: gc.collect() >= 0 and gone() is None)
    log.stop()  # the records written, the writer's thread ended
    assert [row["model_version"] for row in read_log(tmp_path / "log").to_pylist()] == ["v1", "v2"]


def test_a_stopped_log_writes_again_when_started_again(
    served: tuple[Artifact, Predictor], tmp_path: Path
) -> None:
    """stop() ends the writer's thread; start() gives the log a new one that writes as the
    first did (not stopping at its first look, not dropping what waits as past a deadline)."""
    metrics = Metrics()
    log = PredictionLog(settings(tmp_path / "log"), metrics)
    for round_ in range(2):
        log.start()
        submit(log, served, [f"round {round_}", "another text"])
        wait_for(lambda: log.queued_bytes == 0)
        time.sleep(2 * POLL)  # a look or two more: a thread that stopped at once would not
        submit(log, served, [f"round {round_}, later", "and one more"])
        log.stop()
    assert read_log(tmp_path / "log").num_rows == 8
    assert sample_value(metrics, "newsapi_prediction_log_dropped_total", reason="stop") == 0
