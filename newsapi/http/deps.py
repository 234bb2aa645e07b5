"""What routes need handed to them: the classifier, the settings, an admin check."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from newsapi.http.pipeline import loaded
from newsapi.serving.service import Classifier
from newsapi.settings import Settings

# A custom header a browser cannot add to a cross-site request without a CORS preflight,
# which this server never grants.
CUSTOM_HEADER = "x-requested-with"


async def get_classifier(request: Request) -> Classifier:
    """The classifier; 503 while the model is not loaded (starting or stopping)."""
    return loaded(request.app.state.classifier)


async def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ClassifierDep = Annotated[Classifier, Depends(get_classifier)]
SettingsDep = Annotated[Settings, Depends(app_settings)]
bearer = HTTPBearer(
    auto_error=False,
    description="NEWSAPI_ADMIN_TOKEN, when the server has one (admin routes only)",
)


async def require_admin(
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """With NEWSAPI_ADMIN_TOKEN set, demand ``Authorization: Bearer <token>``: 401 without
    credentials, 403 with wrong ones, compared in constant time.

    Without a token admin routes stay open, as in the book (the server warns at start-up),
    but not to other web sites: a cross-site "simple" request (a form POST, which a browser
    sends without asking) carries neither a JSON content type nor a custom header, and is
    refused with 403.
    """
    if settings.admin.admin_token is None:
        content_type = request.headers.get("content-type", "")
        is_json = content_type.partition(";")[0].strip().lower() == "application/json"
        if request.method in {"GET", "HEAD", "POST"} and not (
            is_json or CUSTOM_HEADER in request.headers
        ):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "admin requests need 'Content-Type: application/json' or an "
                "'X-Requested-With' header (a guard against cross-site forms)",
            )
        return
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "this route needs an 'Authorization: Bearer <token>' header",
            headers={"WWW-Authenticate": "Bearer"},
        )
    expected = settings.admin.admin_token.get_secret_value().encode()
    if not secrets.compare_digest(credentials.credentials.strip().encode(), expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the bearer token is not valid")
