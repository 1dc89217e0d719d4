"""``/search/sparql``: SPARQL 1.1 Protocol queries (updates are refused)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from tinyreg.core.errors import ForbiddenError, InputError, MediaTypeError
from tinyreg.registry.rest.funnel import forwarded_client
from tinyreg.registry.rest.shared import AppState, Reader, media_type, ok, readable

__all__ = ["router"]

SPARQL_QUERY = "application/sparql-query"
FORM = "application/x-www-form-urlencoded"
_SPARQL_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            SPARQL_QUERY: {"schema": {"type": "string"}},
            FORM: {
                "schema": {
                    "type": "object",
                    "properties": {"query": {"type": "string"}},
                    "required": ["query"],
                }
            },
        },
    }
}
_SPARQL_OK = ok(
    "application/sparql-results+json",
    "application/json",
    "application/ld+json",
    "text/turtle",
    "application/n-triples",
)

router = APIRouter(tags=["search"])


async def _sparql(request: Request, s: AppState, query: str) -> Response:
    local = s.settings.local_token
    client = forwarded_client(request.headers, local.get_secret_value() if local else None)
    if client is None:  # not forwarded by a reader process of this server
        client = request.client.host if request.client is not None else "-"
    media, body = await s.search.answer(query, request.headers.get("accept"), client)
    return Response(body, media_type=media)


@readable(router, "/search/sparql", responses=_SPARQL_OK)
async def sparql_get(
    request: Request, s: Reader, query: Annotated[str, Query(min_length=1)]
) -> Response:
    """SPARQL 1.1 Protocol query (SELECT/ASK/CONSTRUCT/DESCRIBE); updates are refused."""
    return await _sparql(request, s, query)


async def _posted_query(request: Request) -> str:
    media = media_type(request)
    if media == "application/sparql-update":
        raise ForbiddenError("SPARQL updates are not accepted; write through /things")
    if media == SPARQL_QUERY:
        raw = await request.body()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError("the query is not UTF-8 text") from exc
    if media == FORM:
        form = await request.form()
        if "update" in form:
            raise ForbiddenError("SPARQL updates are not accepted; write through /things")
        value = form.get("query")
        if not isinstance(value, str) or not value:
            raise InputError("the form has no 'query'")
        return value
    raise MediaTypeError(media or "(none)", (SPARQL_QUERY, FORM))


@router.post("/search/sparql", openapi_extra=_SPARQL_BODY, responses=_SPARQL_OK)
async def sparql_post(request: Request, s: Reader) -> Response:
    """SPARQL 1.1 Protocol query by POST (``application/sparql-query`` or a form)."""
    return await _sparql(request, s, await _posted_query(request))
