"""The loop end to end on a real mosquitto: sensing devices, telemetry, drift, retraining,
versions with lineage, the gate and a staged rollout that halts itself."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _mosquitto import Mosquitto

from _paths import KG_DATA
from tinyreg.core.protocol import generate_key, public_key_bytes
from tinyreg.firmware.fleet import Fleet
from tinyreg.firmware.sensing import SensingOptions, telemetry_topic
from tinyreg.firmware.vibration import (
    Conditions,
    MachineSource,
    Scenario,
    features,
    statistics,
)
from tinyreg.kg_data.train_models import vibration_features
from tinyreg.registry import Registry
from tinyreg.registry.limits import device_limits
from tinyreg.registry.telemetry import Ingest, TelemetryStore, parse_message

MODEL = "vibration-ae-int8"
NANO_TD = KG_DATA / "devices" / "arduino-nano-33-ble-sense.td.jsonld"
DRIFTED = Conditions(speed_hz=25.0, load=0.9, resonance_hz=480.0, noise_g=0.015)


def _require_tensorflow() -> None:
    """Skip without TensorFlow (the ``[train]`` extra), except under CI, where it must be."""
    from tinyreg.registry.retrain import tensorflow_available

    if tensorflow_available():
        return
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail("TensorFlow is missing under CI: install the [train] extra (scripts/test.sh)")
    pytest.skip("retraining needs TensorFlow (the [train] extra)")


def _td(ident: str) -> dict[str, Any]:
    td = json.loads(NANO_TD.read_text())
    td["id"] = f"urn:tinyreg:device:{ident}"
    td["title"] = f"Machine sensor {ident}"
    return td


def test_features_match_the_training_script() -> None:
    window = MachineSource(3).window(5)
    assert np.allclose(features(window.signal), vibration_features(window.signal[None])[0])


def test_windows_are_reproducible_and_carry_ground_truth() -> None:
    scenario = Scenario(after=DRIFTED, onset=10, ramp=5, fault="bearing-outer", fault_onset=30)
    a, b = MachineSource(7, scenario), MachineSource(7, scenario)
    assert np.array_equal(a.window(12).signal, b.window(12).signal)
    assert not a.window(9).drifted and a.window(10).drifted
    assert a.window(31).truth.fault == "bearing-outer"


def test_bearing_fault_raises_envelope_energy_at_defect_frequencies() -> None:
    healthy = [statistics(MachineSource(s).window(0).signal) for s in range(5)]
    drifted = [
        statistics(MachineSource(s, Scenario(after=DRIFTED)).window(0).signal) for s in range(5)
    ]
    faulty = [
        statistics(MachineSource(s, Scenario(fault="bearing-inner", severity=0.5)).window(0).signal)
        for s in range(5)
    ]
    top = max(s["envelope_defect"] for s in healthy + drifted)
    assert min(s["envelope_defect"] for s in faulty) > 2 * top


def _window(device: str) -> dict[str, Any]:
    """One well-formed telemetry message of ``device`` (window 0, version 1 of MODEL)."""
    return {
        "v": 1,
        "device": device,
        "seq": 1,
        "window": 0,
        "ts": time.time(),
        "model": MODEL,
        "version": "1",
        "score": 0.1,
        "verdict": None,
        "inference_ms": 0.2,
        "error": None,
        "stats": {"rms": 0.1},
        "input": [0.0] * 64,
    }


def test_malformed_telemetry_is_counted_and_dropped(tmp_path: Path) -> None:
    reg = Registry.open(in_memory=True)
    ingest = Ingest(reg.store, TelemetryStore(tmp_path / "t"), bucket_s=1.0)
    topic = telemetry_topic("urn:tinyreg:device:m1")
    for bad in (b"", b"{", b"[]", b'{"v": 1}', json.dumps({"v": 1, "device": "x"}).encode()):
        ingest.feed(topic, bad)
    good = _window("urn:tinyreg:device:m1")
    ingest.feed(topic, json.dumps({**good, "score": "NaN"}).encode())
    ingest.feed(topic, json.dumps({**good, "input": [1.0] * 3}).encode())
    ingest.feed(topic, json.dumps(good).encode())
    assert ingest.flush(close_all=True) == 1
    assert ingest.counters.dropped.total() == 7
    assert ingest.counters.accepted == 1
    assert len(ingest.telemetry.recent("urn:tinyreg:device:m1")) == 1
    with pytest.raises(Exception, match="device differs"):
        parse_message(json.dumps(good).encode(), "urn:tinyreg:device:other")


def test_hostile_telemetry_fields_are_dropped_before_they_reach_the_graph(tmp_path: Path) -> None:
    """Ids that would break an IRI, non-numbers that JSON allows, bad raw windows: dropped
    with a reason; the good windows of the same bucket still become an aggregate."""
    reg = Registry.open(in_memory=True)
    ingest = Ingest(reg.store, TelemetryStore(tmp_path / "t"), bucket_s=1.0)
    device = "urn:tinyreg:device:m1"
    good = _window(device)
    hostile = [
        ({"device": "urn:x> <urn:y"}, "device is not an IRI"),
        ({"model": "m> . <urn:evil> <urn:p> <urn:o"}, "model must be null or an id"),
        ({"version": "1 } ; DROP ALL"}, "version must be null or an id"),
        ({"input": [True] * 64}, "input must be 64 finite numbers"),
        ({"input": [1e308] * 64}, "input must be 64 finite numbers"),
        ({"window": True}, "seq and window must be integers"),
        ({"raw": {"int16": "not base64!", "scale_g": 0.1}}, "raw int16 is not base64"),
        ({"raw": {"int16": "AAA=", "scale_g": float("inf")}}, "raw must carry"),
    ]
    for change, _ in hostile:
        body = {**good, **change}
        ingest.feed(telemetry_topic(body["device"]), json.dumps(body).encode())
    ingest.feed(telemetry_topic(device), json.dumps(good).encode())
    assert ingest.flush(close_all=True) == 1
    reasons = ingest.counters.dropped
    for _, reason in hostile:
        assert any(r.startswith(reason) for r in reasons), (reason, reasons)
    assert reasons.total() == len(hostile)
    [kept] = ingest.telemetry.recent(device)
    assert kept.model == MODEL and kept.input == [0.0] * 64
    rows = reg.query(
        "PREFIX tr: <https://w3id.org/tinyreg#> SELECT ?n WHERE { ?o tr:windowCount ?n }"
    ).rows
    assert [int(r["n"].toPython()) for r in rows] == [1]


def test_loop_end_to_end(broker: Mosquitto, tmp_path: Path) -> None:
    """Drift at a known window is detected, a version retrained with lineage, gated and
    rolled out in waves; a broken candidate halts at the canary and is rolled back."""
    _require_tensorflow()
    from tinyreg.registry.drift import DriftTest
    from tinyreg.registry.loop import (
        RolloutPlan,
        check_drift,
        establish_version,
        gate_candidate,
        new_rollout,
        retrain_family,
        run_rollout,
    )
    from tinyreg.registry.versions import resolve_version, version_info

    period, onset = 0.2, 45
    reg = Registry.open(tmp_path / "store")
    reg.add_model(KG_DATA / "models" / f"{MODEL}.tflite")
    tds = [_td(f"m{i}") for i in range(8)]
    devices = [reg.add_device(td).id for td in tds]
    reference = establish_version(reg, MODEL, windows=200)
    key = generate_key()
    telemetry = reg.telemetry()  # where the report reads it
    ingest = Ingest(
        reg.store, telemetry, bucket_s=2.0, thresholds={(MODEL, "1"): reference["threshold"]}
    )
    ingest.start(broker.url, period_s=0.2)
    scenarios = {d: Scenario(after=DRIFTED, onset=onset, ramp=3) for d in devices}
    sense = SensingOptions(period_s=period, seed=1, scenarios=scenarios, raw_every=2)
    fleet = Fleet(
        broker.url,
        [device_limits(td) for td in tds],
        tmp_path / "dev",
        public_key_bytes(key),
        sense=sense,
        workers=1,
    )
    fleet.start()

    def deploy(model: str, targets: list[str], version: str) -> list[Any]:
        from tinyreg.registry.deployer import Deployer

        with Deployer(reg, broker.url, key=key, agent="loop", timeout=10.0) as dep:
            return dep.deploy(model, targets, image=reg.model_bytes(model).data, version=version)

    def rollback(targets: list[str]) -> list[Any]:
        from tinyreg.registry.deployer import Deployer

        with Deployer(reg, broker.url, key=key, agent="loop", timeout=10.0) as dep:
            return dep.rollback(targets)

    try:
        assert all(r.outcome == "committed" for r in deploy(MODEL, devices, "1"))
        test = DriftTest()  # per-device baseline of 20 windows, then 10-window tests
        detected_at = None
        deadline = time.time() + 60
        while time.time() < deadline and detected_at is None:
            time.sleep(period * 2)
            ingest.flush()
            results = check_drift(reg, telemetry, test=test)
            if (
                results
                and all(r.kind == "operating-conditions" for r in results)
                and len(results) == 8
            ):
                detected_at = max(r.last_window or 0 for r in results)
            else:
                assert not any(
                    r.kind != "none" and (r.last_window or 0) < onset for r in results
                ), [r.reason for r in results if r.kind != "none"][:2]
        assert detected_at is not None and detected_at >= onset
        time.sleep(period * 30)  # windows of the new conditions to train on
        ingest.flush()
        drifted = check_drift(reg, telemetry, test=test)
        candidate = retrain_family(
            reg, telemetry, drifted, tmp_path / "snap", epochs=3, original_windows=200
        )
        assert candidate.model == f"{MODEL}-v2"
        rows = reg.query(
            "PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX tr: <https://w3id.org/tinyreg#> "
            "SELECT ?prev ?snap WHERE { <https://w3id.org/tinyreg/model/" + candidate.model + "> "
            "prov:wasDerivedFrom ?prev ; prov:wasGeneratedBy ?a . ?a prov:used ?snap . "
            "?snap a tr:DataSnapshot }"
        ).rows
        assert rows and str(rows[0]["prev"]).endswith(MODEL)
        gate = gate_candidate(reg, candidate.model, MODEL, candidate.heldout, devices)
        assert gate.passed, gate
        assert resolve_version(reg, MODEL) == candidate.model
        info = version_info(reg, candidate.model)
        assert info is not None and info.threshold is not None
        rollouts = reg.loop_folder() / "rollouts"
        state = new_rollout(
            rollouts,
            candidate.model,
            "2",
            devices,
            RolloutPlan(watch_windows=4),
            gate.false_alarm_rate,
            None,
        )
        state = run_rollout(
            rollouts,
            state["id"],
            deploy=deploy,
            rollback=rollback,
            telemetry=telemetry.recent,
            threshold=info.threshold,
            window_s=period,
        )
        assert state["status"] == "done", state["events"]
        assert len(state["waves"]) == 3 and len(state["waves"][0]) == 2
        assert all(fleet.devices[d].status.model == candidate.model for d in devices)
        # a broken candidate: same network, a threshold far too low (alarms on everything)
        broken = f"{MODEL}-v3"
        reg.add_model(
            reg.model_bytes(candidate.model).data, None, ident=broken, filename="b.tflite"
        )
        from tinyreg.registry.versions import write_version_record

        write_version_record(
            reg,
            broken,
            family=MODEL,
            number=3,
            reference={**info.reference, "threshold": info.threshold / 100},
            previous=candidate.model,
        )
        state = new_rollout(
            rollouts,
            broken,
            "3",
            devices,
            RolloutPlan(watch_windows=4),
            gate.false_alarm_rate,
            None,
        )
        state = run_rollout(
            rollouts,
            state["id"],
            deploy=deploy,
            rollback=rollback,
            telemetry=telemetry.recent,
            threshold=info.threshold / 100,
            window_s=period,
        )
        assert state["status"] == "halted"
        canary = state["waves"][0]
        assert all(fleet.devices[d].status.model == candidate.model for d in devices), [
            fleet.devices[d].status.model for d in devices
        ]
        outside = [d for d in devices if d not in canary]
        ran = {r.device for d in outside for r in telemetry.recent(d) if r.model == broken}
        assert ran == set()
        assert [e["event"] for e in state["events"]][-2:] == ["halted", "rolled back"]
    finally:
        fleet.stop()
        ingest.stop()
    assert ingest.counters.dropped.total() == 0
    rows = reg.query(
        "PREFIX tr: <https://w3id.org/tinyreg#> "
        "SELECT (COUNT(?o) AS ?n) WHERE { ?o a tr:TelemetryAggregate }"
    ).rows
    assert 0 < int(rows[0]["n"].toPython()) < ingest.counters.accepted
    _check_loop_report(reg, tmp_path / "report", devices, candidate.model, broken)
    reg.close()


def _check_loop_report(
    reg: Registry, out: Path, devices: list[str], candidate: str, broken: str
) -> None:
    """The report's loop section shows this run: every device's windows, the plot, the
    gate's before/after figures and each device's latencies of the new version."""
    files = reg.report(out)
    assert "loop_scores" in {p.stem for p in files.plots}
    f = files.figures
    assert f[f"loop|gate|{candidate}|passed"] is True
    before, after = (
        f[f"loop|gate|{candidate}|baseline_false_alarm_rate"],
        f[f"loop|gate|{candidate}|false_alarm_rate"],
    )
    assert 0 <= after < before <= 1, (before, after)
    assert f[f"loop|devices|{MODEL}|windows"] > 0
    for d in devices:
        key = f"loop|device|{d}|{candidate}|"
        assert f[key + "windows"] > 0
        assert f[key + "deploy_ms"] > 0 and f[key + "load_ms"] > 0
        assert 0 < f[key + "inference_ms_median"] < 100
    page = files.html.read_text()
    assert "The loop (Tiny-MLOps)" in page and "False alarm rate before and after" in page
    assert "The loop (Tiny-MLOps)" in files.markdown.read_text()


def test_the_window_store_is_bounded_and_gives_back_what_it_kept(tmp_path: Path) -> None:
    import sqlite3

    from tinyreg.registry.telemetry import TelemetryRecord

    store = TelemetryStore(tmp_path / "t", keep=5)
    device = "urn:tinyreg:device:m1"

    def record(k: int) -> TelemetryRecord:
        raw = {"int16": "AAABAA==", "scale_g": 0.5} if k % 2 else None
        return TelemetryRecord(
            device=device,
            seq=k + 1,
            window=k,
            ts=1000.0 + k,
            received=2000.0 + k,
            model=MODEL,
            version="1",
            score=0.01 * k,
            verdict=None,
            inference_ms=0.2,
            error=None,
            stats={"rms": 0.1 * k},
            input=[float(k)] * 64,
            truth={"drifted": k > 3},
            raw=raw["int16"] if raw else None,
            raw_scale=raw["scale_g"] if raw else None,
        )

    written = [record(k) for k in range(12)]
    for start in range(0, 12, 3):
        store.append(written[start : start + 3])
    store.append([record(12)], [json.dumps({**good_message(device), "window": 12}).encode()])
    kept = store.recent(device)
    assert [r.window for r in kept] == [8, 9, 10, 11, 12]
    assert kept[:4] == written[8:12]  # every field back as it went in
    assert kept[3].signal().tolist() == [0.0, 0.5] and kept[2].signal() is None
    assert store.recent(device, limit=2) == kept[-2:]
    assert store.devices() == [device]
    store.close()
    with sqlite3.connect(tmp_path / "t" / "windows.sqlite3") as db:
        (rows,) = db.execute("SELECT COUNT(*) FROM windows").fetchone()
    # trimmed to the latest 5 each time 5 new windows came: 3, 6 -> 5, 8, 11 -> 5, 6
    assert rows == 6


def good_message(device: str) -> dict[str, Any]:
    return {
        "v": 1,
        "device": device,
        "seq": 13,
        "window": 12,
        "ts": 1012.0,
        "model": MODEL,
        "version": "1",
        "score": 0.12,
        "verdict": None,
        "inference_ms": 0.2,
        "error": None,
        "stats": {"rms": 1.2},
        "input": [12.0] * 64,
    }
