"""The fast read path: ``GET /things/{id}`` answered from the cache before any routing.

A TD already encoded for the store's current generation
(:class:`~tinyreg.registry.rest.cache.AnswerCache`) needs no routing, no dependency
resolution and no worker thread: :class:`FastReads`, the outermost ASGI middleware, sends
those bytes (or ``304 Not Modified``) itself. Everything else, and every request it cannot
answer exactly as the route would, goes on to the app unchanged: a cache miss, a request
with an ``Origin`` (CORS headers are the app's), a directory whose reads need the token.
The route fills the cache, so the answer is the route's, byte for byte.
"""

from __future__ import annotations

import time
from typing import Any

from tinyreg.registry.rest.cache import etag_matches
from tinyreg.registry.rest.metrics import RequestMetrics

__all__ = ["THING_ROUTE", "FastReads"]

THING_ROUTE = "/things/{ident:path}"
"""The route template whose cached answers are served here (the metrics' label)."""
_PREFIX = "/things/"


class FastReads:
    """ASGI middleware serving cached TDs.

    Args:
        app: The wrapped ASGI app.
        metrics: Where answered requests are counted (as the route would count them).

    """

    def __init__(self, app: Any, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Answer a cached ``GET``/``HEAD /things/{id}``; pass anything else on."""
        if (
            scope["type"] == "http"
            and scope["path"].startswith(_PREFIX)
            and scope["method"] in ("GET", "HEAD")
            and not scope.get("query_string")
        ):
            t0 = time.perf_counter()
            state = getattr(scope["app"].state, "tinyreg", None)
            if state is not None and not state.settings.auth_reads:
                headers = dict(scope["headers"])
                if b"origin" not in headers:
                    answer = state.answers.get(("thing", scope["path"][len(_PREFIX) :]))
                    if answer is not None:
                        tag = f'"{answer.etag}"'.encode()
                        match = headers.get(b"if-none-match")
                        if match is not None and etag_matches(match.decode("latin-1"), answer.etag):
                            status, body = 304, b""
                            sent = [(b"etag", tag)]
                        else:
                            status, body = 200, answer.body
                            sent = [
                                (b"content-type", answer.media.encode()),
                                (b"content-length", str(len(body)).encode()),
                                (b"etag", tag),
                            ]
                        await send(
                            {"type": "http.response.start", "status": status, "headers": sent}
                        )
                        await send(
                            {
                                "type": "http.response.body",
                                "body": body if scope["method"] == "GET" else b"",
                            }
                        )
                        self.metrics.record(
                            scope["method"], THING_ROUTE, status, time.perf_counter() - t0
                        )
                        return
        await self.app(scope, receive, send)
