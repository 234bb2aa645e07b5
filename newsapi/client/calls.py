"""Every call of the client, written once: a plan of requests (a generator that yields a
:class:`Call` and receives its response) and the reading of the answers. The blocking and the
asyncio client drive the same plans with their own transport."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from newsapi.client.results import (
    ApiError,
    Explanation,
    ModelInfo,
    Prediction,
    Reload,
    Scores,
    Term,
)

T = TypeVar("T")
#: a call: yields the requests it needs, receives each response, returns its result
Plan = Generator["Call", httpx.Response, T]

#: the server's default, used when its schema does not say (an older server)
DEFAULT_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP request of a plan."""

    method: str
    path: str
    json: Any = None
    params: dict[str, str] | None = None
    admin: bool = False
    retry: bool = True  #: retried on connection errors and 503


class Calls:
    """The plans of every method, and what they share: the token and the server's batch
    limit (read from its OpenAPI schema the first time a batch is sent)."""

    def __init__(self, token: str | None, batch_size: int | None) -> None:
        self.token = token
        self.batch_size = batch_size

    def headers(self, call: Call) -> dict[str, str]:
        if not call.admin:
            return {}
        # without a token configured, the server refuses admin calls that a cross-site form
        # could send: a custom header proves a program sent this one
        headers = {"X-Requested-With": "newsapi.client"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def predict(self, text: str) -> Plan[Prediction]:
        response = yield Call("POST", "/prediction", {"text": text})
        body = _answer(response)
        return Prediction(body["category"], _version(response), _cached(response))

    def predict_many(self, texts: Sequence[str], scores: bool = False) -> Plan[list[Any]]:
        """Calls of at most the server's batch size, in order; a call refused as too large
        (413) is split in two and sent again."""
        if isinstance(texts, str):
            raise TypeError("predict_many takes a sequence of texts, not one string")
        texts = list(texts)
        if self.batch_size is None:
            self.batch_size = _batch_limit((yield Call("GET", "/openapi.json")))
        parts: deque[tuple[int, int]] = deque(
            (start, min(start + self.batch_size, len(texts)))
            for start in range(0, len(texts), self.batch_size)
        )
        results: list[Any] = []
        params = {"scores": "true"} if scores else None
        while parts:
            start, end = parts.popleft()
            response = yield Call("POST", "/predictions", {"texts": texts[start:end]}, params)
            if response.status_code == 413 and end - start > 1:
                middle = (start + end) // 2
                parts.extendleft([(middle, end), (start, middle)])
                continue
            body = _answer(response)
            version, cached = _version(response), _cached(response)
            if scores:
                results += [
                    Scores(category, probabilities, version)
                    for category, probabilities in zip(
                        body["categories"], body["scores"], strict=True
                    )
                ]
            else:
                results += [Prediction(c, version, cached) for c in body["categories"]]
        return results

    def scores(self, text: str) -> Plan[Scores]:
        response = yield Call("POST", "/prediction", {"text": text}, {"scores": "true"})
        body = _answer(response)
        return Scores(body["category"], body["scores"], _version(response))

    def explain(self, text: str, top: int) -> Plan[Explanation]:
        response = yield Call("POST", "/explanation", {"text": text, "top": top})
        body = _answer(response)
        terms = [
            Term(t["term"], t["weight"], t["value"], [(a, b) for a, b in t["spans"]])
            for t in body["terms"]
        ]
        return Explanation(
            body["category"], body["runner_up"], body["score"], body["difference"],
            body["bias"], terms, body["rest"], body["rest_terms"], body["model_version"],
        )  # fmt: skip

    def model(self) -> Plan[ModelInfo]:
        body = _answer((yield Call("GET", "/model")))
        return ModelInfo(
            body["model_version"], body["categories"], body.get("created_at"),
            body.get("metrics", {}), body.get("parameters", {}), body,
        )  # fmt: skip

    def ready(self) -> Plan[bool]:
        response = yield Call("GET", "/readyz", retry=False)
        return response.status_code == 200

    def reload(self) -> Plan[Reload]:
        body = _answer((yield Call("POST", "/admin/reload", admin=True)))
        return Reload(body["previous_version"], body["model_version"], body["changed"])


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a 2xx answer; :class:`ApiError` for any other."""
    if response.is_success:
        body: dict[str, Any] = response.json()
        return body
    raise ApiError(response.status_code, _message(response))


def _message(response: httpx.Response) -> str:
    """The server's message: the book's ``detail`` (a string, or 422's list of errors) or the
    Open Inference Protocol's ``error``."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(body, dict):
        detail = body.get("detail", body.get("error"))
        if isinstance(detail, str):
            return detail
        if isinstance(detail, list):
            return "; ".join(
                f"{'.'.join(str(part) for part in error.get('loc', []))}: {error.get('msg')}"
                for error in detail
                if isinstance(error, dict)
            )
    return response.text[:500]


def _version(response: httpx.Response) -> str:
    return str(response.headers.get("x-model-version", ""))


def _cached(response: httpx.Response) -> bool:
    return bool(response.headers.get("x-cache") == "hit")


def _batch_limit(response: httpx.Response) -> int:
    """``maxItems`` of ``/predictions``' ``texts`` in the server's schema."""
    if not response.is_success:
        return DEFAULT_BATCH
    try:
        schemas = response.json()["components"]["schemas"]
        return int(schemas["PredictionsInput"]["properties"]["texts"]["maxItems"])
    except (ValueError, KeyError, TypeError):
        return DEFAULT_BATCH
