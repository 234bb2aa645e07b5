"""The lean path: the served pipeline's own arithmetic, without scikit-learn's per-call costs.

For one text, scikit-learn spends about a millisecond on input checks, building sparse
matrices and bookkeeping, and a few microseconds on the arithmetic. :func:`compile_pipeline`
reads, once per model, what ``predict`` and ``predict_proba`` use (the vectorizer's own
analyzer, vocabulary and idf, the classifier's weights, offsets and classes), and
:class:`LeanModel` computes with them: a few texts one by one in NumPy over the terms each
contains, larger batches as one sparse matrix through the kernels scikit-learn itself calls.

The answers are scikit-learn's, not close to them: every step is the operation scikit-learn
performs, in its order. The tokens come from the vectorizer's ``build_analyzer()``, as in its
``transform``; counts become float64, then 1 (binary), ``log`` then ``+ 1`` (sublinear),
``* idf``, one rounding each; the norm adds the squares (or absolute values) one by one in
column order, as scikit-learn's ``inplace_csr_row_normalize_l2`` loop does, then divides; the
product adds ``value * weight`` term by term in column order from zero, as scipy's CSR kernel
does (``np.add.accumulate`` is a running sum, so sequential, where ``np.sum`` adds pairwise);
then the offset, the first maximum (``argmax``) or the sign, and the installed version's
probability formula, operation for operation. The decision values are equal bit for bit: on
the 20 newsgroups test split for the five classifiers in the tests, and on probe texts at
every load, where one differing bit sends the model to scikit-learn (:func:`check`).

:mod:`.model` computes, :mod:`.compile` reads a fitted pipeline, :mod:`.check` compares with
scikit-learn, :mod:`.probabilities` holds ``predict_proba``'s formulas.
"""

from newsapi.serving.lean.check import PROBABILITY_TOLERANCE, check, disagreements, probe_texts
from newsapi.serving.lean.compile import compile_pipeline
from newsapi.serving.lean.model import ONE_BY_ONE_MAX, LeanModel, NotCompiledError

__all__ = [
    "ONE_BY_ONE_MAX",
    "PROBABILITY_TOLERANCE",
    "LeanModel",
    "NotCompiledError",
    "check",
    "compile_pipeline",
    "disagreements",
    "probe_texts",
]
