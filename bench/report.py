"""Ratios, targets and the printed/Markdown tables of a benchmark run.

Every figure that matters is a ratio between two things measured in the same run on the same
machine: newsapi over the HTTP floor, newsapi over the seed-style baseline, newsapi's
``/predictions`` over the in-process compute floor. Absolute numbers are kept for reference
only; they move with the machine's other load.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]

TARGET_WORKERS = 1
PREFERRED_CONNECTIONS = 32


@dataclass(frozen=True)
class Target:
    """One goal of the issue, evaluated on this run's figures."""

    name: str
    ok: bool | None  # None: not measured in this run
    detail: str

    @property
    def verdict(self) -> str:
        """PASS, MISS or n/a."""
        return "n/a" if self.ok is None else ("PASS" if self.ok else "MISS")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"name": self.name, "verdict": self.verdict, "detail": self.detail}


def target_connections(connections: Sequence[int]) -> int:
    """The load the targets are read at: 32 connections, else the most this run used."""
    return PREFERRED_CONNECTIONS if PREFERRED_CONNECTIONS in connections else max(connections)


def find(
    rows: Sequence[Row], scenario: str, app: str, workers: int, connections: int
) -> Row | None:
    """The row of one measurement, if it was run (and did not fail)."""
    for row in rows:
        if (row["scenario"], row["app"], row["workers"], row["connections"]) == (
            scenario,
            app,
            workers,
            connections,
        ):
            return row
    return None


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0 or math.isnan(denominator):
        return None
    if math.isnan(numerator):
        return None
    return numerator / denominator


def _field(row: Row | None, name: str) -> float | None:
    return None if row is None else float(row[name])


def add_ratios(rows: list[Row], compute_docs_per_s: float | None) -> None:
    """Give each row its ratios to the floor and the baseline measured like it.

    ``vs_floor``: requests/s over the HTTP floor's (for batch rows: documents/s over the
    in-process compute floor's); ``vs_seed``: requests/s over the seed baseline's;
    ``p99_vs_floor``: p99 over the floor's p99.
    """
    for row in rows:
        key = (row["scenario"], row["workers"], row["connections"])
        # a V2 request or an explanation carries one unique text: its references are the
        # unique-text rows
        like = "unique" if key[0] in ("v2", "explanation") else key[0]
        floor = find(rows, like, "floor", key[1], key[2])
        seed = find(rows, like, "seed", key[1], key[2])
        if row["scenario"] == "batch":
            beside = row.get("compute_documents_per_s") or compute_docs_per_s
            row["vs_floor"] = _ratio(row["documents_per_s"], beside)
            row["p99_vs_floor"] = None
        else:
            row["vs_floor"] = _ratio(row["requests_per_s"], _field(floor, "requests_per_s"))
            row["p99_vs_floor"] = _ratio(row["p99_ms"], _field(floor, "p99_ms"))
        row["vs_seed"] = _ratio(row["requests_per_s"], _field(seed, "requests_per_s"))


def evaluate(
    rows: Sequence[Row],
    starts: Sequence[Row],
    compute: dict[str, Any] | None,
    connections: Sequence[int],
    batch_size: int,
) -> list[Target]:
    """The issue's targets, read at 1 worker and :func:`target_connections`."""
    conns = target_connections(connections)
    at = f"{TARGET_WORKERS} worker, {conns} connections"

    def get(scenario: str, app: str) -> Row | None:
        return find(rows, scenario, app, TARGET_WORKERS, conns)

    def compare(
        name: str, scenario: str, other: str, field: str, factor: float, higher: bool, unit: str,
        other_scenario: str | None = None,
    ) -> Target:  # fmt: skip
        # higher: newsapi's figure must be at least factor x the other's (else at most)
        mine, theirs = get(scenario, "newsapi"), get(other_scenario or scenario, other)
        if mine is None or theirs is None:
            return Target(name, None, f"not measured ({at})")
        ratio = _ratio(mine[field], theirs[field])
        if ratio is None:
            return Target(name, None, f"no {field} to compare ({at})")
        mine_label = f"newsapi {scenario}" if other_scenario else "newsapi"
        theirs_label = f"{other} {other_scenario}" if other_scenario else other
        detail = (
            f"{mine_label} {_num(mine[field])} {unit} vs {theirs_label} {_num(theirs[field])} "
            f"{unit}: "
            f"{ratio:.2f}x, target {'≥' if higher else '≤'} {factor:g}x ({at})"
        )
        return Target(name, ratio >= factor if higher else ratio <= factor, detail)

    targets = [
        compare("unique texts ≥ 0.7x HTTP floor", "unique", "floor", "requests_per_s", 0.7,
                True, "req/s"),
        compare("unique texts ≥ 8x seed baseline", "unique", "seed", "requests_per_s", 8.0,
                True, "req/s"),
        compare("repeated text ≥ 0.95x HTTP floor", "repeated", "floor", "requests_per_s", 0.95,
                True, "req/s"),
        compare("unique texts p99 ≤ 2x floor p99", "unique", "floor", "p99_ms", 2.0, False,
                "ms"),
        compare("repeated text p99 ≤ 2x floor p99", "repeated", "floor", "p99_ms", 2.0, False,
                "ms"),
        compare("V2 infer (unique texts) ≥ 0.8x POST /prediction", "v2", "newsapi",
                "requests_per_s", 0.8, True, "req/s", other_scenario="unique"),
        compare("/explanation (unique texts) ≥ 0.5x POST /prediction", "explanation",
                "newsapi", "requests_per_s", 0.5, True, "req/s", other_scenario="unique"),
    ]  # fmt: skip

    name = f"/predictions ({batch_size} texts) ≥ 0.8x compute floor"
    batch = get("batch", "newsapi")
    if batch is None or compute is None:
        targets.append(Target(name, None, f"not measured ({at})"))
    else:
        beside = batch.get("compute_documents_per_s") or compute["documents_per_s"]
        ratio = batch["documents_per_s"] / beside
        targets.append(
            Target(
                name,
                ratio >= 0.8,
                f"{_num(batch['documents_per_s'])} docs/s vs in-process "
                f"{_num(beside)} docs/s measured right after it: {ratio:.2f}x, "
                f"target ≥ 0.8x ({at})",
            )
        )

    ready = [s for s in starts if s["app"] == "newsapi" and s["workers"] == TARGET_WORKERS]
    if not ready or ready[0].get("ready_s") is None:
        targets.append(Target("ready ≤ 2 s after start", None, "newsapi (1 worker) not started"))
    else:
        seconds = ready[0]["ready_s"]
        targets.append(
            Target(
                "ready ≤ 2 s after start",
                seconds <= 2.0,
                f"/readyz answered 200 {seconds:.2f} s after the process started (1 worker)",
            )
        )

    mine = [row for row in rows if row["app"] == "newsapi"]
    errors = sum(row["errors"] for row in mine)
    others = sum(row["errors"] for row in rows if row["app"] != "newsapi")
    targets.append(
        Target(
            "errors: 0",
            None if not mine else errors == 0,
            f"newsapi: {errors} in {len(mine)} runs (reference apps: {others})",
        )
    )
    return targets


# -- formatting ------------------------------------------------------------------------------
COLUMNS = (
    ("scenario", "<"), ("app", "<"), ("w", ">"), ("conns", ">"), ("req/s", ">"),
    ("docs/s", ">"), ("p50 ms", ">"), ("p99 ms", ">"), ("errors", ">"), ("vs floor", ">"),
    ("vs seed", ">"), ("p99 vs floor", ">"), ("cpu srv", ">"), ("cpu wrk", ">"),
)  # fmt: skip


def _num(value: float | None) -> str:
    """Three significant figures, no exponent: 12300, 1230, 123, 12.3, 1.23, 0.123."""
    if value is None or math.isnan(value):
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _cells(row: Row) -> list[str]:
    return [
        row["scenario"],
        row["app"],
        str(row["workers"]),
        str(row["connections"]),
        _num(row["requests_per_s"]),
        _num(row["documents_per_s"]) if row["scenario"] == "batch" else "",
        _num(row["p50_ms"]),
        _num(row["p99_ms"]),
        str(row["errors"]),
        _times(row.get("vs_floor")),
        _times(row.get("vs_seed")),
        _times(row.get("p99_vs_floor")),
        _times(row.get("server_cores")),
        _times(row.get("wrk_cores")),
    ]


def text_table(rows: Sequence[Row]) -> str:
    """The measurements as an aligned plain-text table."""
    grid = [[name for name, _ in COLUMNS], *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in grid) for i in range(len(COLUMNS))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if align == "<" else cell.rjust(width)
            for cell, width, (_, align) in zip(cells, widths, COLUMNS, strict=True)
        ).rstrip()

    rule = "-" * len(line(grid[0]))
    return "\n".join([line(grid[0]), rule, *(line(cells) for cells in grid[1:])])


def markdown_table(rows: Sequence[Row]) -> str:
    """The measurements as a Markdown table."""
    header = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    align = "|" + "|".join(":--" if a == "<" else "--:" for _, a in COLUMNS) + "|"
    body = ["| " + " | ".join(cell or " " for cell in _cells(row)) + " |" for row in rows]
    return "\n".join([header, align, *body])


TABLE_NOTES = (
    "vs floor: requests/s over the HTTP floor's at the same workers and connections (batch "
    "rows: documents/s over the in-process compute floor's); vs seed: over the seed-style "
    "baseline's; p99 vs floor: p99 over the floor's p99; cpu srv / cpu wrk: cores used by the "
    "server's workers and their child processes / by wrk during the run (2 cores in all)."
)


def target_lines(targets: Sequence[Target]) -> list[str]:
    """``PASS name: detail`` lines."""
    return [f"{t.verdict:<4} {t.name}: {t.detail}" for t in targets]


def start_lines(starts: Sequence[Row]) -> list[str]:
    """Start-up time and resident memory of every server start."""
    lines = []
    for start in starts:
        if start.get("ready_s") is None:
            lines.append(f"{start['app']} ({start['workers']} worker(s)): did not start")
            continue
        after_start = ", ".join(f"{kib / 1024:.0f}" for kib in start["rss_kib_after_start"])
        after_load = ", ".join(f"{kib / 1024:.0f}" for kib in start.get("rss_kib_after_load", []))
        lines.append(
            f"{start['app']} ({start['workers']} worker(s)): first 200 after "
            f"{start['ready_s']:.2f} s, all workers accepting after {start['all_ready_s']:.2f} s; "
            f"RSS per worker {after_start} MiB after start, {after_load or '-'} MiB after load"
        )
    return lines


def compute_lines(compute: dict[str, Any] | None) -> list[str]:
    """The in-process compute floor, in words."""
    if compute is None:
        return ["compute floor: not measured"]
    lines = [
        f"compute floor (in-process predict, no server): {_num(compute['documents_per_s'])} "
        f"docs/s in batches of {compute['batch_size']} "
        f"({compute['batch_seconds_median'] * 1e3:.1f} ms a batch, median); one text "
        f"{compute['single_ms_median']:.3f} ms median, {compute['single_ms_p99']:.3f} ms p99"
    ]
    if compute.get("lean_single_ms_median") is not None:
        lines.append(
            f"lean path (what newsapi computes with, in-process): one text "
            f"{compute['lean_single_ms_median']:.3f} ms median, "
            f"{compute['lean_single_ms_p99']:.3f} ms p99; "
            f"{_num(compute['lean_documents_per_s'])} docs/s in batches of "
            f"{compute['batch_size']}"
        )
    elif "inference" in compute:
        lines.append("lean path: not used, the model is computed by scikit-learn (see /model)")
    return lines


def markdown(result: dict[str, Any]) -> str:
    """The whole run as a Markdown summary."""
    meta = result["meta"]
    settings = result["settings"]
    out = [
        f"# newsapi benchmark, {meta['started_utc']}",
        "",
        f"Mode: {'smoke' if settings['smoke'] else 'full'}; commit {meta['git_commit']}"
        f"{' (with uncommitted changes)' if meta['git_dirty'] else ''}; model "
        f"{meta['model_version']}; {meta['cpus']} CPUs; Python {meta['python']}; {meta['wrk']}.",
        "",
        f"Each run: {settings['warmup_s']} s warm-up, then {settings['duration_s']} s measured, "
        f"`wrk -t{settings['wrk_threads']}`; connections {settings['connections']}; workers "
        f"{settings['workers']}; batch of {settings['batch_size']} texts. Total "
        f"{result['elapsed_s']:.0f} s.",
        "",
        "## Targets",
        "",
        *(f"- **{t['verdict']}** {t['name']}: {t['detail']}" for t in result["targets"]),
        "",
        "## Measurements",
        "",
        markdown_table(result["runs"]),
        "",
        TABLE_NOTES,
        "",
        "## Compute floor, start-up and memory",
        "",
        *(f"- {line}" for line in compute_lines(result["compute_floor"])),
        *(f"- {line}" for line in start_lines(result["starts"])),
    ]
    if result["failures"]:
        out += ["", "## Failures", "", *(f"- {failure}" for failure in result["failures"])]
    return "\n".join(out) + "\n"


# -- the one-connection tail and fairness under big batches ---------------------------
def tail_target(rows: Sequence[Row]) -> Target:
    """Unique texts at one connection: p99 within 2x the p50 of the same run."""
    name = "one-connection p99 ≤ 2x its p50"
    row = find(rows, "unique", "newsapi", TARGET_WORKERS, 1)
    if row is None:
        return Target(name, None, "not measured (unique texts, 1 worker, 1 connection)")
    ratio = _ratio(row["p99_ms"], row["p50_ms"])
    if ratio is None:
        return Target(name, None, "no latency to compare")
    return Target(
        name,
        ratio <= 2.0,
        f"unique texts, 1 worker, 1 connection: p50 {row['p50_ms']:.2f} ms, p99 "
        f"{row['p99_ms']:.2f} ms: {ratio:.2f}x, target ≤ 2x",
    )


def fairness_targets(fairness: dict[str, Any] | None) -> list[Target]:
    """Single texts beside two clients sending big batches (see bench/fairness.py)."""
    names = (
        "fairness: single texts keep ≥ 0.5x their unloaded req/s under big batches",
        "fairness: single-text p50 ≤ 5x unloaded p50 under big batches",
        "fairness: big batches still finish",
    )
    if fairness is None:
        return [Target(name, None, "not measured") for name in names]
    alone, loaded = fairness["unloaded"], fairness["loaded"]
    shape = (
        f"{fairness['connections']} connections beside 2 clients sending batches of "
        f"{fairness['batch_texts']:,} texts of {fairness['text_chars']:,} characters"
    )
    throughput = _ratio(loaded["requests_per_s"], alone["requests_per_s"])
    p50 = _ratio(loaded["p50_ms"], alone["p50_ms"])
    done = fairness["batches_completed"]
    errors = len(fairness["batch_errors"]) + loaded["errors"]
    return [
        Target(
            names[0],
            None if throughput is None else throughput >= 0.5,
            f"{_num(loaded['requests_per_s'])} vs {_num(alone['requests_per_s'])} req/s alone: "
            f"{_times(throughput)}x ({shape})",
        ),
        Target(
            names[1],
            None if p50 is None else p50 <= 5.0,
            f"p50 {loaded['p50_ms']:.2f} vs {alone['p50_ms']:.2f} ms alone: {_times(p50)}x "
            f"(p99 {loaded['p99_ms']:.1f} vs {alone['p99_ms']:.1f} ms)",
        ),
        Target(
            names[2],
            min(done) >= 1 and errors == 0,
            f"batches answered per client: {done} ({fairness['batches_completed_during']} "
            f"within the measured run), slowest "
            f"{_num(fairness['batch_seconds_max'])} s; errors {errors}",
        ),
    ]


# -- the lean path's targets ------------------------------------------------------------------
def lean_targets(
    rows: Sequence[Row], compute: dict[str, Any] | None, connections: Sequence[int]
) -> list[Target]:
    """What the lean path (newsapi.serving.lean) set out to reach: one text in-process, one
    connection beside the HTTP floor, the floor itself under load, and ``/predictions``."""
    targets = [_in_process_target(compute)]
    alone = find(rows, "unique", "newsapi", TARGET_WORKERS, 1)
    floor_alone = find(rows, "unique", "floor", TARGET_WORKERS, 1)
    at_one = f"unique texts, {TARGET_WORKERS} worker, 1 connection"
    for name, field, factor, higher in (
        ("one connection: unique texts p50 ≤ 1.5x HTTP floor p50", "p50_ms", 1.5, False),
        ("one connection: unique texts ≥ 0.6x HTTP floor req/s", "requests_per_s", 0.6, True),
    ):
        ratio = _ratio(_field(alone, field), _field(floor_alone, field))
        if alone is None or floor_alone is None or ratio is None:
            targets.append(Target(name, None, f"not measured ({at_one})"))
            continue
        unit = "ms" if field == "p50_ms" else "req/s"
        targets.append(
            Target(
                name,
                ratio >= factor if higher else ratio <= factor,
                f"newsapi {_num(alone[field])} {unit} vs floor {_num(floor_alone[field])} "
                f"{unit}: {ratio:.2f}x, target {'≥' if higher else '≤'} {factor:g}x ({at_one})",
            )
        )
    conns = target_connections(connections)
    at = f"{TARGET_WORKERS} worker, {conns} connections"
    name = f"unique texts ≥ 1.0x HTTP floor ({conns} connections)"
    mine = find(rows, "unique", "newsapi", TARGET_WORKERS, conns)
    floor = find(rows, "unique", "floor", TARGET_WORKERS, conns)
    ratio = _ratio(_field(mine, "requests_per_s"), _field(floor, "requests_per_s"))
    if mine is None or floor is None or ratio is None:
        targets.append(Target(name, None, f"not measured ({at})"))
    else:
        targets.append(
            Target(
                name,
                ratio >= 1.0,
                f"{_num(mine['requests_per_s'])} vs {_num(floor['requests_per_s'])} req/s: "
                f"{ratio:.2f}x, target ≥ 1.0x ({at})",
            )
        )
    targets.append(
        _batch_target(find(rows, "batch", "newsapi", TARGET_WORKERS, conns), compute, at)
    )
    return targets


def _in_process_target(compute: dict[str, Any] | None) -> Target:
    name = "in-process: one text ≤ 0.1 ms median (lean path)"
    if compute is None:
        return Target(name, None, "compute floor not measured")
    lean = compute.get("lean_single_ms_median")
    if lean is None:
        return Target(name, False, "the model is computed by scikit-learn (see /model)")
    sklearn = compute["single_ms_median"]
    return Target(
        name,
        lean <= 0.1,
        f"lean {lean:.3f} ms vs scikit-learn {sklearn:.3f} ms median, same texts in turn "
        f"({sklearn / lean:.0f}x faster), target ≤ 0.1 ms",
    )


def _batch_target(batch: Row | None, compute: dict[str, Any] | None, at: str) -> Target:
    """≥ 0.9x the in-process compute floor; ≥ 1.0x when the lean path's batch is faster than
    scikit-learn's (then the service can beat the floor)."""
    name = "/predictions ≥ 0.9x compute floor (≥ 1.0x when the lean batch beats scikit-learn's)"
    if batch is None or compute is None:
        return Target(name, None, f"not measured ({at})")
    lean_rate = compute.get("lean_documents_per_s")
    faster = lean_rate is not None and lean_rate > compute["documents_per_s"]
    factor = 1.0 if faster else 0.9
    beside = batch.get("compute_documents_per_s") or compute["documents_per_s"]
    ratio = batch["documents_per_s"] / beside
    lean_note = (
        f"; in-process lean batch {_num(lean_rate)} vs scikit-learn "
        f"{_num(compute['documents_per_s'])} docs/s at the start"
        if lean_rate is not None
        else ""
    )
    return Target(
        name,
        ratio >= factor,
        f"{_num(batch['documents_per_s'])} docs/s vs scikit-learn's in-process "
        f"{_num(beside)} docs/s measured right after it: {ratio:.2f}x, target ≥ {factor:g}x"
        f"{lean_note} ({at})",
    )


# -- the prediction log -------------------------------------------------------------------------
def log_target(
    rows: Sequence[Row], connections: Sequence[int], pairs: Sequence[tuple[Row, Row]] = ()
) -> Target:
    """Unique texts with the prediction log on (every answer logged) against the same run
    with it off, measured right after it: ≥ 0.9x the requests/s, read as the median ratio of
    the scenario's own pair and the ``pairs`` measured after it (each given as off, on;
    measured in turns, :data:`bench.runner.VARIANT_PAIRS`), with no record dropped and no
    error in any of them."""
    name = "prediction log on (sample 1) ≥ 0.9x off, unique texts"
    conns = target_connections(connections)
    at = f"{TARGET_WORKERS} worker, {conns} connections"
    on = find(rows, "unique", "newsapi-log", TARGET_WORKERS, conns)
    off = find(rows, "unique", "newsapi", TARGET_WORKERS, conns)
    if on is None or off is None:
        return Target(name, None, f"not measured ({at}; --apps newsapi,newsapi-log)")
    every = [(off, on), *pairs]
    ratios = [_ratio(_field(b, "requests_per_s"), _field(a, "requests_per_s")) for a, b in every]
    if any(ratio is None for ratio in ratios):
        return Target(name, None, f"no requests/s to compare ({at})")
    ratio = statistics.median(r for r in ratios if r is not None)
    # records the log dropped cost less than logging them: a run that dropped any misses
    dropped: list[float | None] = [b.get("log_dropped") for _, b in every]
    most = None if None in dropped else max(d for d in dropped if d is not None)
    shown = "unknown" if most is None else f"{most:.0f}"
    errors = sum(row["errors"] for pair in every for row in pair)
    each = ", ".join(f"{r:.2f}x" for r in ratios if r is not None)
    return Target(
        name,
        ratio >= 0.9 and most == 0 and errors == 0,
        f"{_num(on['requests_per_s'])} vs {_num(off['requests_per_s'])} req/s in the first pair; "
        f"median of {len(every)} pairs {ratio:.2f}x ({each}), target ≥ 0.9x with no record "
        f"dropped ({shown} dropped) and no error ({errors}) ({at})",
    )
