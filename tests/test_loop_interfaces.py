"""The loop's interfaces without a broker: the service methods, the CLI groups and the REST
routes on telemetry kept by the registry (drift check, rollout status, halt, events)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from fastapi.testclient import TestClient

from _paths import KG_DATA
from tinyreg.firmware.vibration import Conditions, MachineSource, Scenario, features, statistics
from tinyreg.registry import Registry
from tinyreg.registry.cli import cli
from tinyreg.registry.rest import Settings, create_app
from tinyreg.registry.telemetry import TelemetryRecord
from tinyreg.registry.versions import host_scores

MODEL = "vibration-ae-int8"
DEVICE = "urn:tinyreg:device:arduino-nano-33-ble-sense"
TOKEN = "loop-token"
DRIFTED = Conditions(speed_hz=25.0, load=0.9, resonance_hz=480.0, noise_g=0.015)


def _records(data: bytes, windows: int, onset: int) -> list[TelemetryRecord]:
    source = MachineSource(3, Scenario(after=DRIFTED, onset=onset, ramp=2))
    signals = np.stack([source.window(k).signal for k in range(windows)])
    x = features(signals)
    scores = host_scores(data, x)
    return [
        TelemetryRecord(
            device=DEVICE,
            seq=k + 1,
            window=k,
            ts=float(k),
            received=float(k),
            model=MODEL,
            version="1",
            score=float(scores[k]),
            verdict=None,
            inference_ms=0.2,
            error=None,
            stats={n: float(v) for n, v in statistics(signals[k]).items() if n != "bands"},
            input=[float(v) for v in x[k]],
        )
        for k in range(windows)
    ]


def test_drift_and_rollouts_through_service_cli_and_rest(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with Registry.open(store) as reg:
        reg.add_model(KG_DATA / "models" / f"{MODEL}.tflite")
        reg.add_device(KG_DATA / "devices" / "arduino-nano-33-ble-sense.td.jsonld")
        reg.establish_version(MODEL)
        data = reg.model_bytes(MODEL).data
        reg.telemetry().append(_records(data, 30, onset=100))  # baseline + 10 healthy
        assert [r.kind for r in reg.drift_check()] == ["none"]
        reg.telemetry().append(_records(data, 44, onset=30)[30:])  # drifted from window 30
        results = reg.drift_check([DEVICE])
        assert [r.kind for r in results] == ["operating-conditions"], results[0].reason
        assert results[0].baseline_windows == list(range(20))
        assert len(reg.telemetry_show()) == 1
        planned = reg.rollout_start(MODEL, [DEVICE], broker="mqtt://unused:1", run=False)
        assert planned["status"] == "planned" and planned["version"] == "1"

    runner = CliRunner()
    base = ["--store", str(store)]
    out = runner.invoke(cli, [*base, "drift", "check", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)[0]["kind"] == "operating-conditions"
    out = runner.invoke(cli, [*base, "telemetry", "show", "--device", DEVICE, "--limit", "3"])
    assert out.exit_code == 0 and out.output.count("\n") >= 4, out.output
    out = runner.invoke(cli, [*base, "rollout", "status", "--format", "json"])
    assert out.exit_code == 0 and json.loads(out.output)[0]["id"] == planned["id"], out.output

    with Registry.open(store) as reg:
        app = create_app(Settings(token=TOKEN, validate_td_schema=False), registry=reg)
        with TestClient(app, raise_server_exceptions=False) as client:
            assert client.get("/rollouts").json()[0]["status"] == "planned"
            events = client.get(f"/rollouts/{planned['id']}/events").json()
            assert [e["event"] for e in events] == ["planned"]
            assert client.get("/rollouts/0123456789ab").status_code == 404
            assert client.get("/rollouts/..%2Fx").status_code == 404
            assert client.get("/drift").json()[0]["kind"] == "operating-conditions"
            assert client.get("/telemetry", params={"device": DEVICE}).status_code == 200
            assert client.post("/retrain").status_code == 401
            assert client.post(f"/rollouts/{planned['id']}/halt").status_code == 401
            auth = {"Authorization": f"Bearer {TOKEN}"}
            halted = client.post(f"/rollouts/{planned['id']}/halt", headers=auth)
            assert halted.status_code == 200 and halted.json()["status"] == "halted"
            bad = client.post("/retrain", headers=auth, json={"epochs": "many"})
            assert bad.status_code == 400


def test_list_shows_versions_and_the_family_names_its_gated_version(tmp_path: Path) -> None:
    from tinyreg.registry.loop import _add_gate
    from tinyreg.registry.versions import GateResult, resolve_version, write_version_record

    store = tmp_path / "store"
    with Registry.open(store) as reg:
        reg.add_model(KG_DATA / "models" / f"{MODEL}.tflite")
        reference = reg.establish_version(MODEL)
        v2 = f"{MODEL}-v2"
        reg.add_model(reg.model_bytes(MODEL).data, None, ident=v2, filename="v2.tflite")
        write_version_record(reg, v2, family=MODEL, number=2, reference=reference, previous=MODEL)
        # not gated yet: the family names version 1
        assert resolve_version(reg, MODEL) == MODEL
        assert resolve_version(reg, f"{MODEL}@2") == v2
        gate = GateResult(v2, MODEL, True, [], [], 0.9, 0.01, 0.9, 0.2, 10, 10)
        _add_gate(reg, v2, gate)
        assert resolve_version(reg, MODEL) == v2
        assert resolve_version(reg, f"{MODEL}@1") == MODEL
        versions = {m.id: (m.family, m.version) for m in reg.list_models()}
        assert versions[MODEL] == (MODEL, 1) and versions[v2] == (MODEL, 2)

    runner = CliRunner()
    base = ["--store", str(store)]
    out = runner.invoke(cli, [*base, "list", "models", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = {m["id"]: m for m in json.loads(out.output)}
    assert (rows[f"{MODEL}-v2"]["version"], rows[f"{MODEL}-v2"]["family"]) == (2, MODEL)
    assert rows[MODEL]["version"] == 1
    out = runner.invoke(cli, [*base, "list", "models", "--format", "csv"])
    assert out.exit_code == 0, out.output
    header, *lines = out.output.strip().splitlines()
    assert header.split(",")[:3] == ["id", "name", "version"]
    assert any(line.startswith(f"{MODEL}-v2,") and ",2," in line for line in lines), lines
    out = runner.invoke(cli, [*base, "list", "models"])
    assert out.exit_code == 0 and "version" in out.output.splitlines()[0], out.output


def test_a_model_without_a_version_record_takes_its_cards_version_else_1(tmp_path: Path) -> None:
    with Registry.open(tmp_path / "store") as reg:
        reg.add_model(KG_DATA / "models" / f"{MODEL}.tflite")
        [record] = reg.list_models()
        assert (record.family, record.version) == (MODEL, 1)
