"""``/match``: devices for a model, models for a device, and one pair's explanation."""

import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from tinyreg.matchmaker import Match
from tinyreg.registry import match_dict
from tinyreg.registry.rest.cache import Answer
from tinyreg.registry.rest.shared import (
    AppState,
    Reader,
    cached,
    call,
    json_response,
    readable,
    send,
)

__all__ = ["router"]

router = APIRouter(tags=["match"])


def _match_page(found: Sequence[Match], offset: int, limit: int | None) -> Answer:
    """A page of a ranked answer as JSON, with the answer's size in ``X-Total-Count``.

    A ranked answer read from the fit index fetches the page's devices and verdicts
    only; called in a worker thread like every store call.
    """
    stop = len(found) if limit is None else offset + limit
    body = json.dumps([match_dict(m) for m in found[offset:stop]]).encode()
    return Answer(body, "application/json", {"X-Total-Count": str(len(found))})


async def _ranked(
    s: AppState, request: Request, key: tuple[Any, ...], offset: int, limit: int | None, **ask: Any
) -> Response:
    """A ranked answer's page, kept while the store is unchanged."""

    def read() -> Answer:
        return _match_page(s.registry.match(**ask), offset, limit)

    return send(await cached(s, (*key, offset, limit), read), request)


@readable(router, "/match/devices")
async def match_devices(
    request: Request,
    s: Reader,
    model: Annotated[str, Query(min_length=1)],
    all_verdicts: bool = False,
    max_latency_ms: Annotated[float | None, Query(gt=0)] = None,
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Devices that can run a model, best first (as ``tinyreg match --format json``).

    ``offset`` and ``limit`` choose a page of the ranking; ``X-Total-Count`` gives the
    number of matches.
    """
    key = ("devices", model, all_verdicts, max_latency_ms)
    return await _ranked(
        s,
        request,
        key,
        offset,
        limit,
        model=model,
        all_verdicts=all_verdicts,
        max_latency_ms=max_latency_ms,
    )


@readable(router, "/match/models")
async def match_models(
    request: Request,
    s: Reader,
    device: Annotated[str, Query(min_length=1)],
    task: str | None = None,
    min_metric: float | None = None,
    max_latency_ms: Annotated[float | None, Query(gt=0)] = None,
    text: str | None = None,
    dataset: str | None = None,
    all_verdicts: bool = False,
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    order: Annotated[str, Query(pattern="^(rank|metric)$")] = "rank",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Models that fit a device, best first (as ``tinyreg match --format json``).

    ``offset`` and ``limit`` choose a page of the ranking; ``X-Total-Count`` gives the
    number of matches.
    """
    ask: dict[str, Any] = {
        "device": device,
        "task": task,
        "min_metric": min_metric,
        "max_latency_ms": max_latency_ms,
        "text": text,
        "dataset": dataset,
        "all_verdicts": all_verdicts,
        "order": order,
    }
    return await _ranked(s, request, ("models", *ask.values()), offset, limit, **ask)


@readable(router, "/match/explain")
async def match_explain(
    s: Reader,
    model: Annotated[str, Query(min_length=1)],
    device: Annotated[str, Query(min_length=1)],
) -> Response:
    """The verdict on one pair, constraint by constraint, with ``text`` as printed."""
    match = await call(s.registry.explain, model, device)
    return json_response({**match_dict(match), "text": match.explain()})
