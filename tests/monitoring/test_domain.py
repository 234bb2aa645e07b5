"""The domain classifier on texts whose difference is known: two samples of one source, and
two sources that share only their filler words."""

from __future__ import annotations

import random

import pytest

from newsapi.monitoring.domain import MIN_TEXTS, domain_classifier
from tests.support import FILLER, TOPICS


def texts(words: list[str], count: int, seed: int) -> list[str]:
    draw = random.Random(seed)
    return [" ".join(draw.choice(words) for _ in range(12)) for _ in range(count)]


SPACE = TOPICS["space"].split() + FILLER
COOKING = TOPICS["cooking"].split() + FILLER


def test_two_samples_of_one_source_are_not_told_apart() -> None:
    found = domain_classifier(texts(SPACE, 150, seed=1), texts(SPACE, 150, seed=2))
    assert 0.35 < found.auc < 0.65
    assert len(found.fold_aucs) == 5
    assert found.live_n == found.reference_n == 150


def test_another_source_is_told_apart_by_its_own_words() -> None:
    found = domain_classifier(texts(COOKING, 150, seed=3), texts(SPACE, 150, seed=4), top=5)
    assert found.auc > 0.99
    assert set(found.live_terms) <= set(TOPICS["cooking"].split())
    assert set(found.reference_terms) <= set(TOPICS["space"].split())
    assert len(found.live_terms) == 5


def test_the_sides_are_balanced_to_the_smaller_one() -> None:
    found = domain_classifier(texts(COOKING, 40, seed=5), texts(SPACE, 400, seed=6))
    assert found.live_n == found.reference_n == 40


def test_too_few_texts_are_refused_with_the_counts() -> None:
    with pytest.raises(ValueError, match=f"at least {MIN_TEXTS} texts on each side"):
        domain_classifier(texts(SPACE, MIN_TEXTS - 1, 7), texts(SPACE, 100, 8))
