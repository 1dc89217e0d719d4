"""``/things``: the W3C WoT Thing Description Directory's CRUD operations."""

import json
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from tinyreg.registry.directory import Page, Thing, merge_diff
from tinyreg.registry.rest.cache import Answer
from tinyreg.registry.rest.inputs import location
from tinyreg.registry.rest.shared import (
    TD_JSON,
    Reader,
    Writer,
    base_url,
    cached,
    call,
    json_body,
    ok,
    readable,
    send,
)

__all__ = ["router"]

TD_TYPES = (TD_JSON, "application/json", "application/ld+json")
MERGE_PATCH = "application/merge-patch+json"
DISCOVERY_CONTEXT = "https://www.w3.org/2022/wot/discovery"
_TD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {media: {"schema": {"type": "object"}} for media in TD_TYPES},
    }
}
_PATCH_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {MERGE_PATCH: {"schema": {"type": "object"}}}}
}

router = APIRouter(tags=["directory"])


@readable(router, "/things", responses=ok("application/ld+json"))
async def list_things(
    request: Request,
    s: Reader,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    payload: Annotated[Literal["array", "collection"], Query(alias="format")] = "array",
) -> Response:
    """The TDs in id order, a page at a time (``Link: rel=next``, ``rel=canonical``).

    ``format=collection`` answers a WoT Discovery ``ThingCollection`` (``total``,
    ``members``, ``@id`` and ``next``) instead of a bare array.

    ``ETag`` is the collection's entity tag: ``If-None-Match`` with it answers ``304``
    while nothing was written.
    """
    size = limit if limit is not None else s.settings.page_size
    base = base_url(request)

    def at(start: int) -> str:
        query: dict[str, int | str] = {"offset": start, "limit": size}
        if payload == "collection":
            query["format"] = payload
        return f"{base}/things?{urlencode(query)}"

    def read() -> Answer:
        page: Page = s.directory.page(size, offset)
        canonical = f"{base}/things" + ("?format=collection" if payload == "collection" else "")
        links = [f'<{canonical}>; rel="canonical"; etag="{page.etag}"']
        if page.more:
            links.append(f'<{at(offset + size)}>; rel="next"')
        members = [t.document() for t in page.things]
        content: Any = members
        if payload == "collection":
            content = {
                "@context": DISCOVERY_CONTEXT,
                "@type": "ThingCollection",
                "@id": at(offset),
                "total": page.total,
                "members": members,
            }
            if page.more:
                content["next"] = at(offset + size)
        return Answer(
            json.dumps(content).encode(),
            "application/ld+json",
            {"Link": ", ".join(links)},
            valid_until=s.directory.next_expiry(),
            etag=page.etag,
        )

    return send(await cached(s, ("page", base, payload, offset, size), read), request)


@readable(router, "/things/{ident:path}", responses=ok(TD_JSON))
async def get_thing(ident: str, request: Request, s: Reader) -> Response:
    """One TD with its registration information (``ETag``; ``If-None-Match`` gives 304)."""

    def read() -> Answer:
        thing: Thing = s.directory.get(ident)
        expires = thing.registration.expires if thing.registration is not None else None
        return Answer(json.dumps(thing.document()).encode(), TD_JSON, valid_until=expires)

    return send(await cached(s, ("thing", ident), read), request)


@router.put(
    "/things/{ident:path}",
    openapi_extra=_TD_BODY,
    status_code=201,
    responses={204: {"description": "Replaced"}},
)
async def put_thing(ident: str, request: Request, s: Writer) -> Response:
    """Create (201) or replace (204) a TD under its id."""
    td = await json_body(request, TD_TYPES, ident)
    thing, previous = await call(s.directory.put, td, ident)
    if previous is None:
        s.events.publish("thing_created", thing.id, thing.document())
        return Response(status_code=201, headers={"Location": location("/things/", thing.id)})
    s.events.publish(
        "thing_updated", thing.id, {**merge_diff(previous.td, thing.td), "id": thing.id}
    )
    return Response(status_code=204)


@router.post("/things", openapi_extra=_TD_BODY, status_code=201)
async def post_thing(request: Request, s: Writer) -> Response:
    """Register an anonymous TD; its new id (``urn:uuid:...``) is in ``Location``."""
    td = await json_body(request, TD_TYPES, "<anonymous TD>")
    thing: Thing = await call(s.directory.create, td)
    s.events.publish("thing_created", thing.id, thing.document())
    return Response(status_code=201, headers={"Location": location("/things/", thing.id)})


@router.patch("/things/{ident:path}", openapi_extra=_PATCH_BODY, status_code=204)
async def patch_thing(ident: str, request: Request, s: Writer) -> Response:
    """Apply a JSON Merge Patch (``application/merge-patch+json``) to a TD."""
    patch = await json_body(request, (MERGE_PATCH,), ident)
    thing, previous = await call(s.directory.patch, ident, patch)
    s.events.publish(
        "thing_updated", thing.id, {**merge_diff(previous.td, thing.td), "id": thing.id}
    )
    return Response(status_code=204)


@router.delete("/things/{ident:path}", status_code=204)
async def delete_thing(ident: str, s: Writer) -> Response:
    """Delete a TD."""
    thing: Thing = await call(s.directory.delete, ident)
    s.events.publish("thing_deleted", thing.id, {"id": thing.id})
    return Response(status_code=204)
