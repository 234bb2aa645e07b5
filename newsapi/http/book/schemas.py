"""Request and response bodies of the HTTP API."""

# no `from __future__ import annotations`: the request models are built inside a function
# and pydantic must see their annotations as objects

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from newsapi.http.openapi import BOOK_ANSWER, BOOK_SENTENCE

SCORES_EXAMPLE: dict[str, Any] = {
    "alt.atheism": 0.002143,
    "comp.sys.mac.hardware": 0.981407,
    "sci.space": 0.009541,
    "soc.religion.christian": 0.006909,
}


def request_models(max_text_length: int, max_batch_size: int) -> tuple[type[Any], type[Any]]:
    """``PredictionInput`` and ``PredictionsInput`` with the configured limits in their
    schema (so ``/docs`` shows them)."""
    Text = Annotated[str, StringConstraints(min_length=1, max_length=max_text_length)]

    class PredictionInput(BaseModel):
        """One text to classify (the book's request body)."""

        model_config = ConfigDict(json_schema_extra={"examples": [{"text": BOOK_SENTENCE}]})
        text: Text = Field(description=f"1 to {max_text_length} characters")

    class PredictionsInput(BaseModel):
        """Several texts to classify in one call; answers keep their order."""

        model_config = ConfigDict(
            json_schema_extra={
                "examples": [{"texts": [BOOK_SENTENCE, "the shuttle reached orbit"]}]
            }
        )
        texts: list[Text] = Field(
            min_length=1, max_length=max_batch_size, description=f"1 to {max_batch_size} texts"
        )

    return PredictionInput, PredictionsInput


class PredictionOutput(BaseModel):
    """The predicted category; ``scores`` only when asked for with ``?scores=true``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"category": BOOK_ANSWER},
                {"category": BOOK_ANSWER, "scores": SCORES_EXAMPLE},
            ]
        }
    )

    category: str
    scores: dict[str, float] | None = Field(
        None, description="probability of each category (with ?scores=true)"
    )


class PredictionsOutput(BaseModel):
    """One category per input text, in order; ``scores`` only with ``?scores=true``."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"categories": [BOOK_ANSWER, "sci.space"]}]}
    )

    categories: list[str]
    scores: list[dict[str, float]] | None = Field(
        None, description="per-text probability of each category (with ?scores=true)"
    )


class ModelInfo(BaseModel):
    model_version: str
    categories: list[str]
    created_at: str | None
    metrics: dict[str, Any]
    parameters: dict[str, Any]
    dataset: dict[str, Any]
    versions: dict[str, Any]
    store_entry: str | None = Field(
        None, description="the model store entry serving (models/<version>), when stored"
    )
    fallback: str | None = Field(
        None,
        description="set when the promoted model was unusable at start and the store's last "
        "good promoted model serves instead: why",
    )


class ReloadOutput(BaseModel):
    previous_version: str
    model_version: str
    changed: bool


class ErrorDetail(BaseModel):
    type: str
    loc: list[str | int]
    msg: str


class ValidationErrorBody(BaseModel):
    detail: list[ErrorDetail]


class MessageBody(BaseModel):
    detail: str
