"""The Open Inference Protocol's REST endpoints (what KServe, MLServer and Triton clients call).

``POST /v2/models/{name}/infer`` is usually answered by the fast lane through the same
:func:`newsapi.v2.infer`; these routes answer the rest and document them.
"""

# no `from __future__ import annotations`: FastAPI reads these annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from newsapi import __version__
from newsapi.bodies import JsonBodyRoute
from newsapi.deps import ClassifierDep, SettingsDep
from newsapi.exchange import Answer, loaded, render_answer
from newsapi.v2 import (
    ErrorBody,
    InferenceRequest,
    InferenceResponse,
    ModelMetadata,
    ServerMetadata,
    check_model,
    infer,
    metadata,
)

TAG = "Open Inference Protocol"


def _error(description: str, message: str) -> dict[str, Any]:
    example = {"application/json": {"example": {"error": message}}}
    return {"model": ErrorBody, "description": description, "content": example}


NOT_FOUND = _error("another model's name or version", "unknown model 'other'; this server "
                   "serves 'newsgroups'")  # fmt: skip
NOT_READY = _error("model not loaded", "the model is not loaded")
INFER_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("malformed request (not JSON, not the schema, a wrong input, shape or output; "
                "scores asked of a classifier without probabilities)",
                "shape [3] does not fit 1 texts: use [N] or [N, 1]"),
    404: NOT_FOUND,
    408: _error("the body did not arrive within NEWSAPI_BODY_TIMEOUT seconds",
                "the request body did not arrive within 30 s (NEWSAPI_BODY_TIMEOUT)"),
    413: _error("body larger than NEWSAPI_MAX_BODY_BYTES",
                "the request body is larger than 8388608 bytes (NEWSAPI_MAX_BODY_BYTES)"),
    415: _error("body not sent as application/json",
                "send the body as JSON with 'Content-Type: application/json' (got 'text/plain')"),
    503: NOT_READY,
}  # fmt: skip
EMPTY_OK: dict[int | str, dict[str, Any]] = {200: {"description": "yes (empty body)"}}
ANSWER_HEADERS = {
    "X-Model-Version": {"description": "version of the model that answered",
                        "schema": {"type": "string"}},
    "X-Cache": {"description": "hit: every text answered from a cache tier",
                "schema": {"type": "string", "enum": ["hit", "miss"]}},
}  # fmt: skip


def _respond(answer: Answer) -> Response:
    content, headers = render_answer(answer)
    return Response(content, headers={k.decode(): v.decode() for k, v in headers})


def build_v2_router() -> APIRouter:
    """The V2 routes: server and model metadata, health, readiness and inference."""
    router = APIRouter(prefix="/v2", tags=[TAG], route_class=JsonBodyRoute,
                       strict_content_type=False)  # fmt: skip

    @router.get("", response_model=ServerMetadata, summary="Server metadata")
    async def server_metadata() -> ServerMetadata:
        """The server's name and version; no protocol extensions."""
        return ServerMetadata(name="newsapi", version=__version__, extensions=[])

    @router.get("/health/live", summary="Server live", response_class=Response, responses=EMPTY_OK)
    async def live() -> Response:
        """200 (empty body) while the process answers."""
        return Response(status_code=200)

    @router.get(
        "/health/ready",
        summary="Server ready",
        response_class=Response,
        responses={**EMPTY_OK, 503: NOT_READY},
    )
    async def ready(request: Request) -> Response:
        """200 (empty body) once the model is loaded, else 503."""
        loaded(request.app.state.classifier)
        return Response(status_code=200)

    model = "/models/{name}"
    version = "/models/{name}/versions/{version}"
    info: dict[str, Any] = {
        "response_model": ModelMetadata,
        "responses": {404: NOT_FOUND, 503: NOT_READY},
    }
    readiness: dict[str, Any] = {
        "response_class": Response,
        "responses": {**EMPTY_OK, 404: NOT_FOUND, 503: NOT_READY},
    }
    inference: dict[str, Any] = {
        "response_model": InferenceResponse,
        "responses": {200: {"headers": ANSWER_HEADERS}, **INFER_ERRORS},
    }

    @router.get(model, summary="Model metadata", **info)
    async def model_metadata(
        name: str, settings: SettingsDep, classifier: ClassifierDep
    ) -> ModelMetadata:
        """Input `text` (BYTES, `[-1]`); outputs `category` (BYTES, `[-1]`) and `scores`
        (FP64, `[-1, K]`, the categories in the order `GET /model` lists them)."""
        check_model(settings, classifier, name, None)
        return metadata(settings, classifier)

    @router.get(version, summary="Model metadata, one version", **info)
    async def version_metadata(
        name: str, version: str, settings: SettingsDep, classifier: ClassifierDep
    ) -> ModelMetadata:
        """As `GET /v2/models/{name}`, 404 unless `version` is the one served."""
        check_model(settings, classifier, name, version)
        return metadata(settings, classifier)

    @router.get(f"{model}/ready", summary="Model ready", **readiness)
    async def model_ready(name: str, settings: SettingsDep, classifier: ClassifierDep) -> Response:
        """200 (empty body) when this model is loaded; 404 for another name."""
        check_model(settings, classifier, name, None)
        return Response(status_code=200)

    @router.get(f"{version}/ready", summary="Model ready, one version", **readiness)
    async def version_ready(
        name: str, version: str, settings: SettingsDep, classifier: ClassifierDep
    ) -> Response:
        """200 (empty body) when this version is the one served; 404 otherwise."""
        check_model(settings, classifier, name, version)
        return Response(status_code=200)

    @router.post(f"{model}/infer", summary="Classify texts", **inference)
    async def model_infer(
        name: str, body: InferenceRequest, settings: SettingsDep, classifier: ClassifierDep
    ) -> Response:
        """One BYTES input `text` of shape `[N]` or `[N, 1]` (MLServer's string codec), for
        example `["computer cpu memory ram"]`; outputs `category` (the default), `scores`
        or both; `id` echoed. Answers exactly what `POST /predictions` answers for the same
        texts, through the same cache and micro-batching. Tensors come back in JSON, also
        when an output asks for Triton's binary extension; binary inputs get 400."""
        return _respond(await infer(classifier, settings, body, name))

    @router.post(f"{version}/infer", summary="Classify texts, one version", **inference)
    async def version_infer(
        name: str,
        version: str,
        body: InferenceRequest,
        settings: SettingsDep,
        classifier: ClassifierDep,
    ) -> Response:
        """As `POST /v2/models/{name}/infer`, 404 unless `version` is the one served."""
        return _respond(await infer(classifier, settings, body, name, version))

    return router
