"""The prediction log's figures computed with the answers: the same records as the writer's
own measurement, whichever path produced them.

The lean path hands each text it computes to the log with its figures (its decision values,
tokens and unknown tokens, :meth:`Predictor.categories_figured`); the writer measures only
the texts that come without them (cache hits, scikit-learn's answers). These tests hold the
two to the same values, exactly, for every classifier the project trains, and check that the
service hands the figures along where it computed the texts.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from newsapi.model.artifact import Artifact
from newsapi.model.params import CLASSIFIER_KINDS
from newsapi.serving.cache import entry_keys
from newsapi.serving.metrics import Metrics
from newsapi.serving.predictor import Predictor, prepare
from newsapi.serving.predlog import PredictionLog, read_log
from newsapi.serving.service import Classifier
from newsapi.settings import PredictionLogSettings, Settings
from tests.support import train_tiny
from tests.support.corpora import mixed_sentences, tiny_corpus

#: one by one (up to four texts a call) and as a matrix (more), short and long, a text
#: without any token, one without a known token, and repeated unknown tokens
TEXTS = [
    *mixed_sentences(9, seed=11),
    "",
    "zzqx unknownword only",
    "zzqx zzqx zzqx and the rocket",
    " ".join(mixed_sentences(30, seed=12)),
]


@pytest.fixture(scope="module", params=sorted(CLASSIFIER_KINDS))
def predictor_of_kind(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[str], Predictor]:
    folder = tmp_path_factory.mktemp(request.param)
    artifact = train_tiny(folder / "model.joblib", classifier=request.param)
    predictor = prepare(artifact.pipeline)
    assert predictor.inference == "lean"
    return artifact.target_names, predictor


def binary_predictor() -> tuple[list[str], Predictor]:
    """A two-class LinearSVC: one decision column, the margin is its absolute value."""
    corpus = tiny_corpus()
    pairs = [(t, y) for t, y in zip(corpus.train_texts, corpus.train_labels, strict=True) if y < 2]
    pipeline = make_pipeline(TfidfVectorizer(), LinearSVC())
    pipeline.fit([t for t, _ in pairs], [y for _, y in pairs])
    predictor = prepare(pipeline)
    assert predictor.lean is not None
    assert predictor.lean.by_sign
    return corpus.target_names[:2], predictor


def assert_figures_measure_like_the_writer(names: list[str], predictor: Predictor) -> None:
    expected = predictor.measure(names, TEXTS)  # what the writer computes for a text alone
    for size in (1, 2, 4, 5, len(TEXTS)):
        for start in range(0, len(TEXTS), size):
            texts = TEXTS[start : start + size]
            categories, figures = predictor.categories_figured(names, texts)
            assert categories == predictor.categories(names, texts)  # the same answers
            assert figures is not None
            # exactly: the same floats, not close ones
            assert predictor.measured(names, figures) == expected[start : start + size]


def test_the_figures_give_the_writers_own_measures_for_every_classifier(
    predictor_of_kind: tuple[list[str], Predictor],
) -> None:
    names, predictor = predictor_of_kind
    assert_figures_measure_like_the_writer(names, predictor)
    kinds = {kind for _, _, kind, _, _ in predictor.measure(names, TEXTS)}
    has_probabilities = predictor.lean is not None and predictor.lean.probabilities is not None
    assert kinds == {"probability" if has_probabilities else "margin"}


def test_a_binary_margin_model_too() -> None:
    names, predictor = binary_predictor()
    assert_figures_measure_like_the_writer(names, predictor)


def test_the_figures_count_tokens_and_unknown_tokens_as_the_vectorizer_does(
    predictor_of_kind: tuple[list[str], Predictor],
) -> None:
    names, predictor = predictor_of_kind
    vectorizer = predictor.pipeline[0]
    analyze, vocabulary = vectorizer.build_analyzer(), vectorizer.vocabulary_
    for size in (1, len(TEXTS)):  # one by one, and as a matrix
        _, figures = predictor.categories_figured(names, TEXTS[:size])
        assert figures is not None
        for text, (_, tokens, unknown) in zip(TEXTS, figures, strict=False):
            words = analyze(text)
            assert tokens == len(words)
            assert unknown == sum(word not in vocabulary for word in words)


def test_scikit_learn_answers_come_without_figures(tiny_model: Artifact) -> None:
    predictor = Predictor(tiny_model.pipeline, None, "not compiled, for the test")
    names = tiny_model.target_names
    categories, figures = predictor.categories_figured(names, TEXTS)
    assert figures is None
    assert categories == predictor.categories(names, TEXTS)


def written(folder: Path, submit: Any) -> list[dict[str, Any]]:
    """The rows a log writes for what ``submit(log)`` hands it, without their times."""
    log = PredictionLog(PredictionLogSettings(prediction_log_dir=folder), Metrics())
    log.start()
    submit(log)
    log.stop()
    return [{k: v for k, v in row.items() if k != "time"} for row in read_log(folder).to_pylist()]


@pytest.mark.parametrize("kind", ["multinomial_nb", "linear_svc"])
def test_a_record_is_the_same_whichever_path_produced_it(kind: str, tmp_path: Path) -> None:
    artifact = train_tiny(tmp_path / "model.joblib", classifier=kind)
    predictor, names, version = prepare(artifact.pipeline), artifact.target_names, "v1"
    categories, figures = predictor.categories_figured(names, TEXTS)
    assert figures is not None
    keys = entry_keys(version, TEXTS)

    def calls(log: PredictionLog, given: list[Any] | None, one_by_one: bool) -> None:
        spans = [(i, i + 1) for i in range(len(TEXTS))] if one_by_one else [(0, len(TEXTS))]
        for start, end in spans:
            log.submit("predictions", f"r{start}", version, predictor, names, TEXTS[start:end],
                       categories[start:end], keys[start:end],
                       figures=None if given is None else given[start:end])  # fmt: skip

    # the writer measuring every text; every text handed with its figures, one call per text
    # and one call for all; half of them as cache hits (no figures), the rest computed, one
    # call per text and one call for all
    mixed = [None if i % 2 else figure for i, figure in enumerate(figures)]
    measured = written(tmp_path / "measured", lambda log: calls(log, None, True))
    assert measured == written(tmp_path / "handed", lambda log: calls(log, figures, True))
    assert measured == written(tmp_path / "mixed", lambda log: calls(log, mixed, True))
    together = written(tmp_path / "together", lambda log: calls(log, figures, False))
    assert together == [{**row, "request_id": "r0"} for row in measured]
    # one call of them all, half with figures: the call keeps its texts for the writer
    mixed_together = written(tmp_path / "mixed-together", lambda log: calls(log, mixed, False))
    assert mixed_together == together


def test_the_service_hands_the_figures_of_the_texts_it_computed(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    """With the log on, a text the lean path computed (on the event loop, in a micro-batch
    or in a large call's chunks) carries its figures; a memory-tier hit carries none (the
    writer measures it); with the log off, nothing is computed for it."""
    names = tiny_model.target_names

    async def main(log_on: bool) -> None:
        values: dict[str, Any] = {"model_path": tiny_model.path, "cache_dir": tmp_path / "cache",
                                  "bulk_process": False}  # fmt: skip
        if log_on:
            values["prediction_log_dir"] = tmp_path / "log"
        classifier = Classifier(Settings.of(**values), Metrics())
        await classifier.start()
        try:
            predictor = classifier.served()[1]
            await classifier.clear_cache()
            alone = await classifier.predict("the rocket reached orbit")  # on the event loop
            classifier.activity.begin()
            classifier.activity.begin()  # others in flight: the micro-batcher
            batched = await classifier.predict("the pasta was cooked")
            classifier.activity.end()
            classifier.activity.end()
            hit = await classifier.predict("the rocket reached orbit")
            many = await classifier.predict_many(["the rocket reached orbit", *TEXTS])
        finally:
            await classifier.stop()
        assert hit.cached
        assert hit.figures is None
        if not log_on:
            assert alone.figures is None
            assert batched.figures is None
            assert many.figures is None
            return
        for found, text in ((alone, "the rocket reached orbit"), (batched, "the pasta was cooked")):
            assert found.figures is not None
            assert not found.cached
            assert predictor.measured(names, [found.figures]) == predictor.measure(names, [text])
        assert many.figures is not None
        assert many.figures[0] is None  # a memory hit
        given = many.figures[1:]
        assert all(figure is not None for figure in given)
        assert predictor.measured(names, given) == predictor.measure(names, TEXTS)  # type: ignore[arg-type]

    asyncio.run(main(log_on=True))
    asyncio.run(main(log_on=False))


def test_a_sampled_call_keeps_the_figures_of_the_texts_it_chose(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    predictor, names, version = prepare(tiny_model.pipeline), tiny_model.target_names, "v1"
    texts = mixed_sentences(60, seed=13)
    categories, figures = predictor.categories_figured(names, texts)
    assert figures is not None

    def measured(log: PredictionLog) -> None:
        log.submit("predictions", "r", version, predictor, names, texts, categories)

    expected = {row["digest"]: row for row in written(tmp_path / "all", measured)}
    random.seed(5)
    settings = PredictionLogSettings(
        prediction_log_dir=tmp_path / "half", prediction_log_sample=0.5
    )
    log = PredictionLog(settings, Metrics())
    log.start()
    # keys left to the writer for one call, given for the other
    log.submit("predictions", "r", version, predictor, names, texts[:30], categories[:30],
               None, figures=figures[:30])  # fmt: skip
    log.submit("predictions", "r", version, predictor, names, texts[30:], categories[30:],
               entry_keys(version, texts[30:]), figures=figures[30:])  # fmt: skip
    log.stop()
    rows = [{k: v for k, v in row.items() if k != "time"}
            for row in read_log(tmp_path / "half").to_pylist()]  # fmt: skip
    assert 10 < len(rows) < 50
    assert rows == [expected[row["digest"]] for row in rows]
