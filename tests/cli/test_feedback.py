"""``newsapi feedback export`` on the files a real server wrote: the CSV ``newsapi train``
reads, what cannot be exported (texts not logged) counted, and one line for bad input."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from newsapi.model.artifact import Artifact
from tests.support import CLEAN_EXIT, Server, newsapi

pytestmark = pytest.mark.server


def serve_and_label(
    start: Callable[..., Server], model: Artifact, folder: Path, keep_text: bool
) -> None:
    """Predictions, then feedback on them (by id, once relabelled) and on a text; stopped."""
    server = start(
        model.path,
        NEWSAPI_PREDICTION_LOG_DIR=str(folder),
        NEWSAPI_PREDICTION_LOG_TEXT=str(keep_text).lower(),
    )
    labels = [("a rocket in orbit", "space"), ("the pasta sauce", "sport"),
              ("the pasta sauce", "cooking")]  # fmt: skip
    for text, label in labels:
        answer = httpx.post(f"{server.url}/prediction", json={"text": text})
        body = {"request_id": answer.headers["x-request-id"], "label": label}
        assert httpx.post(f"{server.url}/feedback", json=body).status_code == 201
    body = {"text": "the referee and the match", "label": "sport"}
    assert httpx.post(f"{server.url}/feedback", json=body).status_code == 201
    assert server.stop() in CLEAN_EXIT


def rows(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [(row["text"], row["label"]) for row in csv.DictReader(handle)]


def test_export_joins_feedback_with_the_logged_texts(
    start_server: Callable[..., Server], tiny_model: Artifact, tmp_path: Path
) -> None:
    folder, output = tmp_path / "log", tmp_path / "labelled.csv"
    serve_and_label(start_server, tiny_model, folder, keep_text=True)
    out = newsapi("feedback", "export", "--output", str(output), "--log-dir", str(folder))
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"wrote 3 labelled texts to {output} (4 feedback records)\n"
    # a text labelled twice keeps its latest label
    assert rows(output) == [("a rocket in orbit", "space"), ("the pasta sauce", "cooking"),
                            ("the referee and the match", "sport")]  # fmt: skip
    assert output.read_text().splitlines()[0] == "text,label"  # what newsapi train reads


def test_feedback_on_requests_logged_without_text_is_counted(
    start_server: Callable[..., Server], tiny_model: Artifact, tmp_path: Path
) -> None:
    folder, output = tmp_path / "log", tmp_path / "labelled.csv"
    serve_and_label(start_server, tiny_model, folder, keep_text=False)
    out = newsapi(
        "feedback", "export", "-o", str(output), env={"NEWSAPI_PREDICTION_LOG_DIR": str(folder)}
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        f"wrote 1 labelled texts to {output} (4 feedback records; 3 name requests logged "
        "without their text (NEWSAPI_PREDICTION_LOG_TEXT was off), which cannot be exported)\n"
    )
    assert rows(output) == [("the referee and the match", "sport")]


def test_feedback_on_requests_whose_log_files_are_gone_is_counted(
    start_server: Callable[..., Server], tiny_model: Artifact, tmp_path: Path
) -> None:
    folder, output = tmp_path / "log", tmp_path / "labelled.csv"
    serve_and_label(start_server, tiny_model, folder, keep_text=True)
    for path in folder.glob("predictions-*.parquet"):  # as the byte bound removes the oldest
        path.unlink()
    out = newsapi("feedback", "export", "--output", str(output), "--log-dir", str(folder))
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        f"wrote 1 labelled texts to {output} (4 feedback records; 3 name requests not in the "
        "log's files (removed as the oldest, or still held by a running server, which writes "
        "a file every NEWSAPI_PREDICTION_LOG_FILE_SECONDS))\n"
    )
    assert rows(output) == [("the referee and the match", "sport")]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: root / "absent", "newsapi: --log-dir: {root}/absent is not a folder"),
        (lambda root: root, "newsapi: no feedback in {root} (nothing sent to POST /feedback yet)"),
    ],
)
def test_bad_input_is_one_line_and_no_file(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    output = tmp_path / "out" / "labelled.csv"
    output.parent.mkdir()
    out = newsapi("feedback", "export", "--output", str(output), "--log-dir", str(make(tmp_path)))
    assert out.returncode == 1
    assert out.stderr == message.format(root=tmp_path) + "\n"
    assert not any(output.parent.iterdir())


def test_without_a_log_folder_it_says_which_setting() -> None:
    out = newsapi("feedback", "export", "--output", "labelled.csv")
    assert out.returncode == 1
    assert out.stderr == "newsapi: feedback export needs --log-dir or NEWSAPI_PREDICTION_LOG_DIR\n"
