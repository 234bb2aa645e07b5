"""The lean path gives scikit-learn's answers: the same category as ``predict`` and the same
decision values bit for bit (so ``predict_proba`` within 1e-12), for the five classifiers, on
the whole 20 newsgroups test split, on adversarial texts and across the vectorizer's options;
whatever it does not compute falls back to scikit-learn, and says so."""

from __future__ import annotations

import copy
import itertools
import logging
import random
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import BernoulliNB, ComplementNB, MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

from newsapi.model.artifact import Artifact
from newsapi.model.data import Corpus, load_newsgroups
from newsapi.model.params import CLASSIFIERS, DEFAULTS
from newsapi.serving.lean import NotCompiledError, check, compile_pipeline, disagreements
from newsapi.serving.predictor import Predictor, prepare, scores_of
from newsapi.training.pipeline import build_pipeline
from tests.support import metric, tiny_corpus, train_slow, train_tiny

# The lean path reads the fitted weights, whatever they converged to: a few iterations of
# logistic regression (whose fit dominates these tests' time otherwise) change nothing that is
# tested.
QUICK_ITERATIONS = 10


def fit_behind(
    classifier: str,
    vectorizer: TfidfVectorizer,
    features: Any,
    labels: list[int],
    iterations: int = QUICK_ITERATIONS,
) -> Pipeline:
    """The project's pipeline for ``classifier``, its vectorizer already fitted (``features``
    are the training texts through it), its classifier fitted here."""
    pipeline = build_pipeline(DEFAULTS.replace(classifier=classifier))
    model = pipeline.steps[-1][1]
    if isinstance(model, LogisticRegression):
        model.set_params(max_iter=iterations)
    pipeline.steps[0] = (pipeline.steps[0][0], vectorizer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features, labels)
    return pipeline


def compiled(pipeline: Any) -> Predictor:
    """The predictor a served model gets, which must be the lean one."""
    predictor = prepare(pipeline)
    assert predictor.inference == "lean", predictor.fallback
    return predictor


def agree(pipeline: Any, texts: list[str], features: Any = None) -> None:
    """The lean path answers ``texts`` as scikit-learn does, one by one and as one matrix."""
    predictor = compiled(pipeline)
    assert predictor.lean is not None
    assert disagreements(predictor.lean, pipeline, texts, features) == []


# -- all 20 categories of the 20 newsgroups ---------------------------------------------------
@pytest.fixture(scope="module")
def twenty() -> Corpus:
    return load_newsgroups(categories=None)


@pytest.fixture(scope="module")
def default_models(twenty: Corpus) -> tuple[dict[str, Pipeline], Any]:
    """The five classifiers behind the default vectorizer, fitted on the training split, and
    the test split's features (one vectorizer fit and one transform serve all five)."""
    vectorizer = build_pipeline()[0]
    features = vectorizer.fit_transform(twenty.train_texts)
    models = {
        name: fit_behind(name, vectorizer, features, twenty.train_labels) for name in CLASSIFIERS
    }
    return models, vectorizer.transform(twenty.test_texts)


@pytest.mark.corpus
@pytest.mark.parametrize(
    "classifier",
    [  # the default and a classifier without probabilities in make test; the rest in test-slow
        c if c in ("multinomial_nb", "linear_svc") else pytest.param(c, marks=pytest.mark.slow)
        for c in CLASSIFIERS
    ],
)
def test_every_post_of_the_test_split_gets_scikit_learns_answer(
    classifier: str, twenty: Corpus, default_models: tuple[dict[str, Pipeline], Any]
) -> None:
    models, test_features = default_models
    pipeline = models[classifier]
    assert len(set(twenty.test_labels)) == 20
    agree(pipeline, twenty.test_texts, test_features)


def adversarial_texts(vocabulary: list[str]) -> dict[str, str]:
    rng = random.Random(0)
    long_text = " ".join(rng.choice(vocabulary) for _ in range(20_000))
    return {
        "empty": "",
        "whitespace": " \t\n\r  ",
        "punctuation": "!!! ??? ... --- ;;; (( ))",
        "one-letter words (no token)": "a b c d e f g h",
        "only unknown words": "qzxv wvkqj zzyzx blorptang",
        "only the commonest words": "the of and to in is that it for",
        "one term repeated": "windows " * 5_000,
        "repeated terms": "god jesus " * 300 + "car engine " * 3,
        "unicode": "Ça va? naïve café Zürich Ελληνικά русский 東京 😀 עִבְרִית ﬁle ǅ",
        "combining and invisible": "cafe\u0301 a\u200bb \ufeffstart\u00a0nbsp",
        "digits": '1993 486dx 1.44mb 3.5" 555-1234 0x1F',
        "mixed case": "NASA nasa NaSa SPACE Shuttle sHuTtLe",
        "a NUL character": "null\x00byte graphics",
        "100,000 characters": (long_text * 2)[:100_000],
    }


@pytest.mark.corpus
@pytest.mark.parametrize("classifier", CLASSIFIERS)
def test_adversarial_texts_get_scikit_learns_answer(
    classifier: str, default_models: tuple[dict[str, Pipeline], Any]
) -> None:
    pipeline = default_models[0][classifier]
    texts = adversarial_texts(list(pipeline[0].vocabulary_))
    assert len(texts["100,000 characters"]) == 100_000
    agree(pipeline, list(texts.values()))
    for text in texts.values():  # alone too: the path a single request takes
        agree(pipeline, [text])


# -- the vectorizer's options ----------------------------------------------------------------
@pytest.fixture(scope="module")
def sample(twenty: Corpus) -> Corpus:
    """A slice of every group: training a grid of pipelines on it takes seconds."""
    return Corpus(
        twenty.train_texts[::15],
        twenty.train_labels[::15],
        twenty.test_texts[::25],
        twenty.test_labels[::25],
        twenty.target_names,
    )


OPTIONS = ("ngram_max", "min_df", "max_df", "sublinear_tf", "max_features")
LEVELS = ((1, 2), (1, 2), (1.0, 0.5), (False, True), (None, 3_000))
GRID = list(itertools.product(*(range(2) for _ in OPTIONS)))
# A quarter of the grid (the 4th option's level is the 1st's xor the 2nd's, the 5th's the
# 1st's xor the 3rd's) in which every pair of options meets in all four combinations of their
# levels; the other 24 points run with `slow`.
QUARTER = [g for g in GRID if g[3] == g[0] ^ g[1] and g[4] == g[0] ^ g[2]]


def grid_params(levels: tuple[int, ...]) -> dict[str, Any]:
    return {
        name: LEVELS[i][level] for i, (name, level) in enumerate(zip(OPTIONS, levels, strict=True))
    }


def grid_id(levels: tuple[int, ...]) -> str:
    return ",".join(f"{name}={value}" for name, value in grid_params(levels).items())


def check_grid_point(levels: tuple[int, ...], sample: Corpus) -> None:
    params = DEFAULTS.replace(**grid_params(levels))
    vectorizer = build_pipeline(params)[0]
    features = vectorizer.fit_transform(sample.train_texts)
    test_features = vectorizer.transform(sample.test_texts)
    for classifier in CLASSIFIERS:
        pipeline = fit_behind(classifier, vectorizer, features, sample.train_labels, iterations=3)
        agree(pipeline, sample.test_texts, test_features)


@pytest.mark.corpus
@pytest.mark.parametrize("levels", QUARTER, ids=grid_id)
def test_the_vectorizer_options_grid_gets_scikit_learns_answers(
    levels: tuple[int, ...], sample: Corpus
) -> None:
    check_grid_point(levels, sample)


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.parametrize("levels", [g for g in GRID if g not in QUARTER], ids=grid_id)
def test_the_rest_of_the_vectorizer_options_grid_gets_scikit_learns_answers(
    levels: tuple[int, ...], sample: Corpus
) -> None:
    check_grid_point(levels, sample)


STOP_WORDS_ONLY = "the and of to it is was that this for"


@pytest.mark.corpus
@pytest.mark.parametrize(
    "options",
    [
        {"binary": True},
        {"norm": "l1"},
        {"norm": None},
        {"use_idf": False},
        {"smooth_idf": False},
        {"lowercase": False},
        {"stop_words": "english"},
        {"strip_accents": "unicode"},
        {"token_pattern": r"(?u)\b\w+\b"},
        {"ngram_range": (2, 3)},
    ],
    ids=lambda options: ",".join(f"{k}={v}" for k, v in options.items()),
)
def test_the_vectorizers_other_options_get_scikit_learns_answers(
    options: dict[str, Any], sample: Corpus
) -> None:
    texts = [*sample.test_texts[:80], STOP_WORDS_ONLY, "", "Ça va, CAFÉ café"]
    train, labels = sample.train_texts[::2], sample.train_labels[::2]
    for classifier in (MultinomialNB(), LinearSVC(), LogisticRegression(max_iter=3)):
        pipeline = make_pipeline(TfidfVectorizer(**options), classifier)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipeline.fit(train, labels)
        agree(pipeline, texts)


@pytest.mark.corpus
@pytest.mark.parametrize(
    "classifier",
    [
        MultinomialNB(),
        ComplementNB(),
        LinearSVC(),
        LinearSVC(fit_intercept=False),
        LogisticRegression(),
        SGDClassifier(loss="modified_huber", random_state=0),
        SGDClassifier(loss="log_loss", random_state=0),
        SGDClassifier(loss="hinge", random_state=0),
    ],
    ids=repr,
)
def test_two_categories_get_scikit_learns_answers(classifier: Any, sample: Corpus) -> None:
    """Binary linear models keep one row of weights and decide by its sign."""
    keep = [i for i, label in enumerate(sample.train_labels) if label in (1, 2)]
    pipeline = make_pipeline(TfidfVectorizer(), classifier).fit(
        [sample.train_texts[i] for i in keep], [sample.train_labels[i] for i in keep]
    )
    agree(pipeline, [*sample.test_texts[:100], ""])


@pytest.mark.corpus
def test_sgd_with_the_log_loss_gets_scikit_learns_probabilities(sample: Corpus) -> None:
    pipeline = make_pipeline(TfidfVectorizer(), SGDClassifier(loss="log_loss", random_state=0))
    pipeline.fit(sample.train_texts, sample.train_labels)
    agree(pipeline, sample.test_texts[:100])


# -- ties, probabilities, the check itself ---------------------------------------------------
def test_ties_go_to_the_first_class_as_in_scikit_learn(tiny_model: Artifact) -> None:
    """The tiny corpus is balanced: naive Bayes' priors are equal, so a text with no known
    term scores every class the same, and argmax takes the first."""
    pipeline = tiny_model.pipeline
    lean = compiled(pipeline).lean
    assert lean is not None
    for text in ("", "nothing known here"):
        row = lean.decisions([text])[0]
        assert (row == row[0]).all()
        assert lean.labels([text])[0] == pipeline.predict([text])[0] == pipeline[-1].classes_[0]
    # a binary linear model without intercept scores 0.0 for it: not > 0, the first class
    corpus = tiny_corpus()
    two = [i for i, label in enumerate(corpus.train_labels) if label < 2]
    binary = make_pipeline(TfidfVectorizer(), LinearSVC(fit_intercept=False)).fit(
        [corpus.train_texts[i] for i in two], [corpus.train_labels[i] for i in two]
    )
    lean = compiled(binary).lean
    assert lean is not None
    assert lean.decisions([""])[0, 0] == 0.0
    assert lean.labels([""])[0] == binary.predict([""])[0] == 0


def test_scores_are_scikit_learns_to_the_last_digit(tiny_model: Artifact) -> None:
    texts = ["rocket orbit moon", "", "oven flour pasta and the football", "zzz"] * 3
    predictor = compiled(tiny_model.pipeline)
    names = tiny_model.target_names
    assert predictor.scores(names, texts) == scores_of(tiny_model.pipeline, names, texts)


@pytest.mark.corpus
def test_one_changed_weight_fails_the_check(
    twenty: Corpus, default_models: tuple[dict[str, Pipeline], Any]
) -> None:
    pipeline = default_models[0]["multinomial_nb"]
    texts = twenty.test_texts[:50]
    changed = copy.deepcopy(pipeline)
    term = changed[0].vocabulary_[changed[0].build_analyzer()(texts[0])[0]]
    changed[-1].feature_log_prob_[3, term] += 1e-9  # far below any category change
    lean = compile_pipeline(changed)
    problems = disagreements(lean, pipeline, texts)
    assert problems
    assert any("text 0's decision values differ" in problem for problem in problems)
    with pytest.raises(NotCompiledError, match="disagreed with scikit-learn"):
        check(lean, pipeline)
    # a change that moves answers is reported as a different category
    changed[-1].feature_log_prob_[3, :] += 5.0
    assert any(
        "gets 3, not" in problem
        for problem in disagreements(compile_pipeline(changed), pipeline, texts)
    )


# -- what the lean path does not compute -------------------------------------------------------
def custom_tokens(text: str) -> list[str]:
    return text.split()


UNSUPPORTED: dict[str, tuple[Callable[[], Pipeline], str]] = {
    "a step before the vectorizer": (
        lambda: make_pipeline(
            FunctionTransformer(lambda texts: texts), TfidfVectorizer(), MultinomialNB()
        ),
        "FunctionTransformer -> TfidfVectorizer -> MultinomialNB",
    ),
    "counts then tf-idf in two steps": (
        lambda: make_pipeline(CountVectorizer(), TfidfTransformer(), MultinomialNB()),
        "CountVectorizer -> TfidfTransformer -> MultinomialNB",
    ),
    "a custom tokenizer": (
        lambda: make_pipeline(
            TfidfVectorizer(tokenizer=custom_tokens, token_pattern=None), MultinomialNB()
        ),
        "tokenizer=",
    ),
    "character n-grams": (
        lambda: make_pipeline(TfidfVectorizer(analyzer="char"), MultinomialNB()),
        "analyzer='char'",
    ),
    "float32 features": (
        lambda: make_pipeline(TfidfVectorizer(dtype=np.float32), MultinomialNB()),
        "dtype=",
    ),
    "another classifier": (
        lambda: make_pipeline(TfidfVectorizer(), BernoulliNB()),
        "the classifier is a BernoulliNB",
    ),
    "sparse coefficients": (
        lambda: _sparsified(make_pipeline(TfidfVectorizer(), SGDClassifier(random_state=0))),
        "SGDClassifier.coef_ is not a dense float64 array",
    ),
}


def _sparsified(pipeline: Pipeline) -> Pipeline:
    corpus = tiny_corpus()
    pipeline.fit(corpus.train_texts, corpus.train_labels)
    pipeline[-1].sparsify()
    return pipeline


@pytest.mark.parametrize("what", list(UNSUPPORTED))
def test_what_the_lean_path_does_not_compute_falls_back_to_scikit_learn(what: str) -> None:
    build, reason = UNSUPPORTED[what]
    corpus = tiny_corpus()
    pipeline = build()
    if not hasattr(pipeline[-1], "classes_"):
        pipeline.fit(corpus.train_texts, corpus.train_labels)
    with pytest.raises(NotCompiledError, match="lean path computes"):
        compile_pipeline(pipeline)
    predictor = prepare(pipeline)
    assert predictor.inference == "scikit-learn"
    assert predictor.fallback is not None
    assert reason in predictor.fallback
    texts = corpus.test_texts
    assert predictor.labels(texts).tolist() == pipeline.predict(texts).tolist()


# -- served -------------------------------------------------------------------------------------
def test_a_served_model_says_it_is_computed_by_the_lean_path(
    client_for: Callable[..., TestClient], tiny_model: Artifact, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="newsapi.serving.service"):
        client = client_for(tiny_model.path)
    info = client.get("/model").json()
    assert (info["inference"], info["inference_fallback"]) == ("lean", None)
    answers = [client.post("/prediction", json={"text": f"rocket orbit {i}"}) for i in range(3)]
    assert {a.json()["category"] for a in answers} == {"space"}
    many = client.post("/predictions", json={"texts": ["oven flour pasta", "rocket moon"]})
    assert many.json() == {"categories": ["cooking", "space"]}
    metrics = client.get("/metrics").text
    assert metric(metrics, "newsapi_model_inference_fallback") == 0
    assert metric(metrics, "newsapi_model_inference_texts_total", path="lean") == 5
    assert metric(metrics, "newsapi_model_inference_texts_total", path="scikit-learn") == 0
    assert "is computed by the lean path" in caplog.text


def test_a_model_the_lean_path_cannot_compute_is_served_by_scikit_learn_and_says_why(
    client_for: Callable[..., TestClient], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    artifact = train_slow(tmp_path / "model" / "model.joblib")
    with caplog.at_level(logging.WARNING, logger="newsapi.serving.service"):
        client = client_for(artifact.path)
        info = client.get("/model").json()
        texts = ["rocket orbit moon", "oven flour pasta", "football goal match"]
        for text in texts:
            assert client.post("/prediction", json={"text": text}).status_code == 200
        scored = client.post("/predictions?scores=true", json={"texts": texts})
    assert info["inference"] == "scikit-learn"
    assert "FunctionTransformer -> TfidfVectorizer -> MultinomialNB" in info["inference_fallback"]
    expected = artifact.pipeline.predict(texts)
    assert scored.json()["categories"] == [artifact.target_names[i] for i in expected]
    metrics = client.get("/metrics").text
    assert metric(metrics, "newsapi_model_inference_fallback") == 1
    assert metric(metrics, "newsapi_model_inference_texts_total", path="scikit-learn") == 6
    assert metric(metrics, "newsapi_model_inference_texts_total", path="lean") == 0
    assert metric(metrics, "newsapi_predictions_total", endpoint="inline") == 0
    said = [r for r in caplog.records if "computed by scikit-learn, not the lean path" in r.message]
    assert len(said) == 1  # once, at load, however many requests follow


def test_a_reload_to_a_model_the_lean_path_cannot_compute_switches_the_path(
    client_for: Callable[..., TestClient], tmp_path: Path
) -> None:
    served = tmp_path / "served" / "model.joblib"
    train_tiny(served)
    client = client_for(served)
    assert client.get("/model").json()["inference"] == "lean"
    train_slow(served)
    assert client.post("/admin/reload", json={}).json()["changed"] is True
    info = client.get("/model").json()
    assert info["inference"] == "scikit-learn"
    assert metric(client.get("/metrics").text, "newsapi_model_inference_fallback") == 1
    assert client.post("/prediction", json={"text": "rocket orbit moon"}).json() == {
        "category": "space"
    }
