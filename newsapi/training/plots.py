"""Figures for notebooks, model cards and the runs page (matplotlib, imported on use)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any


def confusion_matrix_png(
    matrix: Sequence[Sequence[int]], target_names: list[str], title: str
) -> bytes:
    """The test-set confusion matrix (rows true, columns predicted) as PNG bytes."""
    import numpy as np
    from matplotlib.figure import Figure
    from sklearn.metrics import ConfusionMatrixDisplay

    size = len(target_names)
    figure = Figure(figsize=(1.2 * size + 3, 1.0 * size + 2))
    axes = figure.add_subplot()
    ConfusionMatrixDisplay(np.asarray(matrix), display_labels=target_names).plot(
        ax=axes, xticks_rotation="vertical", colorbar=False
    )
    axes.set_title(title)
    figure.tight_layout()
    return figure_png(figure)


def figure_png(figure: Any) -> bytes:
    """A matplotlib figure as PNG bytes (same figure, same bytes: no timestamp metadata)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()
