"""Small corpora and models the tests write themselves: three made-up topics, sentences built
from them, a corpus, a trained artifact, and the same rows as a CSV file or a folder."""

from __future__ import annotations

import csv
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsapi.model.artifact import Artifact, save_artifact
from newsapi.model.data import Corpus
from newsapi.model.params import TrainingParameters
from newsapi.training.pipeline import build_pipeline, fit
from tests.support.steps import hold_slow_texts

# Three made-up topics, and sentences built from them: enough for a model that is right on
# clear cases, with no byte of the real corpus.
TOPICS = {
    "space": "rocket orbit launch nasa astronaut moon mars shuttle satellite telescope planet",
    "cooking": "recipe oven flour butter garlic onion bake simmer pasta sauce kitchen",
    "sport": "football goal match referee league striker tennis coach stadium season team",
}
FILLER = [
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "it",
    "that",
    "for",
    "on",
    "with",
    "this",
    "was",
    "we",
]


def topic_sentences(per_topic: int = 30, seed: int = 0) -> list[tuple[str, str]]:
    """(text, label) pairs: each text mixes words of its topic with common filler words."""
    rng = random.Random(seed)
    rows = []
    for label, words in TOPICS.items():
        vocab = words.split()
        for _ in range(per_topic):
            picked = rng.sample(vocab, 4) + rng.sample(FILLER, 4)
            rng.shuffle(picked)
            rows.append((" ".join(picked), label))
    return rows


def overlapping_sentences(per_topic: int = 40, seed: int = 0) -> list[tuple[str, str]]:
    """(text, label) pairs where each text has two words of its topic, two of any topic and
    filler: hard enough that sweep candidates score differently (unlike topic_sentences)."""
    rng = random.Random(seed)
    every = [word for words in TOPICS.values() for word in words.split()]
    rows = []
    for label, words in TOPICS.items():
        own = words.split()
        for _ in range(per_topic):
            picked = rng.sample(own, 2) + rng.sample(every, 2) + rng.sample(FILLER, 5)
            rng.shuffle(picked)
            rows.append((" ".join(picked), label))
    return rows


def mixed_sentences(count: int, seed: int) -> list[str]:
    """``count`` distinct made-up sentences mixing the words of every topic."""
    rng = random.Random(seed)
    words = " ".join(TOPICS.values()).split()
    return [f"{' '.join(rng.sample(words, 6))} {seed} {i}" for i in range(count)]


def tiny_corpus() -> Corpus:
    """:func:`topic_sentences` split in two halves, train and test."""
    rows = topic_sentences()
    names = sorted(TOPICS)
    train = rows[::2]
    test = rows[1::2]
    return Corpus(
        train_texts=[t for t, _ in train],
        train_labels=[names.index(label) for _, label in train],
        test_texts=[t for t, _ in test],
        test_labels=[names.index(label) for _, label in test],
        target_names=names,
        description={"source": "tests", "categories": names},
    )


def predicted_names(artifact: Artifact, texts: list[str]) -> list[str]:
    """The categories ``artifact``'s pipeline gives ``texts``, called directly."""
    return [artifact.target_names[label] for label in artifact.pipeline.predict(texts)]


def train_tiny(model_path: Path, classifier: str = "multinomial_nb", **params: Any) -> Artifact:
    """Fit a small model on :func:`tiny_corpus` and save it as a real artifact."""
    corpus = tiny_corpus()
    parameters = TrainingParameters.build({"classifier": classifier, **params})
    pipeline, metrics = fit(parameters, corpus)
    return save_artifact(
        pipeline,
        corpus.target_names,
        model_path,
        parameters=parameters.model_dump(),
        metrics=metrics,
        dataset=corpus.description,
    )


def train_behind(model_path: Path, first_step: Callable[..., Any]) -> Artifact:
    """The tiny model behind ``first_step`` (a function of :mod:`tests.support.steps`,
    applied to texts)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    corpus = tiny_corpus()
    steps = [step for _, step in build_pipeline().steps]
    pipeline = make_pipeline(FunctionTransformer(first_step), *steps)
    pipeline.fit(corpus.train_texts, corpus.train_labels)
    return save_artifact(pipeline, corpus.target_names, model_path)


def train_slow(model_path: Path) -> Artifact:
    """The tiny model behind a step that holds texts containing "slow"
    (:func:`tests.support.steps.hold_slow_texts`)."""
    return train_behind(model_path, hold_slow_texts)


def write_csv(
    path: Path, rows: list[tuple[str, str]], header: tuple[str, str] = ("text", "label")
) -> Path:
    """``rows`` as a CSV file with a header line."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_folder(root: Path, rows: list[tuple[str, str]]) -> Path:
    """``rows`` as a folder per label holding one text file per row."""
    for i, (text, label) in enumerate(rows):
        (root / label).mkdir(parents=True, exist_ok=True)
        (root / label / f"{i:04d}.txt").write_text(text, encoding="utf-8")
    return root


def hold_environment(marker: Path, seconds: float) -> dict[str, str]:
    """The environment of a run whose model (:func:`train_slow`) holds the "slow" batch for
    ``seconds`` (and can unpickle its step from this checkout's tests package)."""
    from tests.support.files import ROOT

    return {
        "NEWSAPI_TEST_HOLD_MARKER": str(marker),
        "NEWSAPI_TEST_HOLD_SECONDS": str(seconds),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
