"""The HTTP routes: short, each delegating to the classifier service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response, status
from pydantic import TypeAdapter, ValidationError

from newsapi.artifacts import ArtifactError
from newsapi.data import NEWSGROUPS
from newsapi.deps import (
    ClassifierDep,
    RequestError,
    get_classifier,
    parse_json_body,
    require_admin,
)
from newsapi.schemas import (
    MessageBody,
    ModelInfo,
    PredictionOutput,
    PredictionsOutput,
    ReloadOutput,
    ValidationErrorBody,
)
from newsapi.service import Classifier, NoScoresError

JSON = "application/json"
ANSWER_HEADERS = {
    "X-Model-Version": {
        "description": "version of the model that answered",
        "schema": {"type": "string"},
    },
    "X-Cache": {
        "description": "hit: answered from a cache tier; miss: computed",
        "schema": {"type": "string", "enum": ["hit", "miss"]},
    },
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": MessageBody, "description": "body larger than NEWSAPI_MAX_BODY_BYTES"},
    415: {"model": MessageBody, "description": "body not sent as application/json"},
    422: {"model": ValidationErrorBody, "description": "body not valid JSON or not the schema"},
    503: {"model": MessageBody, "description": "model not loaded"},
}


def _answer(body: dict[str, Any], version: str, cached: bool) -> Response:
    # orjson and a plain Response: the body is built once, with no second validation pass
    return Response(
        orjson.dumps(body),
        media_type=JSON,
        headers={"X-Model-Version": version, "X-Cache": "hit" if cached else "miss"},
    )


def _body_schema(adapter: TypeAdapter[Any]) -> dict[str, Any]:
    """The OpenAPI of a body the route validates itself (see ``parse_json_body``), plus its
    ``scores`` flag: declaring both here keeps FastAPI's per-request dependency solving off
    the two hot routes, which are otherwise written as ``(request: Request)``."""
    schema = adapter.json_schema(ref_template="#/components/schemas/{model}")
    return {
        "requestBody": {"required": True, "content": {JSON: {"schema": schema}}},
        "parameters": [SCORES_PARAMETER],
    }


SCORES_PARAMETER = {
    "name": "scores",
    "in": "query",
    "required": False,
    "description": "add the probability of each category",
    "schema": {"type": "boolean", "default": False},
}
BOOLEAN: TypeAdapter[bool] = TypeAdapter(bool)


def _wants_scores(request: Request) -> bool:
    """The ``scores`` flag, read as FastAPI reads a boolean query parameter."""
    flag = request.query_params.get("scores")
    if flag is None:
        return False
    try:
        return BOOLEAN.validate_python(flag)
    except ValidationError:
        raise RequestError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [
                {
                    "type": "bool_parsing",
                    "loc": ["query", "scores"],
                    "msg": "Input should be a valid boolean",
                }
            ],
        ) from None


def build_router(one: TypeAdapter[Any], many: TypeAdapter[Any]) -> APIRouter:
    """The routes; ``one`` and ``many`` validate the two prediction bodies (see
    :func:`newsapi.schemas.request_adapters`)."""
    router = APIRouter()

    @router.post(
        "/prediction",
        summary="Classify one text",
        response_model=PredictionOutput,
        response_model_exclude_none=True,
        responses={200: {"headers": ANSWER_HEADERS}, **BODY_ERRORS},
        openapi_extra=_body_schema(one),
    )
    async def prediction(request: Request) -> Response:
        """``{"text": "..."}`` → ``{"category": "..."}``: the book's contract, byte for byte.

        Concurrent calls share one model call (micro-batching); answers are cached by model
        version and text.
        """
        classifier = await get_classifier(request)
        text = (await parse_json_body(request, one)).text
        if _wants_scores(request):
            version, [(category, probabilities)] = await _scores(classifier, [text])
            return _answer({"category": category, "scores": probabilities}, version, False)
        found = await classifier.predict(text)
        return _answer({"category": found.category}, found.model_version, found.cached)

    @router.post(
        "/predictions",
        summary="Classify several texts",
        response_model=PredictionsOutput,
        response_model_exclude_none=True,
        responses={200: {"headers": ANSWER_HEADERS}, **BODY_ERRORS},
        openapi_extra=_body_schema(many),
    )
    async def predictions(request: Request) -> Response:
        """``{"texts": [...]}`` → ``{"categories": [...]}`` in the same order, with one model
        call for every text not already cached. ``X-Cache`` is ``hit`` only if all were."""
        classifier = await get_classifier(request)
        texts = (await parse_json_body(request, many)).texts
        if _wants_scores(request):
            version, answers = await _scores(classifier, texts)
            body = {"categories": [c for c, _ in answers], "scores": [s for _, s in answers]}
            return _answer(body, version, False)
        found = await classifier.predict_many(texts)
        return _answer({"categories": found.categories}, found.model_version, found.cached)

    @router.delete(
        "/cache",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Empty every cache tier",
        dependencies=[Depends(require_admin)],
        responses={401: {"model": MessageBody}, 403: {"model": MessageBody}},
    )
    async def clear_cache(classifier: ClassifierDep) -> Response:
        """Drop every cached prediction, in memory and on disk (other workers' memory tiers
        follow within a second). Needs the admin token when one is configured."""
        await classifier.clear_cache()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post(
        "/admin/reload",
        response_model=ReloadOutput,
        summary="Load the model from disk again",
        dependencies=[Depends(require_admin)],
        responses={
            401: {"model": MessageBody},
            403: {"model": MessageBody},
            409: {"model": MessageBody, "description": "new artifact refused; old one serves"},
        },
    )
    async def reload_model(classifier: ClassifierDep) -> ReloadOutput:
        """Swap in the artifact now on disk, atomically. A bad artifact is refused and the
        current model keeps serving."""
        serving = classifier.current().model_version
        try:
            previous, artifact = await classifier.reload()
        except ArtifactError as exc:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"the artifact on disk was refused ({type(exc).__name__}); model {serving} "
                "keeps serving; the server log has the details",
            ) from None
        return ReloadOutput(
            previous_version=previous,
            model_version=artifact.model_version,
            changed=previous != artifact.model_version,
        )

    @router.get("/model", response_model=ModelInfo, summary="What model is serving")
    async def model_info(classifier: ClassifierDep) -> ModelInfo:
        artifact = classifier.current()
        manifest = artifact.manifest
        parameters = dict(manifest.get("parameters", {}))
        dataset = dict(manifest.get("dataset", {}))
        # an own corpus is named by its file or folder name, not by a path on the server
        for fields, key in ((parameters, "dataset"), (dataset, "path")):
            if isinstance(fields.get(key), str) and fields[key] != NEWSGROUPS:
                fields[key] = Path(fields[key]).name
        return ModelInfo(
            model_version=artifact.model_version,
            categories=artifact.target_names,
            created_at=manifest.get("created_at"),
            metrics=manifest.get("metrics", {}),
            parameters=parameters,
            dataset=dataset,
            versions=manifest.get("versions", {}),
        )

    return router


async def _scores(
    classifier: Classifier, texts: list[str]
) -> tuple[str, list[tuple[str, dict[str, float]]]]:
    try:
        return await classifier.scores(texts)
    except NoScoresError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


def add_probes(app: FastAPI) -> None:
    """Liveness, readiness and metrics: cheap, unauthenticated, for orchestrators."""

    @app.get("/healthz", summary="The process is alive", response_model=MessageBody)
    async def healthz() -> dict[str, str]:
        return {"detail": "alive"}

    @app.get(
        "/readyz",
        summary="The model is loaded and the server takes requests",
        response_model=MessageBody,
        responses={503: {"model": MessageBody}},
    )
    async def readyz(request: Request) -> Response:
        classifier = request.app.state.classifier
        if classifier is None or classifier.artifact is None:
            return Response(orjson.dumps({"detail": "not ready"}), 503, media_type=JSON)
        return Response(orjson.dumps({"detail": "ready"}), media_type=JSON)

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def prometheus_metrics(request: Request) -> Response:
        data, content_type = request.app.state.metrics.exposition()
        return Response(data, media_type=content_type)
