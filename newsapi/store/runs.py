"""Reading the store as a data scientist does: the runs table, and two runs compared."""

from __future__ import annotations

import json
from typing import Any

from newsapi.model.params import CLASSIFIER_KINDS, TrainingParameters
from newsapi.store.catalog import ModelStore, StoredModel

SORTABLE = ("created_at", "accuracy", "macro_f1")


def varying_parameters(entries: list[StoredModel]) -> list[str]:
    """The parameter names whose values differ between ``entries`` (in declaration order)."""
    names: dict[str, set[str]] = {}
    for entry in entries:
        for name, value in entry.manifest.get("parameters", {}).items():
            names.setdefault(name, set()).add(json.dumps(value, sort_keys=True))
    return [name for name, values in names.items() if len(values) > 1]


def runs_table(
    store: ModelStore, sort_by: str = "created_at", limit: int | None = None
) -> list[dict[str, Any]]:
    """One row per stored model: version, created, classifier, the parameters that vary
    (those its classifier uses: no ``C`` for naive Bayes, no ``alpha`` for ``linear_svc``),
    accuracy, macro-F1, whether it is promoted, and the sweep that chose it (if any)."""
    if sort_by not in SORTABLE:
        raise ValueError(f"sort_by: choose from {list(SORTABLE)}, got {sort_by!r}")
    entries = store.entries()
    varying = varying_parameters(entries) if len(entries) > 1 else []
    served = store.served_version()
    rows = []
    for entry in entries:
        params = entry.manifest.get("parameters", {})
        metrics = entry.manifest.get("metrics", {})
        rows.append(
            {
                "version": entry.version,
                "created_at": entry.created_at,
                "classifier": params.get("classifier"),
                "parameters": {name: params.get(name) for name in varying if uses(params, name)},
                "accuracy": metrics.get("accuracy"),
                "macro_f1": metrics.get("macro_f1"),
                "promoted": entry.version == served,
                "sweep": "sweep" in entry.manifest,
            }
        )
    rows.sort(key=lambda row: (row[sort_by] is not None, row[sort_by]), reverse=True)
    return rows[:limit] if limit else rows


def uses(parameters: dict[str, Any], name: str) -> bool:
    """Whether the run's classifier uses the parameter ``name`` (any, for a classifier this
    version does not know)."""
    kind = CLASSIFIER_KINDS.get(str(parameters.get("classifier")))
    return kind is None or kind.uses(name)


def shown(row: dict[str, Any], name: str) -> str:
    """A row's value of ``name`` as the runs tables show it: text as is, other values as
    JSON, ``-`` where its classifier does not use it."""
    if name not in row["parameters"]:
        return "-"
    value = row["parameters"][name]
    return value if isinstance(value, str) else json.dumps(value)


def compare(a: StoredModel, b: StoredModel) -> dict[str, Any]:
    """What changed from ``a`` to ``b``: differing parameters, and the change in accuracy,
    macro-F1 and each category's F1 (``b`` minus ``a``; categories of both)."""
    pa, pb = a.manifest.get("parameters", {}), b.manifest.get("parameters", {})
    ma, mb = a.manifest.get("metrics", {}), b.manifest.get("metrics", {})
    differing = {
        name: (pa.get(name), pb.get(name))
        for name in dict.fromkeys([*pa, *pb])
        if pa.get(name) != pb.get(name)
    }
    fa, fb = ma.get("per_class", {}), mb.get("per_class", {})
    categories = [name for name in fa if name in fb]
    return {
        "a": a.version,
        "b": b.version,
        "parameters": differing,
        "metrics": {
            name: (ma.get(name), mb.get(name), _delta(ma.get(name), mb.get(name)))
            for name in ("accuracy", "macro_f1")
        },
        "per_class_f1": {
            name: (fa[name]["f1"], fb[name]["f1"], _delta(fa[name]["f1"], fb[name]["f1"]))
            for name in categories
        },
    }


def _delta(a: Any, b: Any) -> float | None:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return round(float(b) - float(a), 6)
    return None


def per_class_f1(store: ModelStore, versions: list[str]) -> tuple[list[str], list[str], Any]:
    """Categories shared by every run, the runs, and their F1 as a (category x run) array."""
    import numpy as np

    manifests = [entry.manifest for v in versions if (entry := store.get(v)) is not None]
    kept = [m["model_version"] for m in manifests]
    shared = [
        name
        for name in (manifests[0]["metrics"].get("per_class", {}) if manifests else {})
        if all(name in m["metrics"].get("per_class", {}) for m in manifests)
    ]
    grid = np.array(
        [[m["metrics"]["per_class"][name]["f1"] for m in manifests] for name in shared]
    ).reshape(len(shared), len(manifests))
    return shared, kept, grid


def entry_links(store: ModelStore, version: str) -> dict[str, str]:
    """The pages a stored run has (name -> path relative to the store's root), existing only."""
    folder = store.models / version
    candidates = {
        "card": folder / "card.html",
        "train": folder / "notebooks" / "01_train.html",
        "evaluate": folder / "notebooks" / "02_evaluate.html",
        "sweep": folder / "notebooks" / "03_sweep.html",
    }
    return {
        name: path.relative_to(store.root).as_posix()
        for name, path in candidates.items()
        if path.is_file()
    }


def columns(rows: list[dict[str, Any]]) -> list[str]:
    """The parameter columns of a runs table: those that vary, but the classifier (which has
    a column of its own)."""
    names = dict.fromkeys(name for row in rows for name in row["parameters"])
    order = {name: i for i, name in enumerate(TrainingParameters.model_fields)}
    return sorted((name for name in names if name != "classifier"), key=lambda n: order.get(n, 99))


def runs_html(rows: list[dict[str, Any]], store: ModelStore, link_base: str = "") -> str:
    """The runs table as HTML, each run linked to its model card and executed notebooks; the
    classifier has its own column, ★ marks the promoted model."""
    from html import escape

    varying = columns(rows)
    head = ["", "version", "created (UTC)", "classifier", *varying, "accuracy", "macro-F1", "pages"]
    lines = ["<table>", "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        links = entry_links(store, row["version"])
        pages = " ".join(
            f'<a href="{escape(link_base + path)}">{escape(name)}</a>'
            for name, path in links.items()
        )
        cells = [
            "&#9733;" if row["promoted"] else "",
            f"<code>{escape(row['version'])}</code>",
            escape(row["created_at"][:19].replace("T", " ")),
            escape(str(row["classifier"])),
            *(escape(shown(row, name)) for name in varying),
            f"{row['accuracy']:.4f}",
            f"{row['macro_f1']:.4f}",
            pages,
        ]
        lines.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    lines.append("</table>")
    return "\n".join(lines)
