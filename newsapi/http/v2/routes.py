"""The Open Inference Protocol (what KServe, MLServer and Triton clients call), declared once
(:data:`PROTOCOL`): its error body, its REST endpoints and the fast lane's endpoint.

``POST /v2/models/{name}/infer`` is usually answered by the fast lane through the same
:func:`newsapi.http.v2.handlers.infer`; these routes answer the rest and document them.
"""

# no `from __future__ import annotations`: FastAPI reads these annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import TypeAdapter

from newsapi import __version__
from newsapi.http.bodies import JsonBodyRoute, respond
from newsapi.http.deps import ClassifierDep, SettingsDep
from newsapi.http.openapi import (
    ANSWER_HEADERS,
    PREDICTION_HEADERS,
    body_errors,
    error_response,
    example,
)
from newsapi.http.pipeline import Answer, ApiError, loaded
from newsapi.http.protocol import Endpoint, Protocol, Routes
from newsapi.http.request_id import of as request_id_of
from newsapi.http.v2.explain import add_explain_routes
from newsapi.http.v2.handlers import check_model, infer, metadata
from newsapi.http.v2.types import (
    ErrorBody,
    InferenceRequest,
    InferenceResponse,
    ModelMetadata,
    ServerMetadata,
)
from newsapi.serving.service import Classifier
from newsapi.settings import LimitSettings, Settings

TAG = "Open Inference Protocol"
PREFIX = "/v2"


def error_body(error: ApiError) -> tuple[int, bytes]:
    """V2's errors: ``{"error": "..."}`` in one line; a malformed request is its 400."""
    return (400 if error.status == 422 else error.status), orjson.dumps({"error": error.message})


def _error(description: str, error: ApiError) -> dict[str, Any]:
    return error_response(description, ErrorBody, {description: example(error_body, error)})


NOT_FOUND = _error(
    "another model's name or version",
    ApiError(404, "unknown model 'other'; this server serves 'newsgroups'"),
)
NOT_READY = _error("model not loaded", ApiError(503, "the model is not loaded"))
EMPTY_OK: dict[int | str, dict[str, Any]] = {200: {"description": "yes (empty body)"}}


def _errors(limits: LimitSettings) -> dict[int | str, dict[str, Any]]:
    """The documented errors of an inference call, with the configured limits."""
    return {
        400: _error("malformed request (not JSON, not the schema, a wrong input, shape or "
                    "output; scores asked of a classifier without probabilities)",
                    ApiError(400, "shape [3] does not fit 1 texts: use [N] or [N, 1]")),
        404: NOT_FOUND,
        **body_errors(limits, error_body, ErrorBody),
        503: NOT_READY,
    }  # fmt: skip


def build(settings: Settings) -> Routes:
    """The V2 routes (server and model metadata, health, readiness and inference), and the
    fast lane's endpoint for inference on the served model's name."""
    router = APIRouter(prefix=PREFIX, tags=[TAG], route_class=JsonBodyRoute,
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
        "responses": {200: {"headers": PREDICTION_HEADERS}, **_errors(settings.limits)},
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
        name: str,
        body: InferenceRequest,
        settings: SettingsDep,
        classifier: ClassifierDep,
        request: Request,
    ) -> Response:
        """One BYTES input `text` of shape `[N]` or `[N, 1]` (MLServer's string codec), for
        example `["computer cpu memory ram"]`; outputs `category` (the default), `scores`
        or both; `id` echoed. Answers exactly what `POST /predictions` answers for the same
        texts, through the same cache and micro-batching. Tensors come back in JSON, also
        when an output asks for Triton's binary extension; binary inputs get 400."""
        answer = await infer(classifier, settings, body, name, None, request_id_of(request.scope))
        return respond(answer)

    @router.post(f"{version}/infer", summary="Classify texts, one version", **inference)
    async def version_infer(
        name: str,
        version: str,
        body: InferenceRequest,
        settings: SettingsDep,
        classifier: ClassifierDep,
        request: Request,
    ) -> Response:
        """As `POST /v2/models/{name}/infer`, 404 unless `version` is the one served."""
        request_id = request_id_of(request.scope)
        return respond(await infer(classifier, settings, body, name, version, request_id))

    add_explain_routes(router, {**inference["responses"], 200: {"headers": ANSWER_HEADERS}})

    async def infer_served(
        classifier: Classifier, body: InferenceRequest, request_id: str
    ) -> Answer:
        return await infer(classifier, settings, body, settings.v2.model_name, None, request_id)

    path = f"{PREFIX}/models/{settings.v2.model_name}/infer"
    lane = {path: Endpoint(TypeAdapter(InferenceRequest), infer_served, error_body)}
    return Routes(router, lane)


#: the Open Inference Protocol: every path under /v2
PROTOCOL = Protocol("v2", PREFIX, error_body, build)
