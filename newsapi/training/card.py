"""Model cards: Hugging Face's layout (via skops' card module), generated from a manifest."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from newsapi.model.params import DEFAULTS, TrainingParameters
from newsapi.training.highlight import highlighted
from newsapi.training.pipeline import most_confused, weakest_category

CARD_MD = "card.md"
CARD_HTML = "card.html"
PLOT = "confusion_matrix.png"

# What a value from the data or the manifest (a category, a term, a corpus path) must not do
# in Markdown: open raw HTML or an entity (escaped as entities, which every Markdown renderer
# passes through, Python-Markdown's too; a backslash before "<" is CommonMark's only), or a
# link, emphasis, code span or table cell (backslash-escaped); a line break would start a block.
_MARKDOWN_TEXT = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        **{char: "\\" + char for char in "\\`*[]|"},
        "\n": " ",
        "\r": " ",
    }
)

_LONE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def markdown_text(value: object) -> str:
    """``value`` as Markdown text that renders as itself: no HTML, link, emphasis, code span
    or table cell boundary of its own. Letters, digits, dots and hyphens are left as they are."""
    # an underscore inside a word cannot open emphasis (multinomial_nb stays as it reads)
    return _LONE_UNDERSCORE.sub(r"\\_", str(value).translate(_MARKDOWN_TEXT))


def markdown_code(value: object) -> str:
    """``value`` as a Markdown code span: fenced by more backticks than it holds in a row
    (CommonMark's rule), so that it cannot close the span early; no HTML is read inside one."""
    text = str(value).replace("\n", " ").replace("\r", " ")
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text[:1] == "`" or text[-1:] == "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


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
        found.append(
            f"The weakest category is {markdown_code(name)}: F1 {f1:.3f}, recall {recall:.3f}."
        )
    if metrics.get("confusion_matrix"):
        true, predicted, count = most_confused(metrics, names)
        found.append(
            f"The most frequent mistake: {count} {markdown_code(true)} test posts taken for "
            f"{markdown_code(predicted)}."
            if count
            else "No test post was misclassified."
        )
    leaks = manifest.get("artefact_terms") or {}
    artefacts = sorted({term for terms in leaks.values() for term in terms})
    if artefacts:
        total = sum(len(terms) for terms in manifest.get("top_terms", {}).values())
        found.append(
            f"{len(artefacts)} of the {total} most distinctive terms mostly vanish when headers, "
            f"signatures and quotes are stripped ({markdown_text(', '.join(artefacts[:12]))}): "
            "they name "
            "posters and hosts, so part of the score comes from who posted where, not from "
            "what was written. Train with `remove: [headers, footers, quotes]` to measure "
            "without them."
        )
    return found


def explained_sentences(manifest: dict[str, Any]) -> str | None:
    """The card's section on the notebook's own sentences, from what ``01_train.ipynb``
    recorded (:func:`newsapi.training.sentences.explained_sentences`); None when nothing was
    recorded (a model stored another way)."""
    record = manifest.get("explained_sentences")
    if not record:
        return None
    if "unexplained" in record:
        return f"Not explained: {markdown_text(record['unexplained'])}"
    lines = [
        "The sentences `02_evaluate.ipynb` classifies, written for it (not posts of the "
        "corpus), with the words that decided each: highlighted in blue when they pull "
        "towards the category, in red when they pull towards the runner-up. The weights "
        "are each term's exact part of the score difference between the two, as "
        "`POST /explanation` gives them.",
        "",
    ]
    for sentence in record["sentences"]:
        terms = ", ".join(
            f"{markdown_text(term['term'])} {term['weight']:+.3f}" for term in sentence["terms"]
        )
        lines.append(
            f"- {highlighted(sentence['text'], sentence['terms'], markdown_text)} → "
            f"{markdown_code(sentence['category'])} rather than "
            f"{markdown_code(sentence['runner_up'])} ({terms or 'no known term'})"
        )
    return "\n".join(lines)


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
            f"Model card: newsgroups classifier {markdown_text(version)}": (
                f"A scikit-learn `TfidfVectorizer` + {markdown_code(classifier)} pipeline that "
                f"sorts a short English text into one of {len(manifest['target_names'])} "
                f"newsgroup categories. Model version {markdown_code(version)} (sha256 "
                f"{markdown_code(manifest['sha256'])}), created "
                f"{markdown_text(manifest.get('created_at', '?'))}."
            ),
            "Intended uses & limitations": (
                "Routing or tagging posts in the style of 1990s Usenet discussion groups; a "
                "teaching example of a served text classifier. It knows only the categories "
                "below and always answers one of them, whatever the text."
            ),
            "Training data": (
                f"Corpus: {markdown_text(data.get('source', '?'))} "
                f"({markdown_text(data.get('split', 'own split'))}); "
                f"categories: {markdown_text(', '.join(manifest['target_names']))}; "
                f"parts removed: {markdown_text(', '.join(data.get('remove') or []) or 'none')}; "
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
                    "category": [markdown_text(name) for name in per_class],
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
    explained = explained_sentences(manifest)
    if explained is not None:
        card.add(**{"How it decides sentences of our own": explained})
    card.add_table(
        **{
            "Training procedure": {
                "parameter": [markdown_text(name) for name in params],
                "value": [markdown_text(json.dumps(v)) for v in params.values()],
            }
        }
    )
    versions = manifest.get("versions", {})
    card.add(
        **{
            "Environment": markdown_text(
                ", ".join(f"{k} {v}" for k, v in versions.items())
                + f"; git commit {manifest.get('git_commit') or 'unknown'}."
            ),
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
    # every value of the manifest is escaped in the Markdown (markdown_text, markdown_code), so
    # the page is rendered as CommonMark says: entities kept, which mistune's escape=True would
    # escape a second time (a category "<b>" would read "&lt;b&gt;")
    body = mistune.create_markdown(escape=False, plugins=["table"])(markdown)
    title = html.escape(f"Model card {manifest['model_version']}")
    page = (
        f"<!doctype html><meta charset='utf-8'><title>{title}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}</style>"
        f"{body}"
    )
    return {CARD_MD: markdown.encode(), CARD_HTML: page.encode()}
