"""The Open Inference Protocol (V2, REST) on the classifier: the adapter from a V2 inference
request to the same classifier calls as ``/prediction`` (one text: the micro-batcher) and
``/predictions`` (several: one model call for the misses).

Tensors are answered in JSON; the binary tensor extension is not implemented: a request whose
input is sent in binary gets 400, and outputs asked for in binary come back in JSON, as the
protocol lets a server do.
"""

from __future__ import annotations

from typing import Any

from newsapi.http.pipeline import Answer, ApiError, echo, log_answers
from newsapi.http.v2.types import (
    INPUT,
    OUTPUTS,
    InferenceRequest,
    MetadataTensor,
    ModelMetadata,
)
from newsapi.serving.predictor import Figures, NoScoresError, has_scores
from newsapi.serving.service import Classifier
from newsapi.settings import Settings

#: the ``endpoint`` column of the prediction log
ENDPOINT = "v2_infer"


def check_model(settings: Settings, classifier: Classifier, name: str, version: str | None) -> str:
    """The served version, or 404 for another model's name or version."""
    if name != settings.v2.model_name:
        raise ApiError(
            404, f"unknown model {echo(name)}; this server serves {settings.v2.model_name!r}"
        )
    served = classifier.current().model_version
    if version is not None and version != served:
        raise ApiError(404, f"model {name!r} has no version {echo(version)}; it serves {served!r}")
    return served


def metadata(settings: Settings, classifier: Classifier) -> ModelMetadata:
    """The model's inputs and outputs (``scores`` in the order ``/model`` lists categories)."""
    artifact = classifier.current()
    width = len(artifact.target_names)
    return ModelMetadata(
        name=settings.v2.model_name,
        versions=[artifact.model_version],
        platform="scikit-learn",
        inputs=[MetadataTensor(name=INPUT, datatype="BYTES", shape=[-1])],
        outputs=[
            MetadataTensor(name="category", datatype="BYTES", shape=[-1]),
            *(
                [MetadataTensor(name="scores", datatype="FP64", shape=[-1, width])]
                if has_scores(artifact.pipeline)
                else []
            ),
        ],
    )


def texts_of(request: InferenceRequest, settings: Settings) -> list[str]:
    """The texts of the ``text`` input; 400 (rendered from 422) for anything else."""
    [tensor] = request.inputs
    if tensor.name != INPUT or tensor.datatype != "BYTES":
        raise ApiError(400, f"the model takes one BYTES input named {INPUT!r}")
    if tensor.parameters is not None and tensor.parameters.binary_data_size is not None:
        raise ApiError(400, "binary tensor data is not supported: send the texts as JSON")
    data = tensor.data
    if data and any(isinstance(row, list) for row in data):  # [[text], [text]]: one per row
        one_per_row = all(isinstance(row, list) and len(row) == 1 for row in data)
        if not one_per_row or tensor.shape != [len(data), 1]:
            raise ApiError(
                400,
                "data given as rows needs one text per row and shape [N, 1] "
                f"(got {len(data)} rows and shape {echo(tensor.shape)})",
            )
        data = [row[0] for row in data]
    count = len(data)
    if tensor.shape not in ([count], [count, 1]):
        raise ApiError(
            400, f"shape {echo(tensor.shape)} does not fit {count} texts: use [N] or [N, 1]"
        )
    if not 1 <= count <= settings.limits.max_batch_size:
        raise ApiError(400, f"send 1 to {settings.limits.max_batch_size} texts (got {count})")
    limit = settings.limits.max_text_length
    if not all(isinstance(text, str) and 1 <= len(text) <= limit for text in data):
        raise ApiError(400, f"every text must be a string of 1 to {limit} characters")
    return data


def outputs_of(request: InferenceRequest) -> set[str]:
    """The outputs asked for (``category`` by default); 400 for an unknown one or one asked
    for twice (the protocol lists each output once)."""
    if not request.outputs:
        return {"category"}
    names: set[str] = set()
    for output in request.outputs:
        if output.name not in OUTPUTS:
            raise ApiError(400, f"unknown output {echo(output.name)}; the outputs are {OUTPUTS}")
        if output.name in names:
            raise ApiError(400, f"output {output.name!r} is asked for more than once")
        names.add(output.name)
    return names


async def infer(
    classifier: Classifier,
    settings: Settings,
    request: InferenceRequest,
    name: str,
    version: str | None = None,
    request_id: str = "",
) -> Answer:
    """Answer a V2 inference request with what ``/predictions`` answers for its texts, and
    log each text when the prediction log is on."""
    check_model(settings, classifier, name, version)
    texts = texts_of(request, settings)
    wanted = outputs_of(request)
    scores: list[float] = []
    keys: list[bytes] | None
    figures: list[Figures | None] | None = None  # None: the log's writer measures them
    if "scores" in wanted:
        try:
            got = await classifier.scores(texts)
        except NoScoresError as exc:
            raise ApiError(400, f"{exc}; ask for the 'category' output only") from None
        categories = [category for category, _ in got.answers]
        names = got.served[0].target_names  # the model that computed them
        scores = [row[name] for _, row in got.answers for name in names]
        served, model, keys, cached = got.model_version, got.served, None, False
    elif len(texts) == 1:  # /prediction's way: the memory tier, else the micro-batcher
        found = await classifier.predict(texts[0])
        served, categories, cached = found.model_version, [found.category], found.cached
        model, keys, figures = found.served, [found.key], [found.figures]
    else:
        many = await classifier.predict_many(texts)
        served, categories, cached = many.model_version, many.categories, many.cached
        model, keys, figures = many.served, many.keys, many.figures
    log = classifier.prediction_log
    if log is not None:
        log_answers(log, ENDPOINT, request_id, texts, categories, keys, model, figures)
    outputs: list[dict[str, Any]] = []
    if "category" in wanted:
        outputs.append(
            {"name": "category", "shape": [len(texts)], "datatype": "BYTES",
             "parameters": {"content_type": "str"}, "data": categories}
        )  # fmt: skip
    if "scores" in wanted:
        width = len(scores) // len(texts)
        outputs.append(
            {"name": "scores", "shape": [len(texts), width], "datatype": "FP64", "data": scores}
        )
    body: dict[str, Any] = {"model_name": settings.v2.model_name, "model_version": served}
    if request.id is not None:
        body["id"] = request.id
    body["outputs"] = outputs
    return Answer(body, served, cached)
