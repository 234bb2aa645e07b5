"""Feedback read back for the monitor report: the demo's labels, the live accuracy counted from
them per model version, and its sentence (with and without feedback)."""

from __future__ import annotations

from pathlib import Path

from newsapi.model.artifact import Artifact
from newsapi.monitoring.demo import (
    FEEDBACK_DELAY,
    FEEDBACK_EVERY,
    write_demo_feedback,
    write_demo_log,
)
from newsapi.monitoring.feedback import (
    LiveAccuracy,
    accuracy_sentence,
    labelled_texts,
    live_accuracy,
)
from newsapi.serving.predlog import read_log
from newsapi.serving.predlog.feedback import read_feedback
from tests.support import predicted_names, topic_sentences


def test_the_demo_labels_one_post_in_three_and_the_accuracy_counts_them(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    folder = tmp_path / "demo"
    rows = topic_sentences(5, seed=3)  # 15 labelled posts
    texts, labels = [t for t, _ in rows], [label for _, label in rows]
    write_demo_log(folder, tiny_model, texts)
    labels[0] = "sport" if labels[0] != "sport" else "space"  # one answer labelled wrong
    assert write_demo_feedback(folder, labels) == 5
    feedback = read_feedback(folder).to_pylist()
    logged = read_log(folder).to_pylist()
    assert [f["request_id"] for f in feedback] == [
        logged[i]["request_id"] for i in range(0, 15, FEEDBACK_EVERY)
    ]
    assert feedback[0]["time"] == logged[0]["time"] + FEEDBACK_DELAY
    answers = predicted_names(tiny_model, texts)
    right = sum(answers[i] == labels[i] for i in range(0, 15, FEEDBACK_EVERY))
    version = tiny_model.model_version
    assert live_accuracy(folder) == [LiveAccuracy(version, 5, right)]
    assert live_accuracy(folder, "another") == []
    assert accuracy_sentence(live_accuracy(folder)) == (
        f"live accuracy on labelled feedback: {right / 5:.1%} ({right} of 5 labelled answers) "
        f"for model {version}"
    )
    # the demo keeps its texts: every label joins one
    found = labelled_texts(folder)
    assert found.texts == {texts[i]: labels[i] for i in range(0, 15, FEEDBACK_EVERY)}
    assert found.left_out == 0


def test_without_feedback_the_sentence_says_so(tmp_path: Path) -> None:
    assert live_accuracy(tmp_path) == []
    assert accuracy_sentence([]) == (
        "no feedback yet: the live accuracy needs labels sent to POST /feedback"
    )
