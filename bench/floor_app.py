"""The HTTP floor: what the idiomatic FastAPI endpoint costs with no model behind it.

``POST /prediction`` takes the service's request body and answers a constant category, so
its throughput is the most any FastAPI app on this machine, with these uvicorn settings, can
serve for that contract. Run by the harness as ``uvicorn bench.floor_app:app``.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

# A real category name, so the answer has the size of a real one.
CATEGORY = "comp.sys.mac.hardware"


class PredictionInput(BaseModel):
    """The request body: one text."""

    text: str


class PredictionOutput(BaseModel):
    """The answer: one category."""

    category: str


app = FastAPI(title="bench HTTP floor")


@app.post("/prediction", response_model=PredictionOutput)
async def prediction(body: PredictionInput) -> PredictionOutput:
    """Answer the constant category without looking at the text."""
    return PredictionOutput(category=CATEGORY)
