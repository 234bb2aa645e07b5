"""Admin routes refuse what a cross-site form could send; the allowed-hosts list holds.
Real uvicorn, real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from newsapi.model.artifact import Artifact
from tests.support import Server

pytestmark = pytest.mark.server


def test_open_admin_routes_refuse_cross_site_simple_requests(
    start_server: Callable[..., Server], tiny_model: Artifact
) -> None:
    server = start_server(tiny_model.path)
    reload = f"{server.url}/admin/reload"
    # what a hostile page's <form method=post> can send: a simple request
    for content_type in ("application/x-www-form-urlencoded", "text/plain",
                         "multipart/form-data; boundary=x"):  # fmt: skip
        forged = httpx.post(reload, content=b"a=b", headers={"content-type": content_type})
        assert forged.status_code == 403
        assert "X-Requested-With" in forged.json()["detail"]
    assert httpx.post(reload).status_code == 403  # no body at all is simple too
    # what only a script allowed by CORS (never granted here) or a non-browser client sends
    assert httpx.post(reload, json={}).status_code == 200
    assert httpx.post(reload, headers={"X-Requested-With": "curl"}).status_code == 200
    # DELETE is never a simple request: a browser asks first, and is not allowed
    assert httpx.delete(f"{server.url}/cache").status_code == 204


def test_allowed_hosts(start_server: Callable[..., Server], tiny_model: Artifact) -> None:
    server = start_server(tiny_model.path, NEWSAPI_ALLOWED_HOSTS="127.0.0.1, api.example.org")
    text = {"text": "rocket orbit"}
    assert httpx.post(f"{server.url}/prediction", json=text).status_code == 200
    for host in ("evil.example", "api.example.org.evil.example", "localhost"):
        refused = httpx.post(f"{server.url}/prediction", json=text, headers={"host": host})
        assert refused.status_code == 400, host
    good = httpx.post(f"{server.url}/prediction", json=text, headers={"host": "api.example.org"})
    assert good.status_code == 200
