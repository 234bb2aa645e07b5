"""Exact explanations (newsapi.serving.explain): for each classifier the project trains, the
parts add up to the classifier's own score difference; the weights are eli5's; the spans
point at the words of the original text."""

from __future__ import annotations

from typing import Any

import eli5
import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import BernoulliNB, MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

from newsapi.model.params import CLASSIFIERS, TrainingParameters
from newsapi.serving.explain import MAX_TOP, Explanation, ExplanationError, explain_texts
from newsapi.serving.explain_weights import lean_of
from newsapi.serving.lean import ONE_BY_ONE_MAX
from newsapi.serving.startup import lay_out_weights
from newsapi.training.pipeline import build_pipeline
from tests.support import tiny_corpus

TEXTS = [
    "Rocket, rocket! The oven; a GOAL -- orbit moon.",
    "bake the pasta with garlic butter in the oven",
    "the striker scored a goal in the match, the coach said",
    "words the model never saw",
]


def fitted(classifier: str, categories: int = 3, **params: Any) -> tuple[Pipeline, list[str]]:
    """A served-like pipeline (weights laid out as at start-up) on the tiny corpus, with its
    first ``categories`` topics."""
    corpus = tiny_corpus()
    keep = [i for i, label in enumerate(corpus.train_labels) if label < categories]
    pipeline = build_pipeline(TrainingParameters.build({"classifier": classifier, **params}))
    pipeline.fit([corpus.train_texts[i] for i in keep], [corpus.train_labels[i] for i in keep])
    lay_out_weights(pipeline)
    return pipeline, corpus.target_names


def own_scores(pipeline: Pipeline, text: str) -> np.ndarray:
    """Each class's score as the classifier's own public method computes it."""
    features = pipeline[:-1].transform([text])
    model = pipeline[-1]
    if hasattr(model, "predict_joint_log_proba"):
        scores: np.ndarray = np.asarray(model.predict_joint_log_proba(features))[0]
        return scores
    decision = np.asarray(model.decision_function(features))
    scores = decision[0] if decision.ndim == 2 else np.array([0.0, decision[0]])
    return scores


def explain_one(pipeline: Pipeline, names: list[str], text: str, top: int = MAX_TOP) -> Explanation:
    [explanation] = explain_texts(pipeline, names, [text], top)
    return explanation


@pytest.mark.parametrize("ngram_max", [1, 2])
@pytest.mark.parametrize("categories", [3, 2])
@pytest.mark.parametrize("classifier", CLASSIFIERS)
def test_the_parts_sum_to_the_classifiers_own_score_difference(
    classifier: str, categories: int, ngram_max: int
) -> None:
    pipeline, names = fitted(classifier, categories, ngram_max=ngram_max)
    for text in TEXTS:
        e = explain_one(pipeline, names, text, top=3)
        scores = own_scores(pipeline, text)
        ranked = np.argsort(-scores, kind="stable")
        classes = pipeline[-1].classes_
        assert e.category == names[pipeline.predict([text])[0]] == names[classes[ranked[0]]]
        assert e.runner_up == names[classes[ranked[1]]]
        difference = scores[ranked[0]] - scores[ranked[1]]
        assert e.difference == pytest.approx(difference, abs=1e-12)
        total = e.bias + sum(t.weight for t in e.terms) + e.rest
        assert abs(total - difference) <= 1e-9
        assert len(e.terms) + e.rest_terms == pipeline[:-1].transform([text]).nnz


@pytest.mark.parametrize("ngram_max", [1, 2])
@pytest.mark.parametrize("categories", [3, 2])
@pytest.mark.parametrize("classifier", CLASSIFIERS)
def test_the_lean_path_explains_exactly_as_scikit_learn(
    classifier: str, categories: int, ngram_max: int
) -> None:
    """Through the lean path (the served way) and through scikit-learn's transform and
    scores, every field is equal, floats bit for bit; and so are a text explained alone (one
    by one) and in a longer list (all at once)."""
    pipeline, names = fitted(classifier, categories, ngram_max=ngram_max)
    assert lean_of(pipeline) is not None
    texts = [*TEXTS, *tiny_corpus().test_texts[:20], "", "ROCKET " * 50, "İ naïve café"]
    assert len(texts) > ONE_BY_ONE_MAX
    for top in (3, MAX_TOP):
        together = explain_texts(pipeline, names, texts, top)
        assert together == explain_texts(pipeline, names, texts, top, lean=False)
        for text, expected in zip(texts, together, strict=True):
            assert explain_texts(pipeline, names, [text], top) == [expected]
            assert explain_texts(pipeline, names, [text], top, lean=False) == [expected]


@pytest.mark.parametrize("categories", [3, 2])
@pytest.mark.parametrize("classifier", ["logistic_regression", "linear_svc", "sgd"])
def test_the_weights_are_eli5s_for_the_linear_models(classifier: str, categories: int) -> None:
    """eli5 gives each class's parts (value x coefficient, and <BIAS>); ours are the chosen
    class's minus the runner-up's."""
    pipeline, names = fitted(classifier, categories, ngram_max=2)
    vectorizer, model = pipeline[0], pipeline[-1]
    for text in TEXTS[:3]:
        e = explain_one(pipeline, names, text)
        theirs = eli5.explain_prediction(model, text, vec=vectorizer, top=None)
        per_class: dict[int, dict[str, float]] = {}
        for target in theirs.targets:
            weights = target.feature_weights
            per_class[int(target.target)] = {f.feature: f.weight for f in weights.pos + weights.neg}
        chosen, runner = names.index(e.category), names.index(e.runner_up)
        if categories == 2:  # eli5 explains the predicted class against the other one
            [(target, only)] = per_class.items()
            assert target == chosen
            per_class = {chosen: only, runner: {}}
        ours = {t.term: t.weight for t in e.terms} | {"<BIAS>": e.bias}
        # eli5 leaves out the terms whose weight is zero; so do they count here
        features = set(per_class[chosen]) | set(per_class[runner]) | set(ours)
        for feature in features:
            expected = per_class[chosen].get(feature, 0.0) - per_class[runner].get(feature, 0.0)
            assert ours.get(feature, 0.0) == pytest.approx(expected, abs=1e-6), feature


def test_eli5_finds_the_same_occurrences() -> None:
    pipeline, names = fitted("logistic_regression")
    text = TEXTS[0].lower()  # eli5 locates terms in the lowercased text
    e = explain_one(pipeline, names, text)
    theirs = eli5.explain_prediction(pipeline[-1], text, vec=pipeline[0], top=None)
    spans = theirs.targets[0].weighted_spans.docs_weighted_spans[0].spans
    located: dict[str, list[tuple[int, int]]] = {}
    for feature, where, _ in spans:
        located.setdefault(feature, []).extend(where)
    assert {t.term: sorted(t.spans) for t in e.terms} == {
        term: sorted(where) for term, where in located.items()
    }


def test_spans_find_repeated_words_through_case_and_punctuation() -> None:
    pipeline, names = fitted("multinomial_nb")
    text = "Rocket, rocket!ROCKET... (rocket)  the ORBIT;orbit"
    e = explain_one(pipeline, names, text)
    spans = {t.term: t.spans for t in e.terms}
    assert spans["rocket"] == ((0, 6), (8, 14), (15, 21), (26, 32))
    assert [text[a:b] for a, b in spans["orbit"]] == ["ORBIT", "orbit"]
    assert [text[a:b] for a, b in spans["the"]] == ["the"]


def test_spans_count_code_points_through_unicode_and_lowercase_that_grows() -> None:
    """ "İ" lowercases to two characters (i and a combining dot), which shifts every later
    position of the lowercased text; spans are positions in the original."""
    pipeline, names = fitted("multinomial_nb")
    text = "İİ 🚀 rocket — naïve ÉTÉ moon 月 rocket"
    e = explain_one(pipeline, names, text)
    spans = {t.term: t.spans for t in e.terms}
    assert [text[a:b] for a, b in spans["rocket"]] == ["rocket", "rocket"]
    assert [text[a:b] for a, b in spans["moon"]] == ["moon"]
    assert spans["rocket"][0] == (5, 11)


def test_an_ngram_spans_its_first_to_its_last_word() -> None:
    pipeline, names = fitted("linear_svc", ngram_max=3)
    vocabulary = pipeline[0].vocabulary_
    bigram = next(term for term in sorted(vocabulary) if term.count(" ") == 1)
    first, second = bigram.split()
    text = f"{first.upper()}, {second}! qqq {first} {second}"
    e = explain_one(pipeline, names, text)
    spans = {t.term: t.spans for t in e.terms}
    assert [text[a:b] for a, b in spans[bigram]] == [
        f"{first.upper()}, {second}",
        f"{first} {second}",
    ]
    assert [text[a:b].lower() for a, b in spans[first]] == [first, first]


def test_accents_stripped_by_the_vectorizer_still_point_at_the_original() -> None:
    texts = ["café crème rocket", "football goal café", "rocket orbit moon"]
    vectorizer = TfidfVectorizer(strip_accents="unicode")
    pipeline = make_pipeline(vectorizer, MultinomialNB()).fit(texts, [0, 1, 0])
    text = "Cafe\u0301 — CAFÉ, café! rocket"  # the first é is e + a combining accent
    e = explain_one(pipeline, ["a", "b"], text)
    spans = {t.term: t.spans for t in e.terms}
    assert [text[a:b] for a, b in spans["cafe"]] == ["Cafe\u0301", "CAFÉ", "café"]
    assert [text[a:b] for a, b in spans["rocket"]] == ["rocket"]


def test_top_lists_the_largest_parts_first_and_sums_the_rest() -> None:
    pipeline, names = fitted("logistic_regression")
    text = TEXTS[0]
    every = explain_one(pipeline, names, text)
    assert every.rest_terms == 0
    assert every.rest == 0.0
    sizes = [abs(t.weight) for t in every.terms]
    assert sizes == sorted(sizes, reverse=True)
    two = explain_one(pipeline, names, text, top=2)
    assert two.terms == every.terms[:2]
    assert two.rest_terms == len(every.terms) - 2
    assert two.rest == pytest.approx(sum(t.weight for t in every.terms[2:]), abs=1e-12)
    none = explain_one(pipeline, names, text, top=0)
    assert none.terms == []
    assert none.rest_terms == len(every.terms)


def test_a_text_without_known_terms_is_decided_by_the_bias_alone() -> None:
    pipeline, names = fitted("logistic_regression")
    e = explain_one(pipeline, names, "zzz qqq")
    assert e.terms == []
    assert e.rest == 0.0
    assert e.difference == pytest.approx(e.bias, abs=1e-12)


def test_steps_before_the_vectorizer_give_weights_and_terms_without_spans() -> None:
    corpus = tiny_corpus()
    steps = [step for _, step in build_pipeline().steps]
    pipeline = make_pipeline(FunctionTransformer(lambda texts: texts), *steps)
    pipeline.fit(corpus.train_texts, corpus.train_labels)
    assert lean_of(pipeline) is None  # scikit-learn computes it
    e = explain_one(pipeline, corpus.target_names, "rocket rocket oven")
    assert {t.term: t.spans for t in e.terms} == {"rocket": (), "oven": ()}
    assert abs(e.bias + sum(t.weight for t in e.terms) - e.difference) <= 1e-9


def test_a_pipeline_it_cannot_explain_exactly_is_refused_with_the_reason() -> None:
    corpus = tiny_corpus()
    bernoulli = make_pipeline(TfidfVectorizer(), BernoulliNB())
    bernoulli.fit(corpus.train_texts, corpus.train_labels)
    with pytest.raises(ExplanationError, match=r"BernoulliNB.*not one newsapi explains"):
        explain_texts(bernoulli, corpus.target_names, ["rocket"])
    calibrated = make_pipeline(TfidfVectorizer(), CalibratedClassifierCV(LinearSVC(), cv=3))
    calibrated.fit(corpus.train_texts, corpus.train_labels)
    with pytest.raises(ExplanationError, match=r"calibrated.*without calibrate"):
        explain_texts(calibrated, corpus.target_names, ["rocket"])
    pipeline, names = fitted("multinomial_nb")
    with pytest.raises(ExplanationError, match=f"top must be 0 to {MAX_TOP}"):
        explain_texts(pipeline, names, ["rocket"], top=MAX_TOP + 1)
