"""The baseline of ``http_load.py``: bare Starlette answering a constant pre-serialised TD.

Served by uvicorn with the same workers, HTTP parser and event loop as ``tinyreg serve``;
what ``GET /things/{id}`` costs beyond it is the registry's own work. The TD bytes come
from the file named by ``TINYREG_BARE_TD``.
"""

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = Path(os.environ["TINYREG_BARE_TD"]).read_bytes()


async def thing(request: Request) -> Response:
    """The same bytes for every id."""
    return Response(BODY, media_type="application/td+json", headers={"ETag": '"constant"'})


app = Starlette(routes=[Route("/things/{ident:path}", thing)])
