"""The baselines of ``http_load.py``: a constant pre-serialised TD for every ``/things/{id}``.

Both are served by uvicorn with the same workers, HTTP parser and event loop as
``tinyreg serve``; the TD bytes come from the file named by ``TINYREG_BARE_TD``.

* ``raw``: a plain ASGI callable that sends the bytes, the least an ASGI app can do per
  request. It is the ceiling of the HTTP stack (uvicorn, httptools, uvloop) and the load
  generator on this machine (``bare_rps``): what ``tinyreg serve`` answers from its cache
  is the same two ``send`` calls after a dictionary lookup, before any routing.
* ``app``: bare Starlette, the same bytes through its router and ``Response``
  (``bare_starlette_rps``): what a routed answer costs at the least.
"""

import os
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = Path(os.environ["TINYREG_BARE_TD"]).read_bytes()
HEADERS = [
    (b"content-type", b"application/td+json"),
    (b"content-length", str(len(BODY)).encode()),
    (b"etag", b'"constant"'),
]


async def thing(request: Request) -> Response:
    """The same bytes for every id."""
    return Response(BODY, media_type="application/td+json", headers={"ETag": '"constant"'})


app = Starlette(routes=[Route("/things/{ident:path}", thing)])


async def raw(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The same bytes for every HTTP request (lifespan events are acknowledged)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
