"""The blocking :class:`Client` and the asyncio :class:`AsyncClient`: each drives the plans of
:mod:`newsapi.client.calls` over its httpx client, retrying connection errors and 503s."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import time
from collections.abc import Sequence
from typing import Generic, TypeVar, overload

import httpx

from newsapi.client.calls import Call, Calls, Plan
from newsapi.client.results import Explanation, ModelInfo, Prediction, Reload, Scores

log = logging.getLogger("newsapi.client")

T = TypeVar("T")
TransportT = TypeVar("TransportT")
HttpT = TypeVar("HttpT")
#: the longest wait between two tries, whatever a Retry-After asks
MAX_WAIT = 60.0


def _wait(response: httpx.Response | None, attempt: int, backoff: float) -> float:
    """Seconds before the next try: the answer's ``Retry-After`` when it has one, else
    ``backoff`` doubled at each try; at most :data:`MAX_WAIT`."""
    wait: float = backoff * 2.0**attempt
    header = response.headers.get("retry-after") if response is not None else None
    if header and header.strip().isdigit():
        wait = float(header)
    elif header:  # an HTTP date; unreadable: the backoff
        with contextlib.suppress(TypeError, ValueError):
            when = email.utils.parsedate_to_datetime(header).timestamp()
            wait = max(0.0, float(when) - time.time())
    return min(wait, MAX_WAIT)


class _Retrying(Generic[TransportT, HttpT]):
    """What both clients share: their arguments, the calls they plan, and when to try a call
    again after a connection error or a 503 (``retries`` further tries, ``backoff`` seconds
    apart at first); each opens its own httpx client (:meth:`_open`)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.2,
        batch_size: int | None = None,
        transport: TransportT | None = None,
    ) -> None:
        self.retries = retries
        self.backoff = backoff
        self._calls = Calls(token, batch_size)
        self._http: HttpT = self._open(base_url, timeout, transport)

    def _open(self, base_url: str, timeout: float, transport: TransportT | None) -> HttpT:
        raise NotImplementedError

    def _retry_wait(
        self, call: Call, attempt: int, outcome: httpx.Response | httpx.TransportError
    ) -> float | None:
        """Seconds to wait before trying ``call`` again after try ``attempt`` (from 0) ended
        in ``outcome``; None when the outcome is final: a response to return, an error to
        raise."""
        last = attempt == self.retries or not call.retry
        if isinstance(outcome, httpx.TransportError):
            if last:
                return None
            wait, why = _wait(None, attempt, self.backoff), type(outcome).__name__
        else:
            if last or outcome.status_code != 503:
                return None
            wait, why = _wait(outcome, attempt, self.backoff), f"{outcome.status_code}"
        log.info(
            "%s %s: %s; try %d of %d in %.1f s", call.method, call.path, why, attempt + 2,
            self.retries + 1, wait,
        )  # fmt: skip
        return wait


# -- the two clients ---------------------------------------------------------------------------
class Client(_Retrying[httpx.BaseTransport, httpx.Client]):
    """A blocking client: ``Client("http://localhost:8000").predict("computer cpu memory ram")``.

    ``token``: the server's admin token (``reload``); ``timeout``: seconds per request;
    ``retries``: further tries after a connection error or a 503, ``backoff`` seconds apart
    at first and doubling; ``batch_size``: texts per ``/predictions`` call (default: the
    server's limit, read from its schema); ``transport``: an httpx transport instead of
    the network (:class:`AsyncClient` takes ``httpx.ASGITransport(app)`` for an app in the
    same process).
    """

    def _open(
        self, base_url: str, timeout: float, transport: httpx.BaseTransport | None
    ) -> httpx.Client:
        return httpx.Client(base_url=base_url, timeout=timeout, transport=transport)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def predict(self, text: str) -> Prediction:
        """The category of ``text``."""
        return self._run(self._calls.predict(text))

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        """The category of each text, in order, in as many calls as the server's limits ask."""
        predictions: list[Prediction] = self._run(self._calls.predict_many(texts))
        return predictions

    @overload
    def scores(self, texts: str) -> Scores: ...  # type: ignore[overload-overlap]
    @overload
    def scores(self, texts: Sequence[str]) -> list[Scores]: ...
    def scores(self, texts: str | Sequence[str]) -> Scores | list[Scores]:
        """The category and each category's probability, of one text or of each text."""
        if isinstance(texts, str):
            return self._run(self._calls.scores(texts))
        scored: list[Scores] = self._run(self._calls.predict_many(texts, scores=True))
        return scored

    def explain(self, text: str, top: int = 10) -> Explanation:
        """Why ``text`` got its category: its ``top`` deciding terms, exactly."""
        return self._run(self._calls.explain(text, top))

    def model(self) -> ModelInfo:
        """What model the server serves."""
        return self._run(self._calls.model())

    def ready(self) -> bool:
        """Whether the server takes requests now (False when it does not answer)."""
        try:
            return self._run(self._calls.ready())
        except httpx.TransportError:
            return False

    def reload(self) -> Reload:
        """Have the server load its model file again (needs the admin token if it has one)."""
        return self._run(self._calls.reload())

    def _run(self, plan: Plan[T]) -> T:
        call = next(plan)
        while True:
            response = self._send(call)
            try:
                call = plan.send(response)
            except StopIteration as done:
                result: T = done.value
                return result

    def _send(self, call: Call) -> httpx.Response:
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(
                    call.method, call.path, json=call.json, params=call.params,
                    headers=self._calls.headers(call),
                )  # fmt: skip
            except httpx.TransportError as exc:
                wait = self._retry_wait(call, attempt, exc)
                if wait is None:
                    raise
            else:
                wait = self._retry_wait(call, attempt, response)
                if wait is None:
                    return response
            time.sleep(wait)
        raise AssertionError("unreachable")  # the last try returns or raises


class AsyncClient(_Retrying[httpx.AsyncBaseTransport, httpx.AsyncClient]):
    """The asyncio twin of :class:`Client`: the same arguments, methods to ``await``."""

    def _open(
        self, base_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def predict(self, text: str) -> Prediction:
        return await self._run(self._calls.predict(text))

    async def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        predictions: list[Prediction] = await self._run(self._calls.predict_many(texts))
        return predictions

    @overload
    async def scores(self, texts: str) -> Scores: ...  # type: ignore[overload-overlap]
    @overload
    async def scores(self, texts: Sequence[str]) -> list[Scores]: ...
    async def scores(self, texts: str | Sequence[str]) -> Scores | list[Scores]:
        if isinstance(texts, str):
            return await self._run(self._calls.scores(texts))
        scored: list[Scores] = await self._run(self._calls.predict_many(texts, scores=True))
        return scored

    async def explain(self, text: str, top: int = 10) -> Explanation:
        return await self._run(self._calls.explain(text, top))

    async def model(self) -> ModelInfo:
        return await self._run(self._calls.model())

    async def ready(self) -> bool:
        try:
            return await self._run(self._calls.ready())
        except httpx.TransportError:
            return False

    async def reload(self) -> Reload:
        return await self._run(self._calls.reload())

    async def _run(self, plan: Plan[T]) -> T:
        call = next(plan)
        while True:
            response = await self._send(call)
            try:
                call = plan.send(response)
            except StopIteration as done:
                result: T = done.value
                return result

    async def _send(self, call: Call) -> httpx.Response:
        for attempt in range(self.retries + 1):
            try:
                response = await self._http.request(
                    call.method, call.path, json=call.json, params=call.params,
                    headers=self._calls.headers(call),
                )  # fmt: skip
            except httpx.TransportError as exc:
                wait = self._retry_wait(call, attempt, exc)
                if wait is None:
                    raise
            else:
                wait = self._retry_wait(call, attempt, response)
                if wait is None:
                    return response
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # the last try returns or raises
