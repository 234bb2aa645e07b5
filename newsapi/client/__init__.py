"""A Python client for a newsapi server, depending on httpx alone.

:class:`Client` (blocking) and :class:`AsyncClient` (asyncio) have the same methods:
``predict``, ``predict_many``, ``scores``, ``explain``, ``model``, ``ready`` and ``reload``,
with typed results (:mod:`.results`). Each call is written once, as a plan of requests
(:mod:`.calls`), which the two clients drive with their own transport (:mod:`.clients`); so
both send exactly the same requests and read the answers the same way.

Connection errors and 503 answers are retried with exponential backoff (a 503's
``Retry-After`` is honoured); no 4xx is ever retried. Every error the server answers is raised
as :class:`ApiError`, with its status and the server's message.
"""

from newsapi.client.clients import AsyncClient, Client
from newsapi.client.results import (
    ApiError,
    Explanation,
    ModelInfo,
    Prediction,
    Reload,
    Scores,
    Term,
)

__all__ = [
    "ApiError",
    "AsyncClient",
    "Client",
    "Explanation",
    "ModelInfo",
    "Prediction",
    "Reload",
    "Scores",
    "Term",
]
