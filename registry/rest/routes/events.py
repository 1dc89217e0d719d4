"""``/events``: the directory's Server-Sent Events."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from tinyreg.core.errors import InputError
from tinyreg.registry.rest.events import EVENT_TYPES
from tinyreg.registry.rest.shared import AppState, Reader, readable

__all__ = ["router"]

router = APIRouter(tags=["events"])


def _events(
    request: Request, s: AppState, types: set[str], diff: bool, last: str | None
) -> Response:
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    if request.method == "HEAD":
        return Response(media_type="text/event-stream", headers=headers)
    last_id = int(last) if last is not None and last.strip().isdigit() else None
    client = request.client.host if request.client is not None else "-"
    slot = s.events.open(client)  # 429 before anything is sent when over the limits
    return StreamingResponse(
        s.events.stream(types, diff, last_id, slot),
        media_type="text/event-stream",
        headers=headers,
        background=BackgroundTask(slot.release),  # also when the stream never started
    )


@readable(router, "/events")
async def events(
    request: Request,
    s: Reader,
    diff: bool = False,
    last_event_id: Annotated[
        str | None, Query(alias="lastEventId", include_in_schema=False)
    ] = None,
) -> Response:
    """Server-Sent Events of every kind; ``Last-Event-ID`` replays what followed it."""
    last = request.headers.get("last-event-id", last_event_id)
    return _events(request, s, set(EVENT_TYPES), diff, last)


@readable(router, "/events/{kind}")
async def events_of(request: Request, kind: str, s: Reader, diff: bool = False) -> Response:
    """Server-Sent Events of one kind (``thing_created``, ``_updated``, ``_deleted``)."""
    if kind not in EVENT_TYPES:
        raise InputError(f"unknown event type {kind!r}; use one of {', '.join(EVENT_TYPES)}")
    return _events(request, s, {kind}, diff, request.headers.get("last-event-id"))
