"""The reference live traffic is compared with: the model's own splits, rebuilt from its
manifest as ``02_evaluate.ipynb`` rebuilds them (:func:`newsapi.training.run.corpus_for`).

The statistics compare like with like: the test split's posts are the model's held-out sample
of the traffic it was made for, measured exactly as the log measures live texts
(:func:`newsapi.serving.predlog.record.measure` under the served model's
:class:`~newsapi.serving.predictor.Predictor`), so the reference's predicted mix, confidences,
out-of-vocabulary shares and lengths are what in-distribution traffic gives. The training
split's own posts are not used for these: the vocabulary and the weights were fitted on them
(none of their words is out of vocabulary, and the model is surer of them than of new posts).
Its label shares are kept, to show what the model was taught.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from newsapi.model.artifact import Artifact
from newsapi.model.data import Corpus
from newsapi.model.params import TrainingParameters
from newsapi.serving.cache.keys import entry_keys
from newsapi.serving.predictor import Predictor, prepare
from newsapi.serving.predlog.record import measure
from newsapi.training.run import corpus_for


@dataclass(frozen=True)
class Reference:
    """The model's test split as the log would have recorded it, one entry per post."""

    model_version: str
    target_names: list[str]
    score_kind: str  #: "probability" or "margin", as the log's ``score_kind``
    categories: list[str]  #: the model's answers
    scores: np.ndarray  #: the top probability, or the margin
    oov_shares: np.ndarray  #: NaN for a post without tokens
    text_chars: np.ndarray
    digests: list[bytes]  #: as the log's: the cache key under this model
    texts: list[str]
    train_share: dict[str, float]  #: each category's share of the training split's labels

    def __len__(self) -> int:
        return len(self.categories)

    def without(self, digests: Collection[bytes]) -> Reference:
        """The reference less the posts whose digest is in ``digests``: a live window that
        replays test posts is compared with the rest of the split, never with itself."""
        if not digests:
            return self
        keep = [i for i, digest in enumerate(self.digests) if digest not in digests]
        return dataclasses.replace(
            self,
            categories=[self.categories[i] for i in keep],
            scores=self.scores[keep],
            oov_shares=self.oov_shares[keep],
            text_chars=self.text_chars[keep],
            digests=[self.digests[i] for i in keep],
            texts=[self.texts[i] for i in keep],
        )


def corpus_of(artifact: Artifact, data_home: str | os.PathLike[str] | None = None) -> Corpus:
    """The corpus and split the artifact's manifest records (its training parameters)."""
    params = TrainingParameters.build(artifact.manifest["parameters"])
    return corpus_for(params, data_home)


def build_reference(
    artifact: Artifact, corpus: Corpus, predictor: Predictor | None = None
) -> Reference:
    """Measure ``corpus``'s test split under ``artifact`` (``predictor``: the prepared model,
    prepared here when not given) as the prediction log measures live texts."""
    predictor = predictor or prepare(artifact.pipeline)
    names, texts = artifact.target_names, list(corpus.test_texts)
    measures = measure(predictor, names, texts)
    labels = Counter(corpus.train_labels)
    total = max(1, sum(labels.values()))
    return Reference(
        model_version=artifact.model_version,
        target_names=list(names),
        score_kind=measures[0].score_kind if measures else "probability",
        categories=predictor.categories(names, texts),
        scores=np.array([m.score for m in measures], dtype=float),
        oov_shares=np.array(
            [np.nan if m.oov_share is None else m.oov_share for m in measures], dtype=float
        ),
        text_chars=np.array([len(text) for text in texts], dtype=float),
        digests=entry_keys(artifact.model_version, texts),
        texts=texts,
        train_share={name: labels[i] / total for i, name in enumerate(corpus.target_names)},
    )
