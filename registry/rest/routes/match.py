"""``/match``: devices for a model, models for a device, and one pair's explanation."""

import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tinyreg.matchmaker import Match
from tinyreg.registry import match_dict
from tinyreg.registry.rest.shared import Reader, call, json_response, readable

__all__ = ["router"]

router = APIRouter(tags=["match"])


async def _match_page(found: Sequence[Match], offset: int, limit: int | None) -> Response:
    """A page of a ranked answer as JSON, with the answer's size in ``X-Total-Count``.

    A ranked answer read from the fit index fetches the page's devices and verdicts
    only, in a worker thread like every store call.
    """

    def page() -> list[dict[str, Any]]:
        stop = len(found) if limit is None else offset + limit
        return [match_dict(m) for m in found[offset:stop]]

    body = json.dumps(await run_in_threadpool(page))
    headers = {"X-Total-Count": str(len(found))}
    return Response(body, media_type="application/json", headers=headers)


@readable(router, "/match/devices")
async def match_devices(
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
    found = await call(
        s.registry.match, model=model, all_verdicts=all_verdicts, max_latency_ms=max_latency_ms
    )
    return await _match_page(found, offset, limit)


@readable(router, "/match/models")
async def match_models(
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
    found = await call(
        s.registry.match,
        device=device,
        task=task,
        min_metric=min_metric,
        max_latency_ms=max_latency_ms,
        text=text,
        dataset=dataset,
        all_verdicts=all_verdicts,
        order=order,
    )
    return await _match_page(found, offset, limit)


@readable(router, "/match/explain")
async def match_explain(
    s: Reader,
    model: Annotated[str, Query(min_length=1)],
    device: Annotated[str, Query(min_length=1)],
) -> Response:
    """The verdict on one pair, constraint by constraint, with ``text`` as printed."""
    match = await call(s.registry.explain, model, device)
    return json_response({**match_dict(match), "text": match.explain()})
