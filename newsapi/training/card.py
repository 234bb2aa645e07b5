"""Model cards: Hugging Face's layout (via skops' card module), generated from a manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from newsapi.model.params import DEFAULTS, TrainingParameters
from newsapi.training.pipeline import most_confused, weakest_category

CARD_MD = "card.md"
CARD_HTML = "card.html"
PLOT = "confusion_matrix.png"


def reproduce_command(parameters: dict[str, Any]) -> str:
    """The ``newsapi train`` command line that trains these parameters again."""
    params = TrainingParameters.build(
        {k: v for k, v in parameters.items() if k in TrainingParameters.model_fields}
    )
    # what this dataset trains by default: another corpus has no newsgroups categories to name
    defaults = DEFAULTS.replace(dataset=params.dataset)
    parts = ["newsapi train"]
    for name, value in params.model_dump().items():
        if value == getattr(DEFAULTS if name == "dataset" else defaults, name):
            continue
        if isinstance(value, list) or value is None:
            parts.append(f"-y '{name}: {json.dumps(value)}'")
        else:
            parts.append(f"-p {name} {json.dumps(value) if isinstance(value, str) else value}")
    return " ".join(parts)


def limits(manifest: dict[str, Any]) -> list[str]:
    """Known limits, read from the numbers: the weakest category, the most confused pair, and
    top terms that are header or signature artefacts."""
    metrics, names = manifest["metrics"], manifest["target_names"]
    found = []
    if metrics.get("per_class"):
        name, recall, f1 = weakest_category(metrics)
        found.append(f"The weakest category is `{name}`: F1 {f1:.3f}, recall {recall:.3f}.")
    if metrics.get("confusion_matrix"):
        true, predicted, count = most_confused(metrics, names)
        found.append(
            f"The most frequent mistake: {count} `{true}` test posts taken for `{predicted}`."
            if count
            else "No test post was misclassified."
        )
    leaks = manifest.get("artefact_terms") or {}
    artefacts = sorted({term for terms in leaks.values() for term in terms})
    if artefacts:
        total = sum(len(terms) for terms in manifest.get("top_terms", {}).values())
        found.append(
            f"{len(artefacts)} of the {total} most distinctive terms mostly vanish when headers, "
            f"signatures and quotes are stripped ({', '.join(artefacts[:12])}): they name "
            "posters and hosts, so part of the score comes from who posted where, not from "
            "what was written. Train with `remove: [headers, footers, quotes]` to measure "
            "without them."
        )
    return found


def build_card(manifest: dict[str, Any], plot: Path | None = None) -> Any:
    """The skops ``Card`` of a stored model, from its manifest (and its confusion-matrix PNG)."""
    from skops.card import Card

    card = Card(None, template=None)
    params, metrics, data = manifest["parameters"], manifest["metrics"], manifest["dataset"]
    version = manifest["model_version"]
    classifier = params.get("classifier", "?")
    counts = data.get("counts", {})
    card.add(
        **{
            f"Model card: newsgroups classifier {version}": (
                f"A scikit-learn `TfidfVectorizer` + `{classifier}` pipeline that sorts a short "
                f"English text into one of {len(manifest['target_names'])} newsgroup "
                f"categories. Model version `{version}` (sha256 `{manifest['sha256']}`), "
                f"created {manifest.get('created_at', '?')}."
            ),
            "Intended uses & limitations": (
                "Routing or tagging posts in the style of 1990s Usenet discussion groups; a "
                "teaching example of a served text classifier. It knows only the categories "
                "below and always answers one of them, whatever the text."
            ),
            "Training data": (
                f"Corpus: {data.get('source', '?')} ({data.get('split', 'own split')}); "
                f"categories: {', '.join(manifest['target_names'])}; parts removed: "
                f"{', '.join(data.get('remove') or []) or 'none'}; "
                f"{sum(counts.get('train', {}).values())} training and "
                f"{sum(counts.get('test', {}).values())} test documents."
            ),
        }
    )
    card.add_metrics(
        section="Evaluation results",
        description="On the test split, which the model never saw.",
        accuracy=metrics.get("accuracy", float("nan")),
        macro_f1=metrics.get("macro_f1", float("nan")),
    )
    per_class = metrics.get("per_class", {})
    if per_class:
        card.add_table(
            **{
                "Per-category scores": {
                    "category": list(per_class),
                    "precision": [v["precision"] for v in per_class.values()],
                    "recall": [v["recall"] for v in per_class.values()],
                    "f1": [v["f1"] for v in per_class.values()],
                    "support": [v["support"] for v in per_class.values()],
                }
            }
        )
    if plot is not None:
        card.add_plot(**{"Confusion matrix": plot.name})
    card.add(**{"Known limits": "\n".join(f"- {line}" for line in limits(manifest)) or "none"})
    card.add_table(
        **{
            "Training procedure": {
                "parameter": list(params),
                "value": [json.dumps(v) for v in params.values()],
            }
        }
    )
    versions = manifest.get("versions", {})
    card.add(
        **{
            "Environment": ", ".join(f"{k} {v}" for k, v in versions.items())
            + f"; git commit {manifest.get('git_commit') or 'unknown'}.",
            "How to reproduce": (
                "In the project's locked environment (same packages, same bytes):\n\n"
                f"```sh\n{reproduce_command(params)}\n```"
            ),
        }
    )
    return card


def write_card(
    folder: Path, manifest: dict[str, Any], *, with_plot: bool | None = None
) -> dict[str, bytes]:
    """``card.md`` and ``card.html`` for the entry in ``folder`` (returned, not written);
    ``with_plot``: whether the entry has (or will have) its confusion matrix, by default
    whether it is in ``folder`` now."""
    import mistune

    plot = folder / PLOT
    present = plot.exists() if with_plot is None else with_plot
    markdown = build_card(manifest, plot if present else None).render()
    body = mistune.create_markdown(plugins=["table"])(markdown)
    title = f"Model card {manifest['model_version']}"
    page = (
        f"<!doctype html><meta charset='utf-8'><title>{title}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}</style>"
        f"{body}"
    )
    return {CARD_MD: markdown.encode(), CARD_HTML: page.encode()}
