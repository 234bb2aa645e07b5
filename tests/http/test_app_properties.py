"""Property tests: whatever a client sends, a clear answer and never a server error."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from newsapi.model.artifact import Artifact

MAX_TEXT = 300
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# every code point, lone surrogates, NUL, control characters and RTL marks included
ANY_CHARACTER = st.characters(codec=None, categories=None)
TEXTS = st.text(ANY_CHARACTER, min_size=1, max_size=MAX_TEXT)


@pytest.fixture
def api(client_for: Callable[..., TestClient], tiny_model: Artifact) -> TestClient:
    return client_for(tiny_model.path, max_text_length=MAX_TEXT, max_batch_size=20)


def post_json(client: TestClient, path: str, value: object) -> object:
    # ensure_ascii escapes lone surrogates as \\udXXX, which the JSON grammar allows
    body = json.dumps(value, ensure_ascii=True).encode()
    return client.post(path, content=body, headers={"content-type": "application/json"})


@SETTINGS
@given(text=TEXTS)
def test_any_text_up_to_the_limit_is_classified(
    api: TestClient, tiny_model: Artifact, text: str
) -> None:
    response = post_json(api, "/prediction", {"text": text})
    assert response.status_code == 200  # type: ignore[attr-defined]
    category = response.json()["category"]  # type: ignore[attr-defined]
    names = tiny_model.target_names
    # lone surrogates are not characters: the service reads each as U+FFFD
    readable = LONE_SURROGATE.sub("\ufffd", text)
    assert category == names[tiny_model.pipeline.predict([readable])[0]]


@SETTINGS
@given(texts=st.lists(TEXTS, min_size=1, max_size=20))
def test_any_batch_is_classified_in_order(
    api: TestClient, tiny_model: Artifact, texts: list[str]
) -> None:
    response = post_json(api, "/predictions", {"texts": texts})
    assert response.status_code == 200  # type: ignore[attr-defined]
    names = tiny_model.target_names
    readable = [LONE_SURROGATE.sub("\ufffd", text) for text in texts]
    expected = [names[i] for i in tiny_model.pipeline.predict(readable)]
    assert response.json()["categories"] == expected  # type: ignore[attr-defined]


@SETTINGS
@given(text=st.text(ANY_CHARACTER, min_size=MAX_TEXT + 1, max_size=MAX_TEXT + 50))
def test_longer_texts_get_a_clear_422(api: TestClient, text: str) -> None:
    response = post_json(api, "/prediction", {"text": text})
    assert response.status_code == 422  # type: ignore[attr-defined]
    [error] = response.json()["detail"]  # type: ignore[attr-defined]
    assert error["type"] == "string_too_long"
    assert error["msg"] == f"String should have at most {MAX_TEXT} characters"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


@SETTINGS
@given(value=JSON_VALUES, path=st.sampled_from(["/prediction", "/predictions"]))
def test_json_of_the_wrong_shape_gets_422(api: TestClient, value: object, path: str) -> None:
    # the strategy can draw a request the route accepts ({"text": "0"}): not this test's case
    assume(not well_formed(json.dumps(value).encode(), path))
    response = post_json(api, path, value)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert response.json()["detail"][0]["loc"][0] == "body"  # type: ignore[attr-defined]


def is_text(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= MAX_TEXT


def well_formed(body: bytes, path: str) -> bool:
    """Whether ``body`` is a request ``path`` accepts, read by the standard library's JSON
    parser (an oracle independent of the service's pydantic-core)."""
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    if not isinstance(value, dict):
        return False
    if path == "/prediction":
        return is_text(value.get("text"))
    texts = value.get("texts")
    return isinstance(texts, list) and 1 <= len(texts) <= 20 and all(map(is_text, texts))


# random bytes, and bodies that are well formed for one path and not the other
BODIES = st.binary(max_size=200) | TEXTS.map(lambda text: json.dumps({"text": text}).encode())


@SETTINGS
@given(body=BODIES, path=st.sampled_from(["/prediction", "/predictions"]))
def test_arbitrary_bytes_get_200_if_well_formed_else_422(
    api: TestClient, body: bytes, path: str
) -> None:
    response = api.post(path, content=body, headers={"content-type": "application/json"})
    if well_formed(body, path):
        assert response.status_code == 200
        assert set(response.json()) >= {"category" if path == "/prediction" else "categories"}
    else:
        assert response.status_code == 422
        errors = response.json()["detail"]
        assert errors
        assert all(error["loc"][0] == "body" for error in errors)


@SETTINGS
@given(
    content_type=st.sampled_from(
        ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "text/html"]
    )
)
def test_wrong_content_type_gets_415(api: TestClient, content_type: str) -> None:
    response = api.post(
        "/prediction", content=b'{"text": "hi"}', headers={"content-type": content_type}
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
