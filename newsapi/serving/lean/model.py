"""The lean model: a fitted pipeline's arrays, and the arithmetic of its predictions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils.sparsefuncs_fast import (
    inplace_csr_row_normalize_l1,
    inplace_csr_row_normalize_l2,
)

from newsapi.errors import NewsapiError
from newsapi.serving.lean.probabilities import FORMULAS, Formula

#: calls of up to this many texts compute them one by one; larger ones build one sparse
#: matrix (its fixed cost is paid back from about this size, measured by ``bench.lean``)
ONE_BY_ONE_MAX = 4

#: each text's token count in the vectorizer's analyzer, and how many of those tokens are
#: outside the vocabulary (repeated tokens counted each time), as two lists
Counts = tuple[list[int], list[int]]


class NotCompiledError(NewsapiError):
    """The pipeline has a step or an option the lean path does not compute, or the lean
    path's answers differ from scikit-learn's: the message says which."""


@dataclass(frozen=True, eq=False)
class LeanModel:
    """A fitted ``TfidfVectorizer`` + linear classifier as the arrays its predictions read.

    The arrays are the fitted model's own (views, not copies): a lean model costs no memory.
    """

    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray | None
    binary: bool
    sublinear_tf: bool
    norm: str | None
    weights: np.ndarray  #: (features x columns): the classifier's weights, transposed
    offset: np.ndarray | float  #: added to the product: class log priors, intercepts or 0.0
    classes: np.ndarray
    #: one column (a binary linear model): the label is ``classes[score > 0]``
    by_sign: bool
    probabilities: Formula | None

    @property
    def columns(self) -> int:
        return int(self.weights.shape[1])

    def decisions(self, texts: Sequence[str]) -> np.ndarray:
        """(texts x columns): scikit-learn's ``predict_joint_log_proba`` (naive Bayes) or
        ``decision_function`` (linear models; one column when binary), bit for bit."""
        if len(texts) > ONE_BY_ONE_MAX:
            return self.decisions_as_matrix(texts)
        return self.decisions_one_by_one(texts)

    def decisions_one_by_one(self, texts: Sequence[str]) -> np.ndarray:
        """:meth:`decisions`, each text in NumPy over the terms it contains."""
        if len(texts) == 1:
            return self._row(texts[0])[None, :]
        return np.array([self._row(text) for text in texts]).reshape(len(texts), self.columns)

    def decisions_counted(self, texts: Sequence[str]) -> tuple[np.ndarray, Counts]:
        """:meth:`decisions`, by the same path, with each text's :data:`Counts` from the same
        analysis: what the prediction log records beside the answer, at a vector operation
        per call."""
        if len(texts) > ONE_BY_ONE_MAX:
            matrix, counts = self._features(texts, counted=True)
            return self.decisions_of(matrix), counts
        if len(texts) == 1:
            found, values, count, outside = self._row_terms(texts[0], counted=True)
            return self.row_decisions(found, values)[None, :], ([count], [outside])
        rows, tokens, unknown = [], [], []
        for text in texts:
            found, values, count, outside = self._row_terms(text, counted=True)
            rows.append(self.row_decisions(found, values))
            tokens.append(count)
            unknown.append(outside)
        decisions = np.array(rows).reshape(len(texts), self.columns)
        return decisions, (tokens, unknown)

    def decisions_as_matrix(self, texts: Sequence[str]) -> np.ndarray:
        """:meth:`decisions`, the texts as one CSR matrix through scikit-learn's kernels."""
        return self.decisions_of(self.features(texts))

    def decisions_of(self, features: sp.csr_array) -> np.ndarray:
        """:meth:`decisions` of rows from :meth:`features`: scipy's sparse product, then the
        offset."""
        product: np.ndarray = features @ self.weights
        return product.reshape(features.shape[0], self.columns) + self.offset

    def features(self, texts: Sequence[str]) -> sp.csr_array:
        """(texts x features): ``TfidfVectorizer.transform(texts)``, the same values in the same
        column order (what the explanations read, one part per stored value)."""
        return self._features(texts, counted=False)[0]

    def _features(self, texts: Sequence[str], counted: bool) -> tuple[sp.csr_array, Counts]:
        """:meth:`features`, and with ``counted`` each text's :data:`Counts` (else empty)."""
        tokens = [self.analyze(text) for text in texts]
        every = list(chain.from_iterable(tokens))
        found = self._indexes(every, len(every))
        lengths = np.fromiter(map(len, tokens), np.intp, len(texts))
        rows = np.repeat(np.arange(len(texts)), lengths)
        known = found >= 0
        measured: Counts = ([], [])
        if counted:
            unknown = np.bincount(rows[~known], minlength=len(texts))
            measured = (lengths.tolist(), unknown.tolist())
        width = self.weights.shape[0]
        # one sort counts every (text, term) cell and leaves each row's terms in column
        # order, as CountVectorizer's sort_indices does
        cells, counts = np.unique(rows[known] * width + found[known], return_counts=True)
        rows, columns = np.divmod(cells, width)
        indptr = np.zeros(len(texts) + 1, dtype=np.intp)
        np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
        values = counts.astype(np.float64)
        matrix = sp.csr_array((values, columns, indptr), shape=(len(texts), width))
        self._weigh(matrix.indices, matrix.data)
        if self.norm == "l2":
            inplace_csr_row_normalize_l2(matrix)
        elif self.norm == "l1":
            inplace_csr_row_normalize_l1(matrix)
        return matrix, measured

    def labels(self, texts: Sequence[str]) -> np.ndarray:
        """scikit-learn's ``predict``: the class of each text."""
        return self.labels_of(self.decisions(texts))

    def labels_of(self, decisions: np.ndarray) -> np.ndarray:
        """The classes that ``decisions`` choose: the sign, or the first maximum."""
        signs = (decisions[:, 0] > 0).astype(np.intp) if self.by_sign else None
        chosen = decisions.argmax(axis=1) if signs is None else signs
        labels: np.ndarray = self.classes[chosen]
        return labels

    def probabilities_of(self, decisions: np.ndarray) -> np.ndarray:
        """scikit-learn's ``predict_proba`` from :meth:`decisions`."""
        if self.probabilities is None:
            raise NotCompiledError("this classifier gives no probabilities")
        return FORMULAS[self.probabilities](decisions)

    # -- one text ------------------------------------------------------------------------------
    def _indexes(self, terms: Any, count: int) -> np.ndarray:
        """Each term's column in the vocabulary, -1 for an unknown term."""
        return np.fromiter(map(self.vocabulary.get, terms, repeat(-1, count)), np.intp, count)

    def _row(self, text: str) -> np.ndarray:
        return self.row_decisions(*self.row_features(text))

    def row_features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One text's row of :meth:`features` without a sparse matrix: its columns (in
        order) and their values."""
        found, values, _, _ = self._row_terms(text, counted=False)
        return found, values

    def _row_terms(self, text: str, counted: bool) -> tuple[np.ndarray, np.ndarray, int, int]:
        """:meth:`row_features`, with the text's token count and, with ``counted``, how many
        of its tokens are outside the vocabulary (else 0)."""
        tokens = self.analyze(text)
        counts = Counter(tokens)
        size = len(counts)
        found = self._indexes(counts, size)
        known = found >= 0
        found = found[known]
        values = np.fromiter(counts.values(), np.float64, size)[known]
        # the known terms' counts: whole numbers far below 2**53, so their float sum is exact
        # (a Python sum of a short list costs less than NumPy's call)
        unknown = len(tokens) - int(sum(values.tolist())) if counted else 0
        if not found.size:
            return found, values, len(tokens), unknown
        order = found.argsort()
        found, values = found[order], values[order]
        self._weigh(found, values)
        if self.norm is not None:
            magnitudes = values * values if self.norm == "l2" else np.abs(values)
            total = np.add.accumulate(magnitudes)[-1]
            if total != 0.0:
                values /= np.sqrt(total) if self.norm == "l2" else total
        return found, values, len(tokens), unknown

    def row_decisions(self, found: np.ndarray, values: np.ndarray) -> np.ndarray:
        """One row of :meth:`decisions` from :meth:`row_features`."""
        if not found.size:  # no known term: scikit-learn's product is a row of zeros
            return np.zeros(self.columns) + self.offset
        running = np.add.accumulate(self.weights[found] * values[:, None], axis=0)
        # + offset (0.0 for none) also turns a -0.0 sum into scipy's 0.0
        row: np.ndarray = running[-1] + self.offset
        return row

    def _weigh(self, found: np.ndarray, values: np.ndarray) -> None:
        """Term counts to tf-idf, in place, as TfidfVectorizer.transform does before its norm."""
        if self.binary:
            values.fill(1.0)
        if self.sublinear_tf:
            np.log(values, out=values)
            values += 1.0
        if self.idf is not None:
            values *= self.idf[found]
