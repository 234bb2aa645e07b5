"""The Open Inference Protocol (V2) over real HTTP to a real uvicorn, with NVIDIA's own
``tritonclient`` and with requests shaped exactly as MLServer's ``StringCodec`` shapes them."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np
import pytest
import tritonclient.http as triton

from newsapi.model.artifact import Artifact
from tests.support import ROOT, Server, launch, metric, wait_ready

pytestmark = pytest.mark.server

TEXTS = [
    "the rocket will launch a satellite into orbit",
    "bake the pasta with garlic butter",
    "the striker scored a goal in the match",
]


def mlserver_string_input(name: str, texts: list[str]) -> dict[str, Any]:
    """What ``mlserver.codecs.StringCodec.encode_input(name, texts)`` sends over REST
    (mlserver/codecs/string.py: shape ``[len, 1]``, BYTES, ``content_type: "str"``; its
    JSON encoder writes the UTF-8 bytes back as strings)."""
    return {
        "name": name,
        "datatype": "BYTES",
        "shape": [len(texts), 1],
        "parameters": {"content_type": "str"},
        "data": texts,
    }


@pytest.fixture(scope="module")
def server(tiny_model: Artifact, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module (read-only tests; the one that counts asks fresh texts)."""
    folder = tmp_path_factory.mktemp("v2")
    env = {"NEWSAPI_MODEL_PATH": str(tiny_model.path), "NEWSAPI_CACHE_DIR": str(folder / "c")}
    running = launch(folder, env, extra_path=str(ROOT))
    wait_ready(running)
    yield running
    running.stop()


def test_tritonclient_speaks_to_the_server(server: Server, tiny_model: Artifact) -> None:
    client = triton.InferenceServerClient(url=server.url.removeprefix("http://"))
    try:
        assert client.is_server_live()
        assert client.is_server_ready()
        assert client.is_model_ready("newsgroups")
        assert client.is_model_ready("newsgroups", tiny_model.model_version)
        assert not client.is_model_ready("newsgroups", "0000")
        assert not client.is_model_ready("other")
        meta = client.get_model_metadata("newsgroups")
        assert meta["versions"] == [tiny_model.model_version]
        assert meta["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
        assert {o["name"]: o["shape"] for o in meta["outputs"]} == {
            "category": [-1], "scores": [-1, 3],
        }  # fmt: skip

        text = triton.InferInput("text", [len(TEXTS)], "BYTES")
        text.set_data_from_numpy(np.array(TEXTS, dtype=object), binary_data=False)
        outputs = [
            triton.InferRequestedOutput("category", binary_data=False),
            # asked in binary: answered in JSON, which the client reads all the same
            triton.InferRequestedOutput("scores", binary_data=True),
        ]
        result = client.infer("newsgroups", [text], outputs=outputs, request_id="r-1")
    finally:
        client.close()
    response = result.get_response()
    assert response["id"] == "r-1"
    assert response["model_version"] == tiny_model.model_version
    categories = [c.decode() if isinstance(c, bytes) else c for c in result.as_numpy("category")]
    scores = result.as_numpy("scores")
    book = httpx.post(f"{server.url}/predictions?scores=true", json={"texts": TEXTS}).json()
    assert categories == book["categories"] == ["space", "cooking", "sport"]
    assert scores.shape == (3, 3)
    names = httpx.get(f"{server.url}/model").json()["categories"]
    expected = [[row[name] for name in names] for row in book["scores"]]
    assert scores.tolist() == expected


def test_mlserver_string_codec_shape(server: Server, tiny_model: Artifact) -> None:
    url = f"{server.url}/v2/models/newsgroups/infer"
    body = {"id": "m-1", "inputs": [mlserver_string_input("text", TEXTS)]}
    answer = httpx.post(url, json=body)
    assert answer.status_code == 200
    assert answer.headers["x-model-version"] == tiny_model.model_version
    data = answer.json()
    assert data["model_name"] == "newsgroups"
    assert data["id"] == "m-1"
    [category] = data["outputs"]
    assert category["name"] == "category"
    assert category["datatype"] == "BYTES"
    book = httpx.post(f"{server.url}/predictions", json={"texts": TEXTS}).json()
    assert category["data"] == book["categories"]
    # the versioned route answers the same; a one-text request goes through the cache
    versioned = f"{server.url}/v2/models/newsgroups/versions/{tiny_model.model_version}/infer"
    one = httpx.post(versioned, json={"inputs": [mlserver_string_input("text", TEXTS[:1])]})
    assert one.json()["outputs"][0]["data"] == ["space"]
    assert one.headers["x-cache"] == "hit"


def test_concurrent_v2_texts_share_model_calls(server: Server) -> None:
    url = f"{server.url}/v2/models/newsgroups/infer"

    def ask(i: int) -> httpx.Response:
        text = f"rocket orbit launch number {i}"
        body = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [text]}]}
        return httpx.post(url, json=body, timeout=30)

    def count(name: str, **labels: str) -> float:
        return metric(httpx.get(f"{server.url}/metrics").text, name, **labels)

    route = {"handler": "lane", "route": "/v2/models/newsgroups/infer", "status": "200"}
    texts, calls = count("newsapi_predictions_total"), count("newsapi_model_batch_size_count")
    served = count("newsapi_http_requests_total", **route)
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(ask, range(64)))
    assert {r.status_code for r in answers} == {200}
    assert {r.json()["outputs"][0]["data"][0] for r in answers} == {"space"}
    assert count("newsapi_predictions_total") - texts == 64
    # never more model calls than texts; fewer when requests overlap (not asserted: timing)
    assert count("newsapi_model_batch_size_count") - calls <= 64
    assert count("newsapi_http_requests_total", **route) - served == 64


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("/v2/models/other/infer", {"inputs": [mlserver_string_input("text", ["x"])]}, 404,
         "unknown model"),
        ("/v2/models/newsgroups/versions/0000/infer",
         {"inputs": [mlserver_string_input("text", ["x"])]}, 404, "no version"),
        ("/v2/models/newsgroups/infer", {"inputs": [mlserver_string_input("words", ["x"])]},
         400, "one BYTES input named 'text'"),
        ("/v2/models/newsgroups/infer",
         {"inputs": [{**mlserver_string_input("text", ["x"]), "shape": [3]}]}, 400, "shape"),
        ("/v2/models/newsgroups/infer",
         {"inputs": [mlserver_string_input("text", ["x"])], "outputs": [{"name": "proba"}]},
         400, "unknown output"),
        ("/v2/models/newsgroups/infer", {"inputs": []}, 400, "inputs"),
        ("/v2/models/newsgroups/infer", [1, 2], 400, "Input should be"),
    ],
)  # fmt: skip
def test_v2_errors_are_json_with_error(
    server: Server, path: str, body: object, status: int, says: str
) -> None:
    answer = httpx.post(f"{server.url}{path}", json=body)
    assert answer.status_code == status
    assert says in answer.json()["error"]
    assert set(answer.json()) == {"error"}


def test_v2_metadata_of_an_unknown_model_is_404(server: Server) -> None:
    answer = httpx.get(f"{server.url}/v2/models/other")
    assert answer.status_code == 404
    assert "unknown model 'other'" in answer.json()["error"]
    assert httpx.get(f"{server.url}/v2").json()["name"] == "newsapi"
