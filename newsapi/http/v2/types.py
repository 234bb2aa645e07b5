"""The Open Inference Protocol's (V2, REST) request and response bodies, as its spec names
them: what KServe, MLServer and Triton clients send and read."""

# no `from __future__ import annotations`: FastAPI reads these models' annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from newsapi.http.openapi import BOOK_SENTENCE

INPUT = "text"
OUTPUTS = ("category", "scores")


class Parameters(BaseModel):
    """Free-form parameters; ``content_type`` (MLServer's codecs) and ``binary_data``
    (Triton's binary extension) are the ones read."""

    model_config = ConfigDict(extra="allow")
    content_type: str | None = None
    binary_data: bool | None = None
    binary_data_size: int | None = None


class RequestInput(BaseModel):
    name: str = Field(description=f"'{INPUT}', the only input")
    # strict: JSON integers only (lax, pydantic would read "1", true and 1.0 as 1)
    shape: list[StrictInt] = Field(description="[N] or [N, 1] (MLServer's string codec)")
    datatype: str = Field(description="BYTES")
    parameters: Parameters | None = None
    data: list[Any] = Field(
        description="the N texts, flat (shape [N] or [N, 1]) or one per row (shape [N, 1])"
    )


class RequestOutput(BaseModel):
    name: str = Field(description="'category' or 'scores'")
    parameters: Parameters | None = None


class InferenceRequest(BaseModel):
    """A V2 inference request: one ``text`` input of N texts."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "42",
                    "inputs": [
                        {
                            "name": INPUT,
                            "shape": [1, 1],
                            "datatype": "BYTES",
                            "parameters": {"content_type": "str"},
                            "data": [BOOK_SENTENCE],
                        }
                    ],
                    "outputs": [{"name": "category"}, {"name": "scores"}],
                }
            ]
        }
    )
    id: str | None = Field(None, description="echoed in the response")
    parameters: Parameters | None = None
    inputs: list[RequestInput] = Field(min_length=1, max_length=1)
    outputs: list[RequestOutput] | None = Field(
        None, description="which outputs to return (default: category)"
    )


class ResponseOutput(BaseModel):
    name: str
    shape: list[int]
    datatype: Literal["BYTES", "FP64"]
    parameters: dict[str, Any] | None = None
    data: list[str] | list[float]


class InferenceResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model_name": "newsgroups",
                    "model_version": "213ee7984460",
                    "id": "42",
                    "outputs": [
                        {
                            "name": "category",
                            "shape": [1],
                            "datatype": "BYTES",
                            "parameters": {"content_type": "str"},
                            "data": ["comp.sys.mac.hardware"],
                        }
                    ],
                }
            ]
        }
    )
    model_name: str
    model_version: str
    id: str | None = None
    outputs: list[ResponseOutput]


class MetadataTensor(BaseModel):
    name: str
    datatype: str
    shape: list[int]


class ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[MetadataTensor]
    outputs: list[MetadataTensor]


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class ErrorBody(BaseModel):
    error: str
