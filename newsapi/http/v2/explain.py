"""``POST /v2/models/{name}/explain``: the Open Inference Protocol's input, the book's
explanations as outputs.

KServe names an ``explain`` verb beside ``infer`` and serves it by a separate explainer
(Alibi, sampled); here the model is its own explainer: the explanation is exact, read off
its weights (:mod:`newsapi.serving.explain`). The request is an inference request (one
BYTES input ``text`` of N texts, checked as ``/infer`` checks it), with an optional request
parameter ``top``; each text's explanation comes back as one JSON document in the BYTES
output ``explanation``, as MLServer's explainer runtime answers, beside plain tensors of its
category, runner-up and score difference.
"""

# no `from __future__ import annotations`: FastAPI reads these annotations

from typing import Any

import orjson
from fastapi import APIRouter, Response
from pydantic import ConfigDict

from newsapi.http.bodies import respond
from newsapi.http.book.schemas import TopTerms
from newsapi.http.deps import ClassifierDep, SettingsDep
from newsapi.http.openapi import BOOK_SENTENCE
from newsapi.http.pipeline import Answer, ApiError, echo
from newsapi.http.v2.handlers import check_model, texts_of
from newsapi.http.v2.types import INPUT, InferenceRequest, InferenceResponse, Parameters
from newsapi.serving.explain import ExplanationError
from newsapi.serving.service import Classifier
from newsapi.settings import Settings

#: the outputs of an explanation, all returned unless the request names some
EXPLAIN_OUTPUTS = ("category", "runner_up", "difference", "explanation")


class ExplainParameters(Parameters):
    """The request parameters ``/explain`` reads: ``top``, besides the free-form ones."""

    model_config = ConfigDict(extra="allow")
    top: TopTerms = 10


class ExplainRequest(InferenceRequest):
    """An inference request, with ``parameters.top``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "42",
                    "parameters": {"top": 5},
                    "inputs": [
                        {"name": INPUT, "shape": [1], "datatype": "BYTES",
                         "data": [BOOK_SENTENCE]}
                    ],
                }
            ]
        }
    )  # fmt: skip
    parameters: ExplainParameters | None = None


def wanted_outputs(request: InferenceRequest) -> list[str]:
    """The outputs asked for, in the order of :data:`EXPLAIN_OUTPUTS`; 400 for another or
    one asked for twice."""
    if not request.outputs:
        return list(EXPLAIN_OUTPUTS)
    names: set[str] = set()
    for output in request.outputs:
        if output.name not in EXPLAIN_OUTPUTS:
            raise ApiError(
                400, f"unknown output {echo(output.name)}; the outputs are {EXPLAIN_OUTPUTS}"
            )
        if output.name in names:
            raise ApiError(400, f"output {output.name!r} is asked for more than once")
        names.add(output.name)
    return [name for name in EXPLAIN_OUTPUTS if name in names]


async def explain(
    classifier: Classifier,
    settings: Settings,
    request: ExplainRequest,
    name: str,
    version: str | None = None,
) -> Answer:
    """Explain each text of a V2 request, as ``POST /explanation`` explains one."""
    check_model(settings, classifier, name, version)
    texts = texts_of(request, settings)
    wanted = wanted_outputs(request)
    top = request.parameters.top if request.parameters is not None else 10
    try:
        served, explained = await classifier.explain(texts, top)
    except ExplanationError as exc:
        raise ApiError(400, str(exc)) from None
    count = [len(texts)]
    columns: dict[str, dict[str, Any]] = {
        "category": {"datatype": "BYTES", "parameters": {"content_type": "str"},
                     "data": [e.category for e in explained]},
        "runner_up": {"datatype": "BYTES", "parameters": {"content_type": "str"},
                      "data": [e.runner_up for e in explained]},
        "difference": {"datatype": "FP64", "data": [e.difference for e in explained]},
        "explanation": {"datatype": "BYTES", "parameters": {"content_type": "str"},
                        "data": [orjson.dumps({**e.as_dict(), "model_version": served}).decode()
                                 for e in explained]},
    }  # fmt: skip
    outputs = [{"name": output, "shape": count, **columns[output]} for output in wanted]
    body: dict[str, Any] = {"model_name": settings.v2.model_name, "model_version": served}
    if request.id is not None:
        body["id"] = request.id
    body["outputs"] = outputs
    return Answer(body, served, False)


def add_explain_routes(router: APIRouter, responses: dict[int | str, dict[str, Any]]) -> None:
    """``POST /models/{name}/explain`` and its one-version twin on the V2 router."""

    described: dict[str, Any] = {"response_model": InferenceResponse, "responses": responses}

    @router.post("/models/{name}/explain", summary="Explain texts' categories", **described)
    async def model_explain(
        name: str, body: ExplainRequest, settings: SettingsDep, classifier: ClassifierDep
    ) -> Response:
        """The input of `/infer` (one BYTES input `text` of shape `[N]` or `[N, 1]`) and an
        optional request parameter `top` (terms listed per text, default 10). Outputs
        `category`, `runner_up` (BYTES), `difference` (FP64) and `explanation` (BYTES: per
        text the JSON document `POST /explanation` answers); `outputs` picks some. The
        model explains itself, exactly (KServe's `explain` verb with the model as its own
        explainer); computed fresh; 400 for a classifier that cannot be explained exactly."""
        return respond(await explain(classifier, settings, body, name))

    @router.post(
        "/models/{name}/versions/{version}/explain",
        summary="Explain texts' categories, one version",
        **described,
    )
    async def version_explain(
        name: str,
        version: str,
        body: ExplainRequest,
        settings: SettingsDep,
        classifier: ClassifierDep,
    ) -> Response:
        """As `POST /v2/models/{name}/explain`, 404 unless `version` is the one served."""
        return respond(await explain(classifier, settings, body, name, version))
