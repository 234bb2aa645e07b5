"""``python -m bench.lean``: where the lean path pays, measured in this process (no server).

For calls of 1 to 2,000 of the benchmark's fresh ~25-word messages, the time per text of
scikit-learn's ``predict`` (as the service called it: its parameter and finiteness checks
off), of the lean path one text at a time, and of the lean path as one sparse matrix; each
call's three variants run in turn on the same texts, so the machine's drift touches all
alike. It prints the table, the size from which the matrix beats one text at a time (what
``ONE_BY_ONE_MAX`` in ``newsapi/serving/lean.py`` follows), and how much of one text's time
goes to the vectorizer's own analyzer (the tokens), beside a hand-specialised tokenizer.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sklearn

from bench import texts

SIZES = (1, 2, 3, 4, 6, 8, 16, 32, 64, 128, 256, 1000, 2000)
TEXTS_PER_SIZE = 3000  # each size is measured over about this many texts (at least 7 calls)


def _timed(call: Callable[[list[str]], Any], batch: list[str]) -> float:
    start = time.perf_counter()
    call(batch)
    return time.perf_counter() - start


def crossover(pipeline: Any, lean: Any, nonce: str) -> list[dict[str, float]]:
    """Per size: microseconds per text of each path (median call)."""

    def scikit_learn(batch: list[str]) -> Any:
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            return pipeline.predict(batch)

    def one_by_one(batch: list[str]) -> Any:
        return lean.labels_of(lean.decisions_one_by_one(batch))

    def one_matrix(batch: list[str]) -> Any:
        return lean.labels_of(lean.decisions_as_matrix(batch))

    paths: dict[str, Callable[[list[str]], Any]] = {
        "scikit-learn": scikit_learn,
        "lean, one by one": one_by_one,
        "lean, one matrix": one_matrix,
    }
    stream = texts.messages(nonce)
    rows = []
    for size in SIZES:
        calls = max(7, TEXTS_PER_SIZE // size)
        durations: dict[str, list[float]] = {name: [] for name in paths}
        for path in paths.values():  # warm-up, not counted
            path([next(stream) for _ in range(size)])
        for _ in range(calls):
            batch = [next(stream) for _ in range(size)]
            for name, path in paths.items():
                durations[name].append(_timed(path, batch))
        row = {"size": float(size)}
        row.update({name: statistics.median(d) / size * 1e6 for name, d in durations.items()})
        rows.append(row)
    return rows


def tokenizing(lean: Any, nonce: str, count: int = 2000) -> dict[str, float]:
    """Microseconds per text: the vectorizer's analyzer, a specialised equivalent for the
    default options (lowercase, then the token pattern), and the whole lean path."""
    sample = texts.batch(nonce, count)
    pattern = re.compile(r"(?u)\b\w\w+\b")

    def per_text(call: Callable[[str], Any]) -> float:
        best = []
        for _ in range(5):
            start = time.perf_counter()
            for text in sample:
                call(text)
            best.append((time.perf_counter() - start) / count * 1e6)
        return min(best)

    return {
        "analyzer": per_text(lean.analyze),
        "specialised": per_text(lambda text: pattern.findall(text.lower())),
        "lean path": per_text(lambda text: lean.labels([text])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lean", description=__doc__)
    parser.add_argument("--model", type=Path, default=Path("artifacts") / "newsgroups_model.joblib")
    args = parser.parse_args(argv)
    from newsapi.model.artifact import load_artifact
    from newsapi.serving.predictor import prepare

    artifact = load_artifact(args.model)
    predictor = prepare(artifact.pipeline)
    if predictor.lean is None:
        print(f"the model is computed by scikit-learn: {predictor.fallback}", file=sys.stderr)
        return 1
    rows = crossover(artifact.pipeline, predictor.lean, texts.new_nonce())
    names = [name for name in rows[0] if name != "size"]
    print("µs per text (median call) by texts per call:")
    print(f"{'texts':>6}  " + "  ".join(f"{name:>17}" for name in names))
    for row in rows:
        print(f"{row['size']:>6.0f}  " + "  ".join(f"{row[name]:>17.1f}" for name in names))
    matrix_from = next(
        (int(r["size"]) for r in rows if r["lean, one matrix"] < r["lean, one by one"]), None
    )
    print(f"the matrix beats one text at a time from {matrix_from} texts a call")
    slower = [int(r["size"]) for r in rows if min(r[n] for n in names[1:]) > r["scikit-learn"]]
    print(f"sizes where scikit-learn is faster than the lean path: {slower or 'none'}")
    tokens = tokenizing(predictor.lean, texts.new_nonce())
    print(
        f"one text: analyzer {tokens['analyzer']:.1f} µs, specialised tokenizer "
        f"{tokens['specialised']:.1f} µs, whole lean path {tokens['lean path']:.1f} µs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
