"""The streaming loop: a piece read batch by batch, scored, and written into its part files;
and the pieces one after the other in this process.

Memory holds one batch at a time (at most :data:`~newsapi.scoring.sources.BATCH_ROWS` rows,
from a block of at most :data:`~newsapi.scoring.sources.BLOCK_BYTES` of input), its features
and its answers, and the open part file's writer: never the input, never the output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from newsapi.scoring.ahead import read_ahead
from newsapi.scoring.batches import Scorer, Unread
from newsapi.scoring.readers import read_piece
from newsapi.scoring.sinks import Chunk, Parts, PartWriter
from newsapi.scoring.sources import Piece, Plan, RawBatch

#: told the rows and input bytes done after each batch
OnProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class PieceResult:
    """A finished piece: its rows, those without text by reason, and how many of its rows
    an earlier (interrupted) run had finished."""

    index: int
    rows: int
    unread: dict[str, int]
    reused: int = 0


def score_piece(
    plan: Plan,
    piece: Piece,
    scorer: Scorer,
    parts: Parts,
    first_row: int,
    on_progress: OnProgress | None = None,
) -> PieceResult:
    """Score ``piece`` (whose first row is row ``first_row`` of the input) into its part files
    of ``parts.chunk_rows`` rows; the parts an interrupted run finished
    are kept and their rows skipped."""
    report = on_progress or (lambda rows, size: None)
    finished = parts.finished_piece(piece.index)
    if finished is not None:
        report(finished.rows, piece.size)
        return PieceResult(piece.index, finished.rows, finished.unread, finished.rows)
    chunks = parts.finished_chunks(piece.index)
    rows = reused = sum(chunk.rows for chunk in chunks)
    unread = Unread()
    for chunk in chunks:
        unread.add(Unread(**chunk.unread))
    row, reported = first_row + rows, 0
    writer: PartWriter | None = None
    in_chunk = Unread()
    try:
        for raw in read_ahead(read_piece(plan, piece, skip_rows=rows)):
            count, offset = len(raw.texts), 0
            while offset < count:
                if writer is None:
                    writer = parts.open_part(piece.index, len(chunks), scorer.schema)
                take = min(count - offset, parts.chunk_rows - writer.rows)
                ids = None if raw.ids is None else raw.ids.slice(offset, take)
                texts = raw.texts.slice(offset, take)
                batch, missing = scorer.score(plan, RawBatch(texts, ids, 0), row)
                writer.write(batch)
                in_chunk.add(missing)
                row, offset = row + take, offset + take
                if writer.rows >= parts.chunk_rows:
                    chunks.append(writer.commit(in_chunk.as_dict()))
                    unread.add(in_chunk)
                    writer, in_chunk = None, Unread()
            report(count, raw.size)
            reported += raw.size
        if writer is not None:
            chunks.append(writer.commit(in_chunk.as_dict()))
            unread.add(in_chunk)
            writer = None
    finally:
        if writer is not None:  # a part cut short: a resumed run writes it again
            writer.close()
            writer.scratch.unlink(missing_ok=True)
    total = row - first_row
    parts.finish_piece(piece.index, Chunk(total, unread.as_dict()))
    if piece.size > reported:
        report(0, piece.size - reported)
    return PieceResult(piece.index, total, unread.as_dict(), reused)


def run_local(
    plan: Plan, scorer: Scorer, parts: Parts, on_progress: OnProgress | None = None
) -> list[PieceResult]:
    """Every piece in order, in this process; row numbers run on from piece to piece."""
    results = []
    row = 0
    for piece in plan.pieces:
        result = score_piece(plan, piece, scorer, parts, row, on_progress)
        results.append(result)
        row += result.rows
    return results


def first_rows(
    plan: Plan, parts: Parts, count: Callable[[list[Piece]], dict[int, int]]
) -> dict[int, int]:
    """Each piece's first row number: from the plan, from finished pieces, and otherwise from
    ``count`` (each piece's index to its rows), asked only for the pieces whose rows are not
    known when the id is the row number (CSV and JSON Lines pieces); the processes or the
    workers count them (:mod:`.pool`, :mod:`.cluster`)."""
    counts: dict[int, int] = {}
    unknown = []
    for piece in plan.pieces:
        finished = parts.finished_piece(piece.index)
        if finished is not None:
            counts[piece.index] = finished.rows
        elif piece.rows is not None:
            counts[piece.index] = piece.rows
        else:
            unknown.append(piece)
    if unknown and plan.row_numbers:
        counts.update(count(unknown))
    first, row = {}, 0
    for piece in plan.pieces:
        first[piece.index] = row
        row += counts.get(piece.index, 0)
    return first
