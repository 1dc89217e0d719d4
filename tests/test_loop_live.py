"""The loop's service methods on a real mosquitto with sensing virtual devices: collecting
telemetry, watching (turn after turn, stopped cleanly, also by Ctrl-C on the CLI), deploying a
family by its name, and a staged rollout planned, then resumed, through the service."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from _mosquitto import Mosquitto

from _paths import KG_DATA, REPO
from tinyreg.core.protocol import public_key_bytes
from tinyreg.firmware.fleet import Fleet
from tinyreg.firmware.sensing import SensingOptions
from tinyreg.registry import Registry
from tinyreg.registry.limits import device_limits

MODEL = "vibration-ae-int8"
NANO_TD = KG_DATA / "devices" / "arduino-nano-33-ble-sense.td.jsonld"


def _td(ident: str) -> dict[str, Any]:
    td = json.loads(NANO_TD.read_text())
    td["id"] = f"urn:tinyreg:device:{ident}"
    td["title"] = f"Machine sensor {ident}"
    return td


def _registry(store: Path, devices: int) -> tuple[Registry, list[dict[str, Any]]]:
    reg = Registry.open(store)
    reg.add_model(KG_DATA / "models" / f"{MODEL}.tflite")
    tds = [_td(f"{store.parent.name}-{i}") for i in range(devices)]
    for td in tds:
        reg.add_device(td)
    reg.establish_version(MODEL)
    return reg, tds


def _fleet(broker: Mosquitto, reg: Registry, tds: list[dict[str, Any]], state: Path) -> Fleet:
    return Fleet(
        broker.url,
        [device_limits(td) for td in tds],
        state,
        public_key_bytes(reg.signing_key()),
        sense=SensingOptions(period_s=0.2, seed=5, raw_every=2),
        workers=0,
    )


def test_watch_runs_turns_until_stopped(broker: Mosquitto, tmp_path: Path) -> None:
    reg, tds = _registry(tmp_path / "store", 2)
    fleet = _fleet(broker, reg, tds, tmp_path / "dev")
    fleet.start()
    try:
        turns: list[dict[str, Any]] = []
        done = reg.loop_watch(broker=broker.url, seconds=1.5, turns=2, on_turn=turns.append)
        assert done == 2 and [t["turn"] for t in turns] == [1, 2]
        for t in turns:
            assert t["telemetry"]["accepted"] > 0 and t["telemetry"]["dropped"] == 0, t
            assert t["retrain"] is None and t["rollout"] is None and not t["stopped"]
        kept = reg.telemetry_show()
        assert {r.device for r in kept} == {td["id"] for td in tds}
        # a stop during a turn's collection ends it at once, with what arrived written
        stop = threading.Event()
        threading.Timer(1.0, stop.set).start()
        began = time.monotonic()
        turns.clear()
        done = reg.loop_watch(broker=broker.url, seconds=60, stop=stop, on_turn=turns.append)
        assert time.monotonic() - began < 20
        assert done == 1 and turns[0]["stopped"] and turns[0]["telemetry"]["accepted"] > 0
    finally:
        fleet.stop()
        reg.close()


def test_a_failing_turn_is_reported_and_the_watch_goes_on(tmp_path: Path) -> None:
    from _processes import free_port

    with Registry.open(tmp_path / "store") as reg:
        turns: list[dict[str, Any]] = []
        done = reg.loop_watch(
            broker=f"mqtt://127.0.0.1:{free_port()}", seconds=0.5, turns=2, on_turn=turns.append
        )
    assert done == 2
    assert all(t["kind"] == "BrokerError" and t["error"] for t in turns), turns


def test_ctrl_c_stops_the_cli_watch_cleanly(broker: Mosquitto, tmp_path: Path) -> None:
    store = tmp_path / "store"
    reg, tds = _registry(store, 2)
    fleet = _fleet(broker, reg, tds, tmp_path / "dev")
    reg.close()  # the CLI opens the store itself
    fleet.start()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "tinyreg.registry.cli", "--store", str(store), "loop", "run"]
    proc = subprocess.Popen(
        [*command, "--watch", "--broker", broker.url, "--seconds", "2", "--window", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())  # a whole turn, then Ctrl-C in the next
        assert first["turn"] == 1 and first["telemetry"]["accepted"] > 0, first
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        fleet.stop()
    assert proc.returncode == 0, err
    last = json.loads(out.strip().splitlines()[-1])
    assert last["turn"] == 2 and last["stopped"] is True, last
    assert "watched 2 turn(s)" in err and "Traceback" not in err, err
    with Registry.open(store) as reg:  # what the cut turn collected was written
        assert len(reg.telemetry_show(tds[0]["id"], limit=100)) > 0


def test_deploy_by_family_and_a_rollout_planned_then_resumed(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """``deploy`` of a family takes its latest gated version and announces its number; a
    rollout planned without running is run by ``rollout_resume``, wave by wave, watched on
    the devices' live telemetry."""
    from tinyreg.registry.loop import RolloutPlan, _add_gate
    from tinyreg.registry.versions import GateResult, version_info, write_version_record

    reg, tds = _registry(tmp_path / "store", 4)
    devices = [td["id"] for td in tds]
    fleet = _fleet(broker, reg, tds, tmp_path / "dev")
    fleet.start()
    try:
        first = reg.deploy(MODEL, devices, broker=broker.url, timeout=20.0)
        assert [(r.model, r.model_version, r.outcome) for r in first] == [
            (MODEL, "1", "committed")
        ] * 4
        v2 = f"{MODEL}-v2"
        reg.add_model(reg.model_bytes(MODEL).data, None, ident=v2, filename="v2.tflite")
        info = version_info(reg, MODEL)
        assert info is not None and info.reference is not None
        write_version_record(reg, v2, family=MODEL, number=2, reference=info.reference)
        # the family names its latest *gated* version: v2 without a gate is not it
        again = reg.deploy(MODEL, devices[:1], broker=broker.url, timeout=20.0)
        assert (again[0].model, again[0].model_version) == (MODEL, "1")
        _add_gate(reg, v2, GateResult(v2, MODEL, True, [], devices, 0.9, 0.0, 0.9, 0.1, 9, 9))
        planned = reg.rollout_start(
            MODEL,
            devices,
            broker=broker.url,
            plan=RolloutPlan(canary_share=0.25, waves=1, watch_windows=3),
            window_s=0.2,
            run=False,
            timeout=20.0,
        )
        assert planned["model"] == v2 and planned["version"] == "2"
        assert planned["status"] == "planned" and planned["waves"] == [devices[:1], devices[1:]]
        state = reg.rollout_resume(planned["id"], broker=broker.url, window_s=0.2, timeout=20.0)
        assert state["status"] == "done", state["events"]
        watched = [e for e in state["events"] if e["event"] == "watched"]
        assert len(watched) == 2 and all(e["windows"] > 0 and e["errors"] == 0 for e in watched)
        assert all(fleet.devices[d].status.model == v2 for d in devices)
        assert reg.rollout_status(planned["id"])[0]["status"] == "done"
        recorded = [r for r in reg.deployments() if r.model == v2]
        assert sorted(r.device for r in recorded) == sorted(devices)
        assert {r.model_version for r in recorded} == {"2"}
    finally:
        fleet.stop()
        reg.close()


def test_one_unattended_turn_through_the_service(broker: Mosquitto, tmp_path: Path) -> None:
    """``loop_run`` alone: collects the drifting fleet's telemetry, finds the drift, retrains
    (TensorFlow), registers and gates version 2 and rolls it out to every device."""
    from test_loop import _require_tensorflow

    from tinyreg.firmware.vibration import DRIFTED, Scenario

    _require_tensorflow()
    reg, tds = _registry(tmp_path / "store", 4)
    devices = [td["id"] for td in tds]
    scenarios = {d: Scenario(after=DRIFTED, onset=45, ramp=3) for d in devices}
    fleet = Fleet(
        broker.url,
        [device_limits(td) for td in tds],
        tmp_path / "dev",
        public_key_bytes(reg.signing_key()),
        sense=SensingOptions(period_s=0.2, seed=1, scenarios=scenarios, raw_every=2),
        workers=0,
    )
    fleet.start()
    try:
        reg.deploy(MODEL, devices, broker=broker.url, timeout=20.0)
        turn = reg.loop_run(broker=broker.url, seconds=18, epochs=3, window_s=0.2)
        assert turn["telemetry"]["dropped"] == 0 and not turn["telemetry"]["silent"]
        assert sorted(d["device"] for d in turn["drift"]) == sorted(devices)
        assert {d["kind"] for d in turn["drift"]} == {"operating-conditions"}, turn["drift"]
        retrained = turn["retrain"]
        assert retrained["candidate"] == f"{MODEL}-v2" and retrained["gate"]["passed"], retrained
        assert turn["rollout"]["status"] == "done", turn["rollout"]["events"]
        assert all(fleet.devices[d].status.model == f"{MODEL}-v2" for d in devices)
        [v2] = [m for m in reg.list_models() if m.id == f"{MODEL}-v2"]
        assert (v2.family, v2.version) == (MODEL, 2)
    finally:
        fleet.stop()
        reg.close()
