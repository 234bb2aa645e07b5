"""A real uvicorn server in a thread of the test process: for tests that hand the app
something only an in-process app can take (a tracer provider exporting to memory)."""

from __future__ import annotations

import threading
from typing import Any

import uvicorn

from tests.support.servers import free_port, wait_for


class ThreadServer:
    """uvicorn serving ``app`` in a thread (its lifespan included) on a free local port."""

    def __init__(self, app: Any) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        wait_for(lambda: self.server.started or not self.thread.is_alive(), what="start")
        assert self.server.started, "the server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)
