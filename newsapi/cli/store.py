"""The store's commands: ``runs``, ``show``, ``compare``, ``promote``, ``rollback``, ``index``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from newsapi.cli import signals
from newsapi.cli.common import (
    RELOAD_HINT,
    artifacts_option,
    fail,
    open_store,
    resolve,
    score,
    signed,
)
from newsapi.store.catalog import ModelStore


@click.command()
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option(
    "--sort",
    type=click.Choice(["created_at", "accuracy", "macro_f1"]),
    default="created_at",
    show_default=True,
)
@artifacts_option
def runs(as_json: bool, sort: str, artifacts: Path) -> None:
    """One line per stored model, newest first; * marks the promoted one. A parameter is
    shown where it varies between runs and the run's classifier uses it (else -)."""
    from newsapi.store.runs import columns, runs_table, shown

    rows = runs_table(open_store(artifacts), sort_by=sort)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        raise fail(f"no stored models in {artifacts / 'models'}; train one with `newsapi train`")
    varying = columns(rows)
    header = ["", "version", "created (UTC)", "classifier", *varying, "accuracy", "macro-F1"]
    table = [header]
    for row in rows:
        table.append(
            [
                "*" if row["promoted"] else "",
                row["version"],
                row["created_at"][:19].replace("T", " "),
                str(row["classifier"]),
                *(_truncated(shown(row, name)) for name in varying),
                score(row["accuracy"]),
                score(row["macro_f1"]),
            ]
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


def _truncated(text: str, width: int = 24) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _served_whole(store: ModelStore) -> bool:
    """Whether the served model has its own manifest beside it (not a pair caught half-way
    through a promotion, which promoting again puts right)."""
    from newsapi.model.artifact import ArtifactError, read_manifest

    try:
        served = store.served_version()
        return served is not None and read_manifest(store.served_path)["sha256"].startswith(served)
    except (ArtifactError, KeyError):
        return False


@click.command()
@click.argument("version")
@artifacts_option
def show(version: str, artifacts: Path) -> None:
    """The manifest of one stored model, readable."""
    entry = resolve(artifacts, version)
    manifest = entry.manifest
    metrics = manifest.get("metrics", {})
    lines = [
        f"model {entry.version}  ({entry.path})",
        f"created     {manifest.get('created_at')}",
        f"sha256      {manifest['sha256']}",
        f"promoted    {'yes' if entry.version == open_store(artifacts).served_version() else 'no'}",
        f"accuracy    {score(metrics.get('accuracy'))}",
        f"macro-F1    {score(metrics.get('macro_f1'))}",
        "parameters",
        *(f"  {k:<14}{json.dumps(v)}" for k, v in manifest.get("parameters", {}).items()),
        "per category (precision recall f1 support)",
        *(
            f"  {name:<28}{s['precision']:.4f} {s['recall']:.4f} {s['f1']:.4f} {s['support']}"
            for name, s in metrics.get("per_class", {}).items()
        ),
        "versions    " + ", ".join(f"{k} {v}" for k, v in manifest.get("versions", {}).items()),
        f"git commit  {manifest.get('git_commit')}",
    ]
    if "sweep" in manifest:
        sweep = manifest["sweep"]
        lines.append(f"sweep       {json.dumps(sweep, sort_keys=True)[:300]}")
    click.echo("\n".join(lines))


@click.command()
@click.argument("a")
@click.argument("b")
@artifacts_option
def compare(a: str, b: str, artifacts: Path) -> None:
    """Parameters that differ between A and B, and the change in the scores (B minus A)."""
    from newsapi.store.runs import compare as compare_entries

    first, second = resolve(artifacts, a), resolve(artifacts, b)
    result = compare_entries(first, second)
    click.echo(f"A = {result['a']}   B = {result['b']}")
    if result["parameters"]:
        click.echo("parameters that differ")
        for name, (va, vb) in result["parameters"].items():
            click.echo(f"  {name:<14}{json.dumps(va)} -> {json.dumps(vb)}")
    else:
        click.echo("same parameters")
    click.echo(f"{'':<30}{'A':>8}{'B':>8}{'B - A':>9}")
    for name, (va, vb, delta) in result["metrics"].items():
        click.echo(f"{name:<30}{score(va):>8}{score(vb):>8}{signed(delta):>9}")
    for name, (va, vb, delta) in result["per_class_f1"].items():
        click.echo(f"{'F1 ' + name:<30}{score(va):>8}{score(vb):>8}{signed(delta):>9}")


@click.command()
@click.argument("version")
@artifacts_option
def promote(version: str, artifacts: Path) -> None:
    """Serve a stored model (the served pair is replaced, the event logged); one that is
    served already is left as it is, and nothing is logged."""
    store = open_store(artifacts)
    previous = store.served_version()
    if resolve(artifacts, version).version == previous and _served_whole(store):
        click.echo(f"model {previous} is already the promoted model; nothing changed")
        return
    entry = store.promote(version)
    was = f" (was {previous})" if previous else ""
    click.echo(f"model {entry.version} is now promoted{was}; {RELOAD_HINT}")


@click.command()
@artifacts_option
def rollback(artifacts: Path) -> None:
    """Serve again the model promoted before the current one."""
    store = open_store(artifacts)
    previous = store.served_version()
    entry = store.rollback()
    click.echo(f"rolled back to model {entry.version} (was {previous}); {RELOAD_HINT}")


@click.command()
@artifacts_option
@signals.stops_like_ctrl_c
def index(artifacts: Path) -> None:
    """Execute 04_compare.ipynb over the store into <artifacts>/index.html."""
    from newsapi.jobs.notebook import refresh_index

    page = refresh_index(open_store(artifacts))
    click.echo(f"runs page: {page}")
