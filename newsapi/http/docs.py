"""The interactive documentation, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), with no internet.

FastAPI's own pages load Swagger UI's and ReDoc's scripts and styles from a CDN, so on a machine
without internet (or behind a firewall) they are blank. Here the same pages, built by FastAPI's
own functions, load those files from the ``fastapi-offline`` package, served by this app.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs-assets"

# Swagger UI sends the address of the OpenAPI document to an online validator (a badge image)
# unless the page was opened as localhost: that request would leave the machine.
OFFLINE_SWAGGER_PARAMETERS: dict[str, Any] = {"validatorUrl": None}

# And the browser itself keeps both pages on this server: ReDoc's sidebar shows a logo from
# its makers' CDN, and whatever else a future bundle links to is refused the same way.
# (Swagger UI's page starts it with an inline script; both inject inline styles; ReDoc's
# search runs in a worker made from a blob.)
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
    ]
)


def assets_folder() -> Path:
    """The folder of Swagger UI's and ReDoc's files, as the ``fastapi-offline`` wheel ships it.

    Only its files are used: its own factory builds a plain ``FastAPI``, and the app here is
    :class:`newsapi.http.app.NewsAPI`. requirements.lock pins the version, so the folder stays put.
    """
    return Path(str(files("fastapi_offline") / "static"))


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` with their files from this app (build ``app`` with
    ``docs_url=None, redoc_url=None`` so that FastAPI does not add its CDN pages)."""
    if app.openapi_url is None:
        return
    openapi_url = app.openapi_url
    app.mount(ASSETS_URL, StaticFiles(directory=assets_folder()), name="docs-assets")
    parameters = {**OFFLINE_SWAGGER_PARAMETERS, **(app.swagger_ui_parameters or {})}
    redirect_url = app.swagger_ui_oauth2_redirect_url

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root_path(request)
        page = get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=root + redirect_url if redirect_url else None,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=parameters,
        )
        return _same_origin_only(page)

    if redirect_url:

        @app.get(redirect_url, include_in_schema=False)
        async def swagger_ui_oauth2_redirect() -> HTMLResponse:
            return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root_path(request)
        page = get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
        return _same_origin_only(page)


def _same_origin_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page


def _root_path(request: Request) -> str:
    """The prefix a proxy mounts the app under (uvicorn's ``--root-path``), as FastAPI uses it."""
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/")
