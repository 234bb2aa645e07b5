"""The book's protocol, declared once (:data:`PROTOCOL`): its error body
(:mod:`.errors`), its FastAPI routes, each delegating to :mod:`newsapi.http.book.handlers`, and
the fast lane's endpoints.

Well-formed ``POST /prediction`` and ``/predictions`` without a query string are usually
answered by the fast lane (:mod:`newsapi.http.fastlane`) through the same handlers; these
routes answer the rest and document every one of them.
"""

# no `from __future__ import annotations`: FastAPI reads the annotations of routes whose
# body models are built inside build()

from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import TypeAdapter

from newsapi.http.bodies import JsonBodyRoute, respond
from newsapi.http.book.errors import ADMIN_ERRORS, error_body, explanation_errors, prediction_errors
from newsapi.http.book.handlers import classify_many, classify_one, explain_one
from newsapi.http.book.schemas import (
    ExplanationOutput,
    MessageBody,
    ModelInfo,
    PredictionOutput,
    PredictionsOutput,
    ReloadOutput,
    explanation_model,
    request_models,
)
from newsapi.http.deps import ClassifierDep, require_admin
from newsapi.http.openapi import ANSWER_HEADERS, PREDICTION_HEADERS, error_response
from newsapi.http.pipeline import Answer
from newsapi.http.protocol import Endpoint, Protocol, Routes
from newsapi.http.request_id import of as request_id_of
from newsapi.model.artifact import ArtifactError
from newsapi.model.data import NEWSGROUPS
from newsapi.serving.service import Classifier
from newsapi.settings import Settings

ScoresFlag = Annotated[
    bool, Query(description="add the probability of each category (422 if the model has none)")
]


def build(settings: Settings) -> Routes:
    """The book's routes, and the fast lane's endpoints for its two prediction calls."""
    limits = settings.limits
    prediction_input, predictions_input = request_models(
        limits.max_text_length, limits.max_batch_size
    )
    errors = prediction_errors(limits)
    router = APIRouter(route_class=JsonBodyRoute, strict_content_type=False)

    @router.post(
        "/prediction",
        tags=["predictions"],
        summary="Classify one text",
        response_model=PredictionOutput,
        response_model_exclude_none=True,
        responses={200: {"headers": PREDICTION_HEADERS}, **errors},
    )
    async def prediction(
        body: prediction_input,  # type: ignore[valid-type]
        classifier: ClassifierDep,
        request: Request,
        scores: ScoresFlag = False,
    ) -> Response:
        """`{"text": "..."}` → `{"category": "..."}`: the book's contract, byte for byte
        (`computer cpu memory ram` → `comp.sys.mac.hardware` with the default model).

        Concurrent calls share one model call (micro-batching); answers are cached by model
        version and text. `?scores=true` adds each category's probability, computed fresh.
        """
        text: str = body.text  # type: ignore[attr-defined]
        return respond(await classify_one(classifier, text, scores, request_id_of(request.scope)))

    @router.post(
        "/predictions",
        tags=["predictions"],
        summary="Classify several texts",
        response_model=PredictionsOutput,
        response_model_exclude_none=True,
        responses={200: {"headers": PREDICTION_HEADERS}, **errors},
    )
    async def predictions(
        body: predictions_input,  # type: ignore[valid-type]
        classifier: ClassifierDep,
        request: Request,
        scores: ScoresFlag = False,
    ) -> Response:
        """`{"texts": [...]}` → `{"categories": [...]}` in the same order, with one model
        call for every text not already cached. `X-Cache` is `hit` only if all were."""
        texts: list[str] = body.texts  # type: ignore[attr-defined]
        return respond(await classify_many(classifier, texts, scores, request_id_of(request.scope)))

    explanation_input = explanation_model(limits.max_text_length)

    @router.post(
        "/explanation",
        tags=["predictions"],
        summary="Explain one text's category",
        response_model=ExplanationOutput,
        responses={200: {"headers": ANSWER_HEADERS}, **explanation_errors(limits)},
    )
    async def explanation(
        body: explanation_input,  # type: ignore[valid-type]
        classifier: ClassifierDep,
    ) -> Response:
        """`{"text": "...", "top": 10}` → the category, the runner-up, and the `top` terms
        of the text that decided between them, largest first, with the character spans of
        their occurrences. Exact, not sampled: each term's weight is its TF-IDF value times
        the difference of the two categories' weights (linear models: `coef_`; naive Bayes:
        `feature_log_prob_`), and `bias + sum(weights) + rest == difference`. Computed
        fresh (`X-Cache: miss`); 422 for a served classifier that cannot be explained
        exactly (a calibrated one)."""
        text: str = body.text  # type: ignore[attr-defined]
        top: int = body.top  # type: ignore[attr-defined]
        return respond(await explain_one(classifier, text, top))

    @router.delete(
        "/cache",
        tags=["operations"],
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Empty every cache tier",
        dependencies=[Depends(require_admin)],
        responses={**ADMIN_ERRORS},
    )
    async def clear_cache(classifier: ClassifierDep) -> Response:
        """Drop every cached prediction, in memory and on disk (other workers' memory tiers
        follow within a second). Needs the admin token when one is configured."""
        await classifier.clear_cache()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post(
        "/admin/reload",
        tags=["operations"],
        response_model=ReloadOutput,
        summary="Load the model from disk again",
        dependencies=[Depends(require_admin)],
        responses={
            **ADMIN_ERRORS,
            409: error_response("new artifact refused; the old one keeps serving", MessageBody,
                                {"tampered": {"detail": "the artifact on disk was refused "
                                              "(ArtifactError); model 213ee7984460 keeps "
                                              "serving; the server log has the details"}}),
        },
    )  # fmt: skip
    async def reload_model(classifier: ClassifierDep) -> ReloadOutput:
        """Swap in the artifact now on disk, atomically. A bad artifact is refused and the
        current model keeps serving. Needs the admin token when one is configured."""
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

    @router.get("/model", tags=["model"], response_model=ModelInfo, summary="What model is serving")
    async def model_info(classifier: ClassifierDep) -> ModelInfo:
        """The served model's version, categories (in the order of the V2 `scores`),
        creation time, test metrics, training parameters, dataset and library versions."""
        artifact = classifier.current()
        inference, inference_fallback = classifier.inference()
        manifest = artifact.manifest
        parameters = dict(manifest.get("parameters", {}))
        dataset = dict(manifest.get("dataset", {}))
        # an own corpus is named by its file or folder name, not by a path on the server
        for fields, key in ((parameters, "dataset"), (dataset, "path")):
            if isinstance(fields.get(key), str) and fields[key] != NEWSGROUPS:
                fields[key] = Path(fields[key]).name
        if parameters.get("dataset", NEWSGROUPS) != NEWSGROUPS:  # older manifests say otherwise
            parameters["categories"] = None  # a choice among the 20 newsgroups only
        return ModelInfo(
            model_version=artifact.model_version,
            categories=artifact.target_names,
            created_at=manifest.get("created_at"),
            metrics=manifest.get("metrics", {}),
            parameters=parameters,
            dataset=dataset,
            versions=manifest.get("versions", {}),
            store_entry=classifier.store_entry(),
            fallback=classifier.fallback,
            inference=inference,
            inference_fallback=inference_fallback,
        )

    add_probes(router)

    async def one(classifier: Classifier, body: Any, request_id: str) -> Answer:
        return await classify_one(classifier, body.text, request_id=request_id)

    async def many(classifier: Classifier, body: Any, request_id: str) -> Answer:
        return await classify_many(classifier, body.texts, request_id=request_id)

    async def explained(classifier: Classifier, body: Any, request_id: str) -> Answer:
        return await explain_one(classifier, body.text, body.top)

    lane = {
        "/prediction": Endpoint(TypeAdapter(prediction_input), one, error_body),
        "/predictions": Endpoint(TypeAdapter(predictions_input), many, error_body),
        "/explanation": Endpoint(TypeAdapter(explanation_input), explained, error_body),
    }
    return Routes(router, lane)


def add_probes(app: APIRouter) -> None:
    """Liveness, readiness and metrics: cheap, unauthenticated, for orchestrators."""

    @app.get(
        "/healthz", tags=["operations"], summary="The process is alive", response_model=MessageBody
    )
    async def healthz() -> dict[str, str]:
        """200 as long as the process answers at all."""
        return {"detail": "alive"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="The model is loaded and the server takes requests",
        response_model=MessageBody,
        responses={503: {"model": MessageBody, "description": "starting or stopping"}},
    )
    async def readyz(request: Request) -> Response:
        """200 once the model is loaded; 503 once shutdown has begun."""
        classifier = request.app.state.classifier
        if classifier is None or classifier.artifact is None:
            return Response(b'{"detail":"not ready"}', 503, media_type="application/json")
        if classifier.fallback:
            detail = f"ready, degraded: {classifier.fallback}"
            return Response(orjson.dumps({"detail": detail}), media_type="application/json")
        return Response(b'{"detail":"ready"}', media_type="application/json")

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=Response)
    async def prometheus_metrics(request: Request) -> Response:
        """The Prometheus text format; with PROMETHEUS_MULTIPROC_DIR set (as `make serve`
        does), the sum over every worker."""
        data, content_type = request.app.state.metrics.exposition()
        return Response(data, media_type=content_type)


#: the book's protocol: every path that no other protocol owns
PROTOCOL = Protocol("book", "", error_body, build)
