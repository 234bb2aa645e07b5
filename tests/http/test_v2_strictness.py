"""The Open Inference Protocol's request types, taken at their word: a shape is a list of
integers, rows of data need the shape that says so, an output is asked for once; and no error
echoes more than a bounded prefix of what the client sent. Each case on the fast lane
(``/v2/models/newsgroups/infer``) and on FastAPI's route (``.../versions/<v>/infer``), through
the app's real lifespan."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newsapi.http.pipeline import ECHO_CHARS
from newsapi.model.artifact import Artifact
from newsapi.settings import MODEL_FILENAME

TEXT = "the rocket will launch a satellite into orbit"


def text_input(**fields: Any) -> dict[str, Any]:
    return {"name": "text", "shape": [1], "datatype": "BYTES", "data": [TEXT], **fields}


def paths(client: TestClient) -> dict[str, str]:
    version = client.get("/v2/models/newsgroups").json()["versions"][0]
    return {
        "lane": "/v2/models/newsgroups/infer",
        "route": f"/v2/models/newsgroups/versions/{version}/infer",
    }


def ask(client: TestClient, body: dict[str, Any]) -> dict[str, tuple[int, Any]]:
    """The status and body of the same request on both paths."""
    answers = {}
    for name, path in paths(client).items():
        response = client.post(path, content=json.dumps(body))
        answers[name] = (response.status_code, response.json())
    return answers


@pytest.mark.parametrize(
    ("shape", "field"),
    [
        (["1"], "inputs.0.shape.0"),
        ([True], "inputs.0.shape.0"),
        ([1.0], "inputs.0.shape.0"),
        ([1, "1"], "inputs.0.shape.1"),
        ([None], "inputs.0.shape.0"),
    ],
)
def test_a_shape_that_is_not_a_list_of_integers_is_refused_naming_the_field(
    client: TestClient, shape: list[Any], field: str
) -> None:
    for path, (status, body) in ask(client, {"inputs": [text_input(shape=shape)]}).items():
        assert status == 400, path
        assert body == {"error": f"body.{field}: Input should be a valid integer"}, path


def test_rows_of_data_need_the_shape_n_1(client: TestClient) -> None:
    """``[["a"]]`` is one row of one text: shape ``[1, 1]``, not ``[1]``; a row of two texts
    is not a text per row."""
    cases = {
        "rows, flat shape": text_input(data=[[TEXT]], shape=[1]),
        "two rows, flat shape": text_input(data=[[TEXT], [TEXT]], shape=[2]),
        "a row of two texts": text_input(data=[[TEXT, TEXT]], shape=[2, 1]),
        "an empty row": text_input(data=[[TEXT], []], shape=[2, 1]),
    }
    refused = {name: ask(client, {"inputs": [body]}) for name, body in cases.items()}
    accepted = {
        "rows, shape [N, 1]": ask(
            client, {"inputs": [text_input(data=[[TEXT], [TEXT]], shape=[2, 1])]}
        ),
        "flat, shape [N, 1]": ask(client, {"inputs": [text_input(shape=[1, 1])]}),
        "flat, shape [N]": ask(client, {"inputs": [text_input()]}),
    }
    for name, answers in refused.items():
        for path, (status, body) in answers.items():
            assert status == 400, (name, path)
            assert body["error"].startswith(
                "data given as rows needs one text per row and shape [N, 1]"
            ), (name, path)
    for name, answers in accepted.items():
        for path, (status, body) in answers.items():
            assert status == 200, (name, path, body)
            assert body["outputs"][0]["data"][0] == "space"


def test_an_output_asked_for_twice_is_refused(client: TestClient) -> None:
    twice = [{"name": "category"}, {"name": "scores"}, {"name": "category"}]
    for path, (status, body) in ask(client, {"inputs": [text_input()], "outputs": twice}).items():
        assert status == 400, path
        assert body == {"error": "output 'category' is asked for more than once"}, path
    explained = client.post(
        "/v2/models/newsgroups/explain",
        json={"inputs": [text_input()], "outputs": [{"name": "category"}] * 2},
    )
    assert (explained.status_code, explained.json()) == (
        400,
        {"error": "output 'category' is asked for more than once"},
    )
    both = [{"name": "category"}, {"name": "scores"}]
    for path, (status, body) in ask(client, {"inputs": [text_input()], "outputs": both}).items():
        assert status == 200, path
        assert [output["name"] for output in body["outputs"]] == ["category", "scores"]


def test_errors_echo_a_bounded_prefix_of_what_the_client_sent(
    client: TestClient,
    client_for: Callable[..., TestClient],
    tiny_model: Artifact,
    tmp_path: Path,
) -> None:
    """A 60,000-character model name or version in the URL, a 100,000-character output name,
    a shape of 100,000 dimensions, a 100 KB content type and a 100 KB request id with a bad
    request: each error names the value by its first ECHO_CHARS characters and its length."""
    long_name = "m" * 60_000
    card_client = client_for(stored(tiny_model, tmp_path / "store"))
    answers = {
        "model name": client.get(f"/v2/models/{long_name}"),
        "model name, infer": client.post(
            f"/v2/models/{long_name}/infer", json={"inputs": [text_input()]}
        ),
        "version": client.get(f"/v2/models/newsgroups/versions/{long_name}"),
        "output": client.post(
            "/v2/models/newsgroups/infer",
            json={"inputs": [text_input()], "outputs": [{"name": "o" * 100_000}]},
        ),
        "shape": client.post(
            "/v2/models/newsgroups/infer", json={"inputs": [text_input(shape=[1] * 100_000)]}
        ),
        "content type": client.post(
            "/prediction", content=b"{}", headers={"content-type": "a" * 100_000}
        ),
        "content type, v2": client.post(
            "/v2/models/newsgroups/infer", content=b"{}", headers={"content-type": "a" * 100_000}
        ),
        "output, explain": client.post(
            "/v2/models/newsgroups/explain",
            json={"inputs": [text_input()], "outputs": [{"name": "o" * 100_000}]},
        ),
        "card file": card_client.get(f"/model/card/{'c' * 60_000}.html"),
        "id": client.post(
            "/v2/models/newsgroups/infer",
            json={"id": "i" * 100_000, "inputs": [text_input(shape=[2])]},
        ),
    }
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "model name": 404, "model name, infer": 404, "version": 404, "output": 400,
        "shape": 400, "content type": 415, "content type, v2": 415, "output, explain": 400,
        "card file": 404, "id": 400,
    }  # fmt: skip
    for name, answer in answers.items():
        assert len(answer.content) < 400, (name, answer.content[:500])
    prefix = repr("m" * ECHO_CHARS)
    messages = {
        name: answer.json().get("error") or answer.json()["detail"]
        for name, answer in answers.items()
    }
    assert messages["model name"] == (
        f"unknown model {prefix}... (60000 characters); this server serves 'newsgroups'"
    )
    assert messages["version"] == (
        f"model 'newsgroups' has no version {prefix}... (60000 characters); "
        f"it serves {tiny_model.model_version!r}"
    )
    for name in ("output", "output, explain"):
        assert f"{'o' * ECHO_CHARS!r}... (100000 characters)" in messages[name], name
    assert messages["card file"] == (
        f"the model card has no file {'c' * ECHO_CHARS!r}... (60005 characters)"
    )
    assert "(300000 characters)" in messages["shape"]
    assert f"{'a' * ECHO_CHARS!r}... (100000 characters)" in messages["content type"]
    assert "i" * 100 not in messages["id"]


def stored(artifact: Artifact, root: Path) -> Path:
    """``artifact`` as the promoted model of a store under ``root`` (its entry and the served
    pair), so that the app serves its card's files."""
    entry = root / "models" / artifact.model_version
    entry.mkdir(parents=True)
    for folder in (root, entry):
        shutil.copy(artifact.path, folder / MODEL_FILENAME)
        shutil.copy(
            artifact.path.with_suffix(".json"), (folder / MODEL_FILENAME).with_suffix(".json")
        )
    return root / MODEL_FILENAME


def test_short_values_are_echoed_whole(client: TestClient) -> None:
    assert client.get("/v2/models/other").json() == {
        "error": "unknown model 'other'; this server serves 'newsgroups'"
    }
    answer = client.post(
        "/v2/models/newsgroups/infer", json={"inputs": [text_input()], "outputs": [{"name": "x"}]}
    )
    assert answer.json() == {"error": "unknown output 'x'; the outputs are ('category', 'scores')"}
