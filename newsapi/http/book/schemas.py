"""Request and response bodies of the HTTP API."""

# no `from __future__ import annotations`: the request models are built inside a function
# and pydantic must see their annotations as objects

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from newsapi.http.openapi import BOOK_ANSWER, BOOK_SENTENCE
from newsapi.serving.explain import MAX_TOP

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
    inference: Literal["lean", "scikit-learn"] = Field(
        "lean",
        description="how answers are computed: lean (the fitted weights, compiled at load, "
        "the same answers) or scikit-learn (the pipeline's own predict)",
    )
    inference_fallback: str | None = Field(
        None, description="why scikit-learn computes the answers, when it does"
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


# -- explanations ---------------------------------------------------------------------------
#: what the book's model answers for the book's sentence with ``"top": 3``
EXPLANATION_EXAMPLE: dict[str, Any] = {
    "category": BOOK_ANSWER,
    "runner_up": "sci.crypt",
    "score": "joint_log_likelihood",
    "difference": 2.677284159732025,
    "bias": -0.028987536873252395,
    "terms": [
        {"term": "ram", "weight": 0.9613024738266772, "value": 0.520904039263824,
         "spans": [[20, 23]]},
        {"term": "memory", "weight": 0.9018024249666365, "value": 0.5070862277111486,
         "spans": [[13, 19]]},
        {"term": "cpu", "weight": 0.7796343607287249, "value": 0.5866046958860577,
         "spans": [[9, 12]]},
    ],
    "rest": 0.06353243708323587,
    "rest_terms": 1,
    "model_version": "f9da8b499c72",
}  # fmt: skip


def _whole_number(value: Any) -> Any:
    # JSON Schema's integer includes 10.0 (pydantic's lax int takes it, and refuses 10.5);
    # pydantic would also take true and "10", which the schema does not
    if isinstance(value, bool | str):
        raise ValueError("Input should be a whole number")
    return value


#: how many terms an explanation lists: a whole number from 0 to MAX_TOP (10 if not given)
TopTerms = Annotated[
    int,
    Field(ge=0, le=MAX_TOP, description=f"how many terms to list (0 to {MAX_TOP})"),
    BeforeValidator(_whole_number),  # after the bounds, which then show in the schema
]


def explanation_model(max_text_length: int) -> type[Any]:
    """``ExplanationInput`` with the configured text limit in its schema."""
    Text = Annotated[str, StringConstraints(min_length=1, max_length=max_text_length)]

    class ExplanationInput(BaseModel):
        """One text to explain, and how many of its terms to list."""

        model_config = ConfigDict(
            json_schema_extra={"examples": [{"text": BOOK_SENTENCE, "top": 3}]}
        )
        text: Text = Field(description=f"1 to {max_text_length} characters")
        top: TopTerms = 10

    return ExplanationInput


class TermWeightOutput(BaseModel):
    term: str = Field(description="the vocabulary's term (n-grams joined by one space)")
    weight: float = Field(
        description="its part of the score difference: positive for the category, "
        "negative for the runner-up"
    )
    value: float = Field(description="its TF-IDF value in the text")
    spans: list[list[int]] = Field(
        description="[start, end) of each occurrence in the text, in Unicode code points "
        "(Python string indices; in JavaScript, indices into Array.from(text))"
    )


class ExplanationOutput(BaseModel):
    """Why the text got its category rather than the runner-up, exactly:
    ``bias + sum(terms[].weight) + rest == difference``."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXPLANATION_EXAMPLE]})

    category: str = Field(description="what POST /prediction answers for the text")
    runner_up: str = Field(description="the category with the next highest score")
    score: str = Field(
        description="what the classifier decides by: decision_function (linear models) or "
        "joint_log_likelihood (naive Bayes)"
    )
    difference: float = Field(description="score of the category minus that of the runner-up")
    bias: float = Field(description="the part no term carries: intercept or class prior")
    terms: list[TermWeightOutput] = Field(description="the largest parts first")
    rest: float = Field(description="the parts of the text's other terms, summed")
    rest_terms: int = Field(description="how many other terms")
    model_version: str
