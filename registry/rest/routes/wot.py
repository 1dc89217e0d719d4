"""``/.well-known/wot``: the directory's own Thing Description."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from tinyreg.registry.rest.shared import TD_JSON, Reader, base_url, json_response, ok, readable
from tinyreg.registry.rest.wot import directory_td

__all__ = ["router"]

router = APIRouter(tags=["directory"])


@readable(router, "/.well-known/wot", responses=ok(TD_JSON))
async def well_known(request: Request, s: Reader) -> Response:
    """The directory's own Thing Description."""
    td = directory_td(base_url(request), reads_need_token=s.settings.auth_reads)
    return json_response(td, media=TD_JSON)
