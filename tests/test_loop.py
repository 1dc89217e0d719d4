"""The loop end to end on a real mosquitto: sensing devices, telemetry, drift, retraining,
versions with lineage, the gate and a staged rollout that halts itself."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
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


def test_malformed_telemetry_is_counted_and_dropped(tmp_path: Path) -> None:
    reg = Registry.open(in_memory=True)
    ingest = Ingest(reg.store, TelemetryStore(tmp_path / "t"), bucket_s=1.0)
    topic = telemetry_topic("urn:tinyreg:device:m1")
    for bad in (b"", b"{", b"[]", b'{"v": 1}', json.dumps({"v": 1, "device": "x"}).encode()):
        ingest.feed(topic, bad)
    good = {
        "v": 1,
        "device": "urn:tinyreg:device:m1",
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
    ingest.feed(topic, json.dumps({**good, "score": "NaN"}).encode())
    ingest.feed(topic, json.dumps({**good, "input": [1.0] * 3}).encode())
    ingest.feed(topic, json.dumps(good).encode())
    assert ingest.flush(close_all=True) == 1
    assert ingest.counters.dropped.total() == 7
    assert ingest.counters.accepted == 1
    assert len(ingest.telemetry.recent("urn:tinyreg:device:m1")) == 1
    with pytest.raises(Exception, match="device differs"):
        parse_message(json.dumps(good).encode(), "urn:tinyreg:device:other")
