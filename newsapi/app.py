"""``uvicorn newsapi.app:app``: the served application, built by :mod:`newsapi.http.app`.

Kept at this path because deployments, the Makefile and the bench start it by this name.
"""

from newsapi.http.app import app, create_app

__all__ = ["app", "create_app"]
