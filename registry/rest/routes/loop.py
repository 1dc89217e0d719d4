"""The loop: ``/telemetry``, ``/drift``, ``/retrain``, ``/rollouts`` and their events.

Reads answer as the CLI's ``--format json``; writes (recording a drift check, retraining,
starting or halting a rollout) need the bearer token, as every write route does. The WoT
``/events`` stream stays for TD events: a rollout's events are at
``/rollouts/{id}/events``.
"""

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from tinyreg.core.errors import InputError
from tinyreg.registry.rest.shared import Reader, Writer, call, json_body, json_response, readable

__all__ = ["router"]

router = APIRouter(tags=["loop"])
JSON = ("application/json",)


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InputError("the request body must be a JSON object")
    return body


def _devices(body: dict[str, Any]) -> list[str]:
    devices = body.get("devices", [])
    if not isinstance(devices, list) or not all(isinstance(d, str) for d in devices):
        raise InputError("devices must be a list of device ids")
    return devices


def _number(
    body: dict[str, Any], key: str, default: Any, kind: type, low: float, high: float
) -> Any:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InputError(f"{key} must be a number from {low} to {high}")
    return kind(value)


def _telemetry_dict(record: Any) -> dict[str, Any]:
    data: dict[str, Any] = record.to_dict()
    data.pop("raw", None)
    return data


@readable(router, "/telemetry")
async def list_telemetry(s: Reader, device: str | None = None, limit: int = 20) -> Response:
    """A device's latest kept windows, or each device's latest one."""
    rows = await call(s.registry.telemetry_show, device, limit=max(1, min(limit, 1000)))
    return json_response([_telemetry_dict(r) for r in rows])


@readable(router, "/drift")
async def get_drift(s: Reader, device: str | None = None) -> Response:
    """Test devices for drift against their baselines now (nothing recorded)."""
    devices = [device] if device else []
    results = await call(s.registry.drift_check, devices, record=False)
    return json_response([r.to_dict() for r in results])


@router.post("/drift")
async def record_drift(s: Writer, device: str | None = None) -> Response:
    """Test devices for drift and record the assessments in the graph."""
    devices = [device] if device else []
    results = await call(s.registry.drift_check, devices)
    return json_response([r.to_dict() for r in results])


@router.post("/retrain", status_code=201)
async def retrain(s: Writer, request: Request) -> Response:
    """Retrain on drifted devices, register the version with lineage and gate it.

    Body (optional JSON): ``devices``, ``epochs``, ``seed``.
    """
    body: dict[str, Any] = {}
    if await request.body():
        body = _object(await json_body(request, JSON, "retrain request"))
    result = await call(
        s.registry.retrain,
        _devices(body),
        epochs=_number(body, "epochs", 8, int, 1, 200),
        seed=_number(body, "seed", 0, int, 0, 2**31),
    )
    return json_response(result, 201, Location=f"/models/{result['candidate']}")


@readable(router, "/rollouts")
async def list_rollouts(s: Reader) -> Response:
    """Every rollout's state."""
    return json_response(await call(s.registry.rollout_status))


@router.post("/rollouts", status_code=201)
async def start_rollout(s: Writer, request: Request) -> Response:
    """Plan a rollout and run it.

    Body (JSON): ``model``, ``devices``, ``broker``; optional ``expected_alarm_rate``,
    ``window_s`` and ``run`` (false: only plan it).
    """
    body = _object(await json_body(request, JSON, "rollout request"))
    model, broker = body.get("model"), body.get("broker")
    if not isinstance(model, str) or not isinstance(broker, str):
        raise InputError("a rollout needs model, devices and broker (strings)")
    state = await call(
        s.registry.rollout_start,
        model,
        _devices(body),
        broker=broker,
        expected_alarm_rate=_number(body, "expected_alarm_rate", 0.0, float, 0.0, 1.0),
        window_s=_number(body, "window_s", 1.0, float, 0.01, 3600.0),
        run=body.get("run", True) is not False,
    )
    return json_response(state, 201, Location=f"/rollouts/{state['id']}")


@readable(router, "/rollouts/{ident}")
async def get_rollout(ident: str, s: Reader) -> Response:
    """One rollout's state."""
    return json_response((await call(s.registry.rollout_status, ident))[0])


@readable(router, "/rollouts/{ident}/events")
async def rollout_events(ident: str, s: Reader) -> Response:
    """One rollout's events, oldest first."""
    return json_response((await call(s.registry.rollout_status, ident))[0]["events"])


@router.post("/rollouts/{ident}/halt")
async def halt_rollout(ident: str, s: Writer) -> Response:
    """Stop a rollout before its next wave."""
    return json_response(await call(s.registry.rollout_halt, ident))
