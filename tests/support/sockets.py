"""Raw HTTP/1.1 over real sockets, for the tests that attack a server or play a slow client:
what httpx would not send (endless headers, two Host headers, a body trickled byte by byte)
and what it would hide (the connection closed after an answer)."""

from __future__ import annotations

import contextlib
import socket


def connect(url: str, timeout: float = 30.0) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def read_to_end(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection (a reset ends it too: the
    server closed with bytes of ours unread); fails on the socket's timeout when the server
    never closes."""
    chunks = []
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def read_response(sock: socket.socket) -> bytes:
    """One whole response on a kept-alive connection (its headers, then Content-Length)."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {raw!r}"
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    length = int(parse(head + b"\r\n\r\n")[1]["content-length"])
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (names in lower case; a repeated one keeps its last value) and body."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def exchange(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` on a new connection and read one answer (a server that has refused
    the request may close before reading all of it: what it sent is read all the same)."""
    with connect(url) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        raw = b""
        with contextlib.suppress(ConnectionResetError):
            while not _complete(raw) and (chunk := sock.recv(65536)):
                raw += chunk
        return parse(raw)


def _complete(raw: bytes) -> bool:
    head, found, body = raw.partition(b"\r\n\r\n")
    return bool(found) and len(body) >= int(parse(head + found)[1].get("content-length", 0))
