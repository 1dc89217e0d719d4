"""``/deployments``: recorded over-the-air deployments, or what runs where."""

from fastapi import APIRouter
from starlette.responses import Response

from tinyreg.registry.rest.shared import Reader, call, json_response, readable

__all__ = ["router"]

router = APIRouter(tags=["deployments"])


@readable(router, "/deployments")
async def list_deployments(
    s: Reader, model: str | None = None, device: str | None = None, running: bool = False
) -> Response:
    """Recorded deployments, oldest first (as ``tinyreg deployments --format json``).

    ``model`` and ``device`` keep those of one model or device; ``running`` keeps each
    device's latest committed deployment: what runs where.
    """
    records = await call(s.registry.deployments, model=model, device=device, running=running)
    return json_response([r.to_dict() for r in records])
