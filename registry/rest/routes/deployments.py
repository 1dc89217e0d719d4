"""``/deployments``: recorded over-the-air deployments, what runs where, and new ones."""

from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field
from starlette.responses import Response

from tinyreg.core.errors import ForbiddenError
from tinyreg.registry.rest.shared import Reader, Writer, call, json_response, readable

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


class DeployRequest(BaseModel):
    """What ``POST /deployments`` deploys (as ``tinyreg deploy``)."""

    model: str = Field(min_length=1, max_length=256, description="model id, or FAMILY[@N]")
    devices: list[str] = Field(
        default_factory=list, max_length=1000, description="device ids (or use fleet)"
    )
    fleet: bool = Field(default=False, description="every device the model fits")
    force: bool = Field(default=False, description="deploy refused pairs, allow downgrades")
    timeout: float = Field(default=30.0, gt=0, le=600, description="seconds per device step")


@router.post("/deployments")
async def deploy(s: Writer, request: Annotated[DeployRequest, Body()]) -> Response:
    """Deploy a model over the air and record every outcome (the token is needed).

    The broker is the server's (``TINYREG_BROKER``); without one this answers 403. The
    answer lists one record per device, as ``tinyreg deploy --format json``.
    """
    broker = s.settings.broker
    if broker is None:
        raise ForbiddenError("deployments over REST are off: the server has no TINYREG_BROKER")
    registry = s.registry
    targets = await call(
        registry.deploy_targets, request.model, request.devices, fleet=request.fleet
    )
    records = await call(
        registry.deploy,
        request.model,
        targets,
        broker=broker,
        force=request.force,
        key=s.settings.signing_key,
        agent="rest",
        timeout=request.timeout,
    )
    return json_response([r.to_dict() for r in records])
