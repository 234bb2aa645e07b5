"""Request and response bodies of the HTTP API."""

# no `from __future__ import annotations`: the request models are built inside a function
# and pydantic must see their annotations as objects

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter


def request_adapters(
    max_text_length: int, max_batch_size: int
) -> tuple[TypeAdapter[Any], TypeAdapter[Any]]:
    """Validators of ``PredictionInput`` and ``PredictionsInput`` with the configured limits
    in their schema; they parse and validate raw JSON in one pass (``validate_json``)."""
    Text = Annotated[str, StringConstraints(min_length=1, max_length=max_text_length)]

    class PredictionInput(BaseModel):
        """One text to classify (the book's request body)."""

        model_config = ConfigDict(
            json_schema_extra={"examples": [{"text": "computer cpu memory ram"}]}
        )
        text: Text = Field(description=f"1 to {max_text_length} characters")

    class PredictionsInput(BaseModel):
        """Several texts to classify in one call; answers keep their order."""

        model_config = ConfigDict(
            json_schema_extra={"examples": [{"texts": ["computer cpu memory ram", "god"]}]}
        )
        texts: list[Text] = Field(
            min_length=1, max_length=max_batch_size, description=f"1 to {max_batch_size} texts"
        )

    return TypeAdapter(PredictionInput), TypeAdapter(PredictionsInput)


class PredictionOutput(BaseModel):
    """The predicted category; ``scores`` only when asked for with ``?scores=true``."""

    category: str
    scores: dict[str, float] | None = Field(
        None, description="probability of each category (with ?scores=true)"
    )


class PredictionsOutput(BaseModel):
    """One category per input text, in order; ``scores`` only with ``?scores=true``."""

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
