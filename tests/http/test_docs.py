"""/docs and /redoc without internet: their files come from this server, never from a CDN, and
follow the root path of a proxy (a real browser renders them in
tests/system/test_docs_browser.py)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from newsapi.http.app import create_app
from newsapi.http.docs import ASSETS_URL, assets_folder
from newsapi.model.artifact import Artifact
from newsapi.settings import Settings

ASSETS = ["swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"]


def test_pages_load_their_files_from_this_server(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        answer = client.get(page)
        assert answer.status_code == 200
        assert re.search("https?://", answer.text) is None, f"{page} links to another host"
        assert "default-src 'self'" in answer.headers["content-security-policy"]
    swagger = client.get("/docs").text
    assert f'src="{ASSETS_URL}/swagger-ui-bundle.js"' in swagger
    # opened by a name other than localhost, Swagger UI would ask an online validator
    assert '"validatorUrl": null' in swagger
    assert f'src="{ASSETS_URL}/redoc.standalone.js"' in client.get("/redoc").text
    for name in ASSETS:
        asset = client.get(f"{ASSETS_URL}/{name}")
        assert asset.status_code == 200, name
        assert asset.content == (assets_folder() / name).read_bytes()


def test_pages_follow_the_root_path_of_a_proxy(
    settings_for: Callable[..., Settings], tiny_model: Artifact
) -> None:
    proxied = TestClient(create_app(settings_for(tiny_model.path)), root_path="/newsapi")
    swagger = proxied.get("/docs").text
    assert f'src="/newsapi{ASSETS_URL}/swagger-ui-bundle.js"' in swagger
    assert "url: '/newsapi/openapi.json'" in swagger
    assert "'/newsapi/docs/oauth2-redirect'" in swagger
    assert 'spec-url="/newsapi/openapi.json"' in proxied.get("/redoc").text
    assert proxied.get("/docs/oauth2-redirect").status_code == 200
