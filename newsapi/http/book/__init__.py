"""The book's protocol: ``POST /prediction`` ``{"text"}`` -> ``{"category"}``, ``/predictions``,
``/model`` and the administration routes."""

from newsapi.http.book.routes import PROTOCOL

__all__ = ["PROTOCOL"]
