"""Writes funnelled to one process: the reader side of ``tinyreg serve --workers N``.

With several server processes on one embedded store, one process (worker 0) holds the
store's lock and writes; the others open the store read-only and follow the writer's
generation (:mod:`tinyreg.core.stores.oxigraph_store`). In a reader, :class:`Funnel`
answers the plain reads itself (``GET``/``HEAD`` of TDs, pages, models, matches, the
directory's TD, the probes) and forwards every other request, unchanged and streamed both
ways, to the writer over loopback: writes, and what must be one per server (the event
stream, the report with its single-flight build, SPARQL with its fair worker pool, the
deployer, the loop). A forwarded request carries the client's address for the writer's
fairness accounting, vouched for by the local token (a client cannot set it).

A write answered by the writer is committed and its generation published before the
answer leaves, so the client's next read, on any process, sees it.
"""

from __future__ import annotations

import contextlib
import hmac
import json
from typing import Any

import httpx

__all__ = ["CLIENT_HEADER", "LOCAL_HEADER", "READ_PREFIXES", "Funnel", "forwarded_client"]

READ_PREFIXES = (
    "/things",
    "/models",
    "/match/",
    "/.well-known/wot",
    "/healthz",
    "/readyz",
    "/metrics",
    "/docs",
    "/openapi.json",
)
"""Paths a reader answers itself, for ``GET`` and ``HEAD`` only."""
CLIENT_HEADER = "x-tinyreg-client"
"""The client's address, set by a reader on a forwarded request."""
LOCAL_HEADER = "x-tinyreg-local"
"""The local token, proving that :data:`CLIENT_HEADER` was set by a reader."""
_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"upgrade", b"te", b"trailer"}


def forwarded_client(headers: Any, local_token: str | None) -> str | None:
    """The client address a reader forwarded, if the request proves it came from one.

    >>> forwarded_client({"x-tinyreg-client": "10.0.0.7", "x-tinyreg-local": "s"}, "s")
    '10.0.0.7'
    >>> forwarded_client({"x-tinyreg-client": "10.0.0.7", "x-tinyreg-local": "x"}, "s") is None
    True
    """
    given = headers.get(LOCAL_HEADER)
    if local_token is None or given is None:
        return None
    if not hmac.compare_digest(given.encode(), local_token.encode()):
        return None
    client = headers.get(CLIENT_HEADER)
    return str(client) if client else None


class Funnel:
    """ASGI middleware of a reader process: forward all but plain reads to the writer.

    Args:
        app: The reader's app.
        writer_url: The writer's loopback base URL.
        local_token: The token that vouches for the forwarded client address.

    """

    def __init__(self, app: Any, writer_url: str, local_token: str) -> None:
        self.app = app
        self.writer_url = writer_url.rstrip("/")
        self.local_token = local_token
        self._client: httpx.AsyncClient | None = None

    def _local(self, scope: Any) -> bool:
        if scope["method"] not in ("GET", "HEAD"):
            return False
        path: str = scope["path"]
        return path.startswith(READ_PREFIXES)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve a plain read here, forward anything else to the writer."""
        if scope["type"] != "http" or self._local(scope):
            await self.app(scope, receive, send)
            return
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.writer_url,
                timeout=httpx.Timeout(None, connect=5.0),
                limits=httpx.Limits(max_connections=256, max_keepalive_connections=32),
            )
        headers = [
            (k, v)
            for k, v in scope["headers"]
            if k.lower() not in _HOP
            and k.lower() not in (b"host", b"x-tinyreg-client")
            and k.lower() != LOCAL_HEADER.encode()
        ]
        client = scope.get("client")
        headers.append((CLIENT_HEADER.encode(), (client[0] if client else "-").encode()))
        headers.append((LOCAL_HEADER.encode(), self.local_token.encode()))

        async def body() -> Any:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                yield message.get("body", b"")
                if not message.get("more_body", False):
                    return

        url = scope["path"]
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        sized = any(k.lower() in (b"content-length", b"transfer-encoding") for k, _ in headers)
        chunked = any(k.lower() == b"transfer-encoding" for k, _ in scope["headers"])
        request = self._client.build_request(
            scope["method"], url, headers=headers, content=body() if sized or chunked else None
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            problem = {
                "type": "about:blank",
                "title": "Writer unavailable",
                "status": 503,
                "detail": f"the process that holds the store did not answer: {type(exc).__name__}",
            }
            message = json.dumps(problem)
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [(b"content-type", b"application/problem+json")],
                }
            )
            await send({"type": "http.response.body", "body": message.encode()})
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [(k, v) for k, v in response.headers.raw if k.lower() not in _HOP],
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            with contextlib.suppress(Exception):
                await response.aclose()
