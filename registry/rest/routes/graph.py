"""``/export``, ``/check``, ``/reindex`` and ``/bench``: the graph as a whole and its upkeep.

Each route calls the service method its command calls (``tinyreg export``, ``check``,
``reindex``, ``bench``).
"""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from tinyreg.registry.rest.shared import (
    TD_JSON,
    Reader,
    Writer,
    call,
    json_response,
    ok,
    readable,
)

__all__ = ["router"]

_MEDIA = {
    "turtle": "text/turtle",
    "json-ld": "application/ld+json",
    "nt": "application/n-triples",
    "td": TD_JSON,
}

router = APIRouter(tags=["graph"])


@readable(router, "/export", responses=ok(*_MEDIA.values()))
async def export(
    s: Reader,
    ident: Annotated[str | None, Query(alias="id", min_length=1)] = None,
    fmt: Annotated[str, Query(alias="format", pattern="^(turtle|json-ld|nt|td)$")] = "turtle",
) -> Response:
    """One model or device (``id``), or the whole registry, as ``tinyreg export`` writes it."""
    text = await call(s.registry.export, fmt, ident)
    return Response(text, media_type=_MEDIA[fmt])


@readable(router, "/check")
async def check(s: Reader) -> Response:
    """The SHACL shapes over the whole graph (``tinyreg check --no-owl``)."""
    violations = await call(s.registry.check)
    return json_response(
        {"conforms": not violations, "violations": [asdict(v) for v in violations]}
    )


@router.post("/reindex")
async def reindex(s: Writer, everything: Annotated[bool, Query(alias="all")] = False) -> Response:
    """Bring the fit index up to date (``indexed`` is ``null`` when it already was)."""
    indexed = await call(s.registry.reindex, everything=everything)
    return json_response({"indexed": indexed})


@router.post("/bench")
async def bench(
    s: Writer,
    model: Annotated[list[str] | None, Query()] = None,
    every: Annotated[bool, Query(alias="all")] = False,
    runs: Annotated[int, Query(ge=1, le=1000)] = 50,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 0,
    device: Annotated[str | None, Query(min_length=1)] = None,
    target: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> Response:
    """Measure models on the server with TFLite Micro and store the results (``tinyreg bench``).

    With ``target`` (``qemu-mps2-an386``, ``qemu-mps3-an547``) the firmware agent runs them on
    that emulated board (``tinyreg bench --target``): instruction counts are instructions, not
    cycles. The answer lists ``results`` (as ``tinyreg bench --format json``) and, with
    ``all``, the models ``failed`` with why.
    """
    outcome = await call(
        s.registry.bench,
        model or [],
        every=every,
        runs=runs,
        seed=seed,
        device=device,
        target=target,
    )
    return json_response(
        {
            "results": [r.to_dict() for r in outcome.results],
            "failed": [{"model": m, "reason": why} for m, why in outcome.failed],
        }
    )
