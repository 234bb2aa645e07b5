"""A window of a real prediction log (the real writer's thread and files, a tiny model): one
model version, between two times, as arrays; bad folders and times refused in words."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from newsapi.model.artifact import Artifact
from newsapi.monitoring import MonitorError, read_window
from newsapi.monitoring.window import moment
from newsapi.serving.metrics import Metrics
from newsapi.serving.predictor import prepare
from newsapi.serving.predlog import PredictionLog
from newsapi.settings import PredictionLogSettings
from tests.support import mixed_sentences


def write_log(folder: Path, artifact: Artifact, *, keep_text: bool) -> datetime:
    """Two calls of the tiny model and one of another version, 10 ms apart; the time
    between the first call and the others."""
    predictor = prepare(artifact.pipeline)
    names = artifact.target_names
    settings = PredictionLogSettings(prediction_log_dir=folder, prediction_log_text=keep_text)
    log = PredictionLog(settings, Metrics())
    log.start()
    first, second = mixed_sentences(6, seed=11), mixed_sentences(4, seed=12)
    version = artifact.model_version
    log.submit("prediction", "r1", version, predictor, names, first,
               predictor.categories(names, first))  # fmt: skip
    time.sleep(0.01)
    between = datetime.now(UTC)
    time.sleep(0.01)
    log.submit("predictions", "r2", version, predictor, names, second,
               predictor.categories(names, second))  # fmt: skip
    log.submit("prediction", "r3", "0123456789ab", predictor, names, second[:3],
               predictor.categories(names, second[:3]))  # fmt: skip
    log.stop()
    return between


def test_a_window_holds_one_versions_records_as_the_log_wrote_them(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    write_log(tmp_path / "log", tiny_model, keep_text=False)
    window = read_window(tmp_path / "log", tiny_model.model_version)
    assert len(window) == 10
    assert window.log_records == 13
    assert window.other_versions == {"0123456789ab": 3}
    assert window.texts == []  # the default keeps no text
    assert window.score_kind == "probability"
    assert window.start == window.times[0]
    assert window.end == window.times[-1]
    assert ((window.scores > 0) & (window.scores <= 1)).all()
    assert window.text_chars.tolist() == [
        len(t) for t in mixed_sentences(6, seed=11) + mixed_sentences(4, seed=12)
    ]
    assert not np.isnan(window.oov_shares).any()


def test_times_narrow_the_window_and_kept_texts_come_with_it(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    between = write_log(tmp_path / "log", tiny_model, keep_text=True)
    later = read_window(tmp_path / "log", tiny_model.model_version, start=between.isoformat())
    assert len(later) == 4
    assert later.texts == mixed_sentences(4, seed=12)
    assert later.start == between
    assert later.other_versions == {"0123456789ab": 3}
    earlier = read_window(tmp_path / "log", tiny_model.model_version, end=between)
    assert len(earlier) == 6
    assert earlier.other_versions == {}


def test_a_missing_folder_and_bad_times_are_refused_in_words(tmp_path: Path) -> None:
    with pytest.raises(MonitorError, match=r"no prediction log in .*NEWSAPI_PREDICTION_LOG_DIR"):
        read_window(tmp_path / "nowhere", "0123456789ab")
    tmp_path.joinpath("log").mkdir()
    with pytest.raises(MonitorError, match="start: 'yesterday' is not a time; write it as ISO"):
        read_window(tmp_path / "log", "0123456789ab", start="yesterday")
    with pytest.raises(MonitorError, match=r"ends .* before it starts"):
        read_window(tmp_path / "log", "0123456789ab", "2026-12-05T10:00", "2026-12-05T09:00")
    assert len(read_window(tmp_path / "log", "0123456789ab")) == 0


def test_a_time_without_a_zone_is_utc() -> None:
    assert moment("2026-12-05T09:30", "start") == datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
    assert moment(None, "end") is None
