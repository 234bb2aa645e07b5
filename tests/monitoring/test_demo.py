"""The demo log: the records the real writer makes of the same texts, with a simulated clock,
the same every time (so the notebook's committed outputs can be checked)."""

from __future__ import annotations

from pathlib import Path

from newsapi.model.artifact import Artifact
from newsapi.monitoring.demo import FILE_RECORDS, SPACING, START, write_demo_log
from newsapi.serving.metrics import Metrics
from newsapi.serving.predictor import prepare
from newsapi.serving.predlog import PredictionLog, read_log
from newsapi.settings import PredictionLogSettings
from tests.support import mixed_sentences

MEASURED = ["category", "score_kind", "score", "runner_up", "text_chars", "text_tokens",
            "oov_share", "digest", "text", "model_version"]  # fmt: skip


def test_the_demo_log_holds_what_the_writer_would_log_one_post_every_spacing(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    texts = mixed_sentences(FILE_RECORDS + 30, seed=21)
    assert write_demo_log(tmp_path / "demo", tiny_model, texts) == len(texts)
    assert len(list((tmp_path / "demo").glob("predictions-*.parquet"))) == 2
    demo = read_log(tmp_path / "demo").to_pylist()
    assert [row["time"] for row in demo] == [START + SPACING * i for i in range(len(texts))]

    predictor, names = prepare(tiny_model.pipeline), tiny_model.target_names
    settings = PredictionLogSettings(prediction_log_dir=tmp_path / "real", prediction_log_text=True)
    log = PredictionLog(settings, Metrics())
    log.start()
    log.submit("prediction", "r", tiny_model.model_version, predictor, names, texts,
               predictor.categories(names, texts))  # fmt: skip
    log.stop()
    real = read_log(tmp_path / "real").to_pylist()
    assert [{k: row[k] for k in MEASURED} for row in demo] == [
        {k: row[k] for k in MEASURED} for row in real
    ]


def test_the_demo_log_is_the_same_every_time_and_keeps_texts_only_when_asked(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    texts = mixed_sentences(20, seed=22)
    write_demo_log(tmp_path / "a", tiny_model, texts)
    write_demo_log(tmp_path / "b", tiny_model, texts)
    assert read_log(tmp_path / "a").equals(read_log(tmp_path / "b"))
    write_demo_log(tmp_path / "c", tiny_model, texts, keep_text=False)
    assert set(read_log(tmp_path / "c").column("text").to_pylist()) == {None}
