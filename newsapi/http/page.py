"""``GET /try``: a page to try the model, and ``GET /model/card/``, the card it links to.

The page is plain HTML, CSS and a little JavaScript shipped in the package
(``newsapi/http/static/try/``): no CDN, no build step. It asks this server only (``POST
/explanation``, ``POST /prediction?scores=true``, ``GET /model``) and carries the same
Content-Security-Policy as ``/docs``, so the browser loads nothing from elsewhere. Its URLs are
relative, so it works under a proxy's root path too.

The card is the served model's ``card.html`` (and the images beside it) when the model is an
entry of the store beside the served file; 404 otherwise.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from newsapi.http.docs import CONTENT_SECURITY_POLICY
from newsapi.http.pipeline import echo, loaded

PAGE_URL = "/try"
ASSETS_URL = "/try-assets"
CARD_URL = "/model/card/"
# what a card folder may hand out: its page and the images it shows, no sub-folder; at most
# 255 characters, the longest file name (a longer one made the file system's look-up fail)
CARD_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,249}\.(html|png)$")


def page_folder() -> Path:
    """The page's files, as the package ships them."""
    return Path(str(files("newsapi.http") / "static" / "try"))


def install_page(app: FastAPI) -> None:
    """Serve ``/try``, its files under ``/try-assets`` and the served model's card."""
    folder = page_folder()
    app.mount(ASSETS_URL, StaticFiles(directory=folder), name="try-assets")
    page = (folder / "try.html").read_text(encoding="utf-8")

    @app.get(PAGE_URL, include_in_schema=False)
    async def try_page() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})

    @app.get(CARD_URL, include_in_schema=False)
    async def model_card(request: Request) -> FileResponse:
        return card_file(request, "card.html")

    @app.get(CARD_URL + "{name}", include_in_schema=False)
    async def model_card_file(request: Request, name: str) -> FileResponse:
        return card_file(request, name)


def card_file(request: Request, name: str) -> FileResponse:
    """A file of the served model's store entry; 404 when there is none."""
    classifier = loaded(request.app.state.classifier)
    entry = classifier.store_entry()
    if entry is None:
        raise HTTPException(
            404, "the served model has no card: it is not an entry of a model store"
        )
    path = Path(classifier.settings.model.model_path).parent / entry / name
    if not CARD_FILE.match(name) or not path.is_file():
        raise HTTPException(404, f"the model card has no file {echo(name)}")
    return FileResponse(path, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})
