"""What routes need handed to them: the classifier, an admin check, the request body."""

from __future__ import annotations

import json
import re
import secrets
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from pydantic import ValidationError

from newsapi.service import Classifier, ModelNotReadyError
from newsapi.settings import Settings


async def get_classifier(request: Request) -> Classifier:
    classifier: Classifier | None = request.app.state.classifier
    if classifier is None:  # starting or stopping
        raise ModelNotReadyError("the model is not loaded")
    return classifier


async def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ClassifierDep = Annotated[Classifier, Depends(get_classifier)]
SettingsDep = Annotated[Settings, Depends(app_settings)]


async def require_admin(request: Request, settings: SettingsDep) -> None:
    """With NEWSAPI_ADMIN_TOKEN set, demand ``Authorization: Bearer <token>``.

    401 without credentials, 403 with wrong ones; compared in constant time. Without a
    configured token admin routes stay open, as in the book (the server warns at start-up).
    """
    if settings.admin_token is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "this route needs an 'Authorization: Bearer <token>' header",
            headers={"WWW-Authenticate": "Bearer"},
        )
    expected = settings.admin_token.get_secret_value().encode()
    if not secrets.compare_digest(given.strip().encode(), expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the bearer token is not valid")


class RequestError(Exception):
    """A request (body or query) that is not what the route takes; rendered as 415 or 422."""

    def __init__(self, status_code: int, detail: Any) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


async def parse_json_body(request: Request, adapter: Any) -> Any:
    """Validate the JSON body with a pydantic ``TypeAdapter`` (parsing and validation in one
    pass in pydantic-core); the body size limit is enforced by FastAPI's ``max_body_size``."""
    content_type = request.headers.get("content-type", "application/json").lower()
    media_type = content_type.partition(";")[0].strip()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise RequestError(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"send the body as JSON with 'Content-Type: application/json' (got {media_type!r})",
        )
    body = await request.body()
    try:
        return adapter.validate_json(body)
    except ValidationError as exc:
        if not any(error["type"] == "json_invalid" for error in exc.errors()):
            raise _unprocessable(exc) from None
        invalid = exc
    # The JSON grammar allows lone surrogates escaped in strings ("\ud800"); they are not
    # characters, and pydantic-core refuses them. The standard library reads them; each is
    # replaced by U+FFFD, the replacement character, and the text is classified as usual.
    try:
        data = json.loads(body)
    except ValueError:
        raise _unprocessable(invalid) from None
    try:
        return adapter.validate_python(_without_lone_surrogates(data))
    except ValidationError as exc:
        raise _unprocessable(exc) from None


LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_lone_surrogates(item) for key, item in value.items()}
    return value


def _unprocessable(exc: ValidationError) -> RequestError:
    """FastAPI's 422 body shape, without echoing the input (texts can be long)."""
    errors = [
        {"type": e["type"], "loc": ["body", *e["loc"]], "msg": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    return RequestError(status.HTTP_422_UNPROCESSABLE_CONTENT, errors)
