"""A domain classifier: can a model tell live texts from reference texts?

The method text-drift tools such as Evidently use: label live texts 1 and reference texts 0,
fit a classifier on their words (here TF-IDF and a logistic regression, scikit-learn's), and
cross-validate its ROC AUC. Near 0.5 the two samples read alike; near 1 a model tells them
apart, and its largest weights name the words that do. It needs the texts themselves, so only
a log written with ``NEWSAPI_PREDICTION_LOG_TEXT=true`` has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: texts taken from each side at most (a random sample beyond): enough for a stable AUC, few
#: enough for seconds of fitting on a small machine
MAX_TEXTS = 1000
FOLDS = 5
#: texts of each side needed at least: fewer make the folds' AUCs noise
MIN_TEXTS = 20


@dataclass(frozen=True)
class DomainClassifier:
    """The cross-validated ROC AUC of live against reference texts, and the separating terms."""

    auc: float  #: the mean of the folds' AUCs
    fold_aucs: list[float]
    live_n: int  #: texts of each side it was fitted on
    reference_n: int
    live_terms: list[str]  #: the terms that most mark a text as live
    reference_terms: list[str]  #: the terms that most mark it as reference


def domain_classifier(
    live: Sequence[str],
    reference: Sequence[str],
    *,
    top: int = 10,
    max_texts: int = MAX_TEXTS,
    folds: int = FOLDS,
    seed: int = 0,
) -> DomainClassifier:
    """Fit and cross-validate the domain classifier on as many texts of each side (the smaller
    side's count, at most ``max_texts``, drawn at random with ``seed``): balanced sides, so
    that the AUC reads the same whatever the sizes."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline

    n = min(len(live), len(reference), max_texts)
    if n < MIN_TEXTS:
        raise ValueError(
            f"the domain classifier needs at least {MIN_TEXTS} texts on each side "
            f"({len(live)} live, {len(reference)} reference)"
        )
    rng = np.random.default_rng(seed)
    chosen_live = [live[i] for i in sorted(rng.choice(len(live), n, replace=False))]
    chosen_reference = [reference[i] for i in sorted(rng.choice(len(reference), n, replace=False))]
    texts = chosen_live + chosen_reference
    labels = np.array([1] * n + [0] * n)
    # min_df=2: a word of one text only (an address, a message id) tells that text apart, not
    # the samples
    model = make_pipeline(
        TfidfVectorizer(sublinear_tf=True, min_df=2), LogisticRegression(max_iter=1000)
    )
    splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    aucs = cross_val_score(model, texts, labels, cv=splits, scoring="roc_auc")
    model.fit(texts, labels)
    terms = model[0].get_feature_names_out()
    order = np.argsort(model[-1].coef_[0], kind="stable")
    return DomainClassifier(
        auc=float(np.mean(aucs)),
        fold_aucs=[float(a) for a in aucs],
        live_n=n,
        reference_n=n,
        live_terms=[str(terms[i]) for i in order[::-1][:top]],
        reference_terms=[str(terms[i]) for i in order[:top]],
    )
