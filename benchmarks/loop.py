"""The closed loop at fleet scale: telemetry ingest, drift, retraining, staged rollout.

Usage::

    .venv/bin/python benchmarks/loop.py                  # 100 devices, ~10 minutes
    .venv/bin/python benchmarks/loop.py --devices 8 --steps 200 --step-seconds 20  # quick

What runs: a real mosquitto on 127.0.0.1 (free port); publishers and the fleet each in a
process of their own (this script run as a child), the registry's ingest, drift check,
retraining, gate and rollout in this process with an embedded store.

1. **Broker baseline**: a publisher process sends telemetry messages (real windows, ~1.3 kB
   each) as fast as it can; a subscriber that only counts them (same MQTT client as the
   ingest) times their arrival: raw mosquitto msg/s on this machine.
2. **Ingest burst**: the same burst into the registry's :class:`Ingest` (validation, the
   bounded window store, aggregates in the graph): messages/s from the first arrival to
   the last one written.
3. **Sustained 1 Hz**: for each fleet size of ``--steps`` (until one fails), a publisher
   process sends one message per device per second, spread over the second, for
   ``--step-seconds`` seconds. The step holds when the ingest's p99 lag (device time stamp
   to window written) is under 2 s, the backlog (messages due by the publisher's schedule
   but not yet written, sampled every second) does not grow (mean of the last quarter at
   most half a second of messages above the mean of the second quarter), nothing is
   dropped (every published message written, after a 10 s drain) and the publisher kept
   its schedule (at most 0.5 s late). ``sustained_1hz_devices`` is the largest holding size.
4. **The loop**: ``--devices`` sensing virtual devices (one window per ``--period``
   seconds, drift of operating conditions at window ``--onset``) run version 1; the
   registry checks drift after every window; once every device is flagged it waits for
   ``--train-windows`` more windows, retrains (TensorFlow, ``--epochs``), registers and
   gates version 2, and rolls it out (canary 25 %, 2 waves, watched 4 windows each).
   Then a broken version 3 (same network, threshold 100x too low: alarms on everything)
   is rolled out and must halt within the canary and roll it back.

The last line of stdout is one JSON object (keys in ``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

MODEL = "vibration-ae-int8"
TEMPLATE = REPO / "kg_data" / "devices" / "arduino-nano-33-ble-sense.td.jsonld"
LAG_LIMIT_S = 2.0
SEED = 1


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (nearest rank), ``None`` without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


# ------------------------------------------------------------------------ publisher child


def _templates(count: int = 32) -> list[str]:
    """Message bodies of real windows (device, seq, window and ts left to fill in)."""
    import numpy as np

    from tinyreg.firmware.sensing import telemetry_message
    from tinyreg.firmware.vibration import MachineSource, features
    from tinyreg.firmware.vibration import statistics as window_statistics

    out = []
    for k in range(count):
        window = MachineSource(1000 + k).window(k)
        x = features(window.signal)
        reply = {
            "model": MODEL,
            "version": "1",
            "sha256": "0" * 64,
            "output": np.asarray(x) * 0.98,
            "inference_ms": 0.21,
        }
        body = telemetry_message(
            "d", 0, 0, reply, x, window_statistics(window.signal), None, window.truth_dict()
        )
        for key in ("v", "device", "seq", "window", "ts"):
            body.pop(key)
        out.append(json.dumps(body)[1:])  # the rest of the object, after its "{"
    return out


def publisher(broker: str, devices: int, rate: float, seconds: float, start_at: float) -> None:
    """Publish telemetry at ``rate`` msg/s (0: as fast as possible) from ``devices`` devices.

    Prints one JSON line: messages published and how late the schedule ran.
    """
    from tinyreg.core.mqtt import Connection
    from tinyreg.firmware.sensing import telemetry_topic

    names = [f"urn:tinyreg:device:bench-{i}" for i in range(devices)]
    topics = [telemetry_topic(n) for n in names]
    bodies = _templates()
    connection = Connection(broker, [], lambda t, p: None, name="bench-publisher", fast=True)
    connection.start(10.0)
    print(json.dumps({"ready": True}), flush=True)
    time.sleep(max(0.0, start_at - time.time()))
    sent, late, t0 = 0, 0.0, time.time()
    total = int(rate * seconds) if rate > 0 else int(seconds)
    for k in range(total):
        if rate > 0:
            due = t0 + k / rate
            ahead = due - time.time()
            if ahead > 0.002:
                time.sleep(ahead)
            else:
                late = max(late, -ahead)
        i = k % devices
        head = (
            f'{{"v": 1, "device": "{names[i]}", "seq": {k // devices + 1}, '
            f'"window": {k // devices}, "ts": {time.time():.6f}, '
        )
        connection.publish(topics[i], (head + bodies[k % len(bodies)]).encode(), 0, False)
        sent += 1
    elapsed = time.time() - t0
    time.sleep(0.5)
    connection.stop()
    print(json.dumps({"sent": sent, "late_s": round(late, 3), "elapsed_s": elapsed}), flush=True)


def _spawn(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, *args],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def _start_publisher(
    broker: str, devices: int, rate: float, amount: float, start_in: float = 1.5
) -> tuple[subprocess.Popen[str], float]:
    start_at = time.time() + start_in + 3.0
    proc = _spawn(
        [
            "--publisher",
            broker,
            "--devices",
            str(devices),
            "--rate",
            str(rate),
            "--seconds",
            str(amount),
            "--start-at",
            str(start_at),
        ]
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line or not json.loads(line).get("ready"):
        raise RuntimeError("the publisher did not start")
    return proc, start_at


def _publisher_result(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    out, _ = proc.communicate(timeout=600)
    return dict(json.loads(out.strip().splitlines()[-1]))


# ------------------------------------------------------------------------ fleet child


def fleet_child(config: Path) -> None:
    """Run a sensing fleet (``--fleet CONFIG``) until stdin closes."""
    from tinyreg.firmware.fleet import Fleet
    from tinyreg.firmware.sensing import SensingOptions
    from tinyreg.firmware.vibration import Conditions, Scenario
    from tinyreg.registry.limits import device_limits

    spec = json.loads(config.read_text())
    tds = [json.loads(Path(p).read_text()) for p in spec["tds"]]
    drifted = Conditions(**spec["drifted"])
    scenarios = {
        td["id"]: Scenario(after=drifted, onset=spec["onset"], ramp=spec["ramp"]) for td in tds
    }
    sense = SensingOptions(
        period_s=spec["period"], seed=spec["seed"], scenarios=scenarios, raw_every=spec["raw"]
    )
    fleet = Fleet(
        spec["broker"],
        [device_limits(td) for td in tds],
        Path(spec["state"]),
        bytes.fromhex(spec["public_key"]),
        sense=sense,
        workers=1,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.stdin.close())
    fleet.start()
    print(json.dumps({"ready": True}), flush=True)
    with contextlib.suppress(ValueError, OSError):
        sys.stdin.read()
    fleet.stop()


# ------------------------------------------------------------------------ phases 1-3


def broker_baseline(broker: str, messages: int) -> dict[str, Any]:
    """A null subscriber's msg/s for a burst of telemetry messages."""
    from tinyreg.core.mqtt import Connection
    from tinyreg.registry.telemetry import TELEMETRY_FILTER

    count = 0
    first = last = 0.0

    def on_message(topic: str, payload: bytes) -> None:
        nonlocal count, first, last
        last = time.perf_counter()
        if count == 0:
            first = last
        count += 1

    sub = Connection(broker, [(TELEMETRY_FILTER, 0)], on_message, name="null", fast=True)
    sub.start(10.0)
    proc, _ = _start_publisher(broker, 1000, 0, messages)
    pub = _publisher_result(proc)
    deadline = time.time() + 30
    while count < pub["sent"] and time.time() < deadline:
        time.sleep(0.1)
    sub.stop()
    rate = (count - 1) / (last - first) if count > 1 and last > first else 0.0
    return {
        "sent": pub["sent"],
        "received": count,
        "publisher_msgs_per_s": round(pub["sent"] / pub["elapsed_s"]),
        "msgs_per_s": round(rate),
    }


def _ingest(root: Path, name: str) -> tuple[Any, Any]:
    from tinyreg.registry import Registry
    from tinyreg.registry.telemetry import Ingest, TelemetryStore

    reg = Registry.open(root / f"{name}-store")
    return reg, Ingest(reg.store, TelemetryStore(root / f"{name}-telemetry"), bucket_s=10.0)


def ingest_burst(broker: str, root: Path, messages: int) -> dict[str, Any]:
    """The ingest's msg/s for the same burst: first arrival to last window written."""
    reg, ingest = _ingest(root, "burst")
    ingest.start(broker, period_s=0.2)
    first: float | None = None
    proc, _ = _start_publisher(broker, 1000, 0, messages)
    pub = _publisher_result(proc)
    deadline = time.time() + 120
    while ingest.counters.accepted < pub["sent"] and time.time() < deadline:
        if first is None and ingest.counters.received:
            first = time.perf_counter()
        time.sleep(0.02)
    done = time.perf_counter()
    ingest.stop()  # closes every bucket and waits until the writer wrote them all
    drained = time.perf_counter()
    reg.close()
    c = ingest.counters
    span, whole = done - (first or done), drained - (first or drained)
    return {
        "sent": pub["sent"],
        "accepted": c.accepted,
        "dropped": pub["sent"] - c.accepted,
        "aggregates": c.aggregates_written,
        "msgs_per_s": round(c.accepted / span) if span > 0 else None,
        "with_aggregates_msgs_per_s": round(c.accepted / whole) if whole > 0 else None,
    }


def sustained_step(broker: str, root: Path, devices: int, seconds: float) -> dict[str, Any]:
    """One fleet size at 1 msg/s per device through mosquitto into the ingest."""
    reg, ingest = _ingest(root, f"sustained-{devices}")
    ingest.start(broker)  # the ingest's own flush period
    proc, start_at = _start_publisher(broker, devices, float(devices), seconds)
    samples: list[tuple[float, int]] = []  # (seconds since start, backlog)
    time.sleep(max(0.0, start_at - time.time()))
    while proc.poll() is None:
        time.sleep(1.0)
        t = time.time() - start_at
        due = min(devices * seconds, devices * t)
        samples.append((t, int(due - ingest.counters.accepted)))
    pub = _publisher_result(proc)
    deadline = time.time() + 10
    while ingest.counters.accepted < pub["sent"] and time.time() < deadline:
        time.sleep(0.2)
    ingest.stop()
    reg.close()
    c = ingest.counters
    lags = c.lags_s
    inside = [b for t, b in samples if t <= seconds]
    q = max(1, len(inside) // 4)
    second, last = inside[q : 2 * q], inside[-q:]
    growth = (statistics.mean(last) - statistics.mean(second)) if second and last else 0.0
    result = {
        "devices": devices,
        "seconds": seconds,
        "sent": pub["sent"],
        "accepted": c.accepted,
        "dropped": pub["sent"] - c.accepted,
        "malformed": sum(c.dropped.values()),
        "lag_p50_s": _r(percentile(lags, 0.5)),
        "lag_p99_s": _r(percentile(lags, 0.99)),
        "backlog_max": max((b for b in inside), default=0),
        "backlog_growth": round(growth, 1),
        "publisher_late_s": pub["late_s"],
        "aggregates": c.aggregates_written,
    }
    p99 = result["lag_p99_s"]
    result["holds"] = bool(
        p99 is not None
        and p99 < LAG_LIMIT_S
        and growth <= devices * 0.5
        and result["dropped"] == 0
        and result["malformed"] == 0
        and pub["late_s"] <= 0.5
    )
    return result


# ------------------------------------------------------------------------ phase 4: the loop


def _td(i: int) -> dict[str, Any]:
    td = json.loads(TEMPLATE.read_text())
    td["id"] = f"urn:tinyreg:device:machine-{i}"
    td["title"] = f"Machine sensor {i}"
    return td


def run_loop(broker: str, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The loop with ``args.devices`` sensing devices; returns its figures."""
    import numpy as np

    from tinyreg.core.protocol import generate_key, public_key_bytes
    from tinyreg.firmware.vibration import Conditions, MachineSource, Scenario, features
    from tinyreg.registry import Registry
    from tinyreg.registry.deployer import Deployer
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
    from tinyreg.registry.telemetry import Ingest, TelemetryStore
    from tinyreg.registry.versions import host_scores, version_info, write_version_record

    drifted = {"speed_hz": 25.0, "load": 0.9, "resonance_hz": 480.0, "noise_g": 0.015}
    period, onset, ramp = args.period, args.onset, 3
    figures: dict[str, Any] = {}
    reg = Registry.open(root / "loop-store")
    reg.add_model(REPO / "kg_data" / "models" / f"{MODEL}.tflite")
    tds = [_td(i) for i in range(args.devices)]
    td_paths = []
    for i, td in enumerate(tds):
        path = root / f"td-{i}.json"
        path.write_text(json.dumps(td))
        td_paths.append(str(path))
        reg.add_device(td)
    devices = [td["id"] for td in tds]
    reference = establish_version(reg, MODEL, windows=200)
    key = generate_key()
    telemetry = TelemetryStore(root / "loop-telemetry")
    ingest = Ingest(
        reg.store, telemetry, bucket_s=10.0, thresholds={(MODEL, "1"): reference["threshold"]}
    )
    ingest.start(broker, period_s=0.5)
    config = root / "fleet.json"
    config.write_text(
        json.dumps(
            {
                "broker": broker,
                "tds": td_paths,
                "drifted": drifted,
                "onset": onset,
                "ramp": ramp,
                "period": period,
                "seed": SEED,
                "raw": 2,
                "state": str(root / "fleet"),
                "public_key": public_key_bytes(key).hex(),
            }
        )
    )
    fleet = _spawn(["--fleet", str(config)])
    assert fleet.stdout is not None
    if not fleet.stdout.readline():
        raise RuntimeError("the fleet did not start")

    def deploy(model: str, targets: list[str], version: str) -> list[Any]:
        with Deployer(reg, broker, key=key, agent="bench", timeout=30.0, parallel=8) as dep:
            return dep.deploy(model, targets, image=reg.model_bytes(model).data, version=version)

    def rollback(targets: list[str]) -> list[Any]:
        with Deployer(reg, broker, key=key, agent="bench", timeout=30.0, parallel=8) as dep:
            return dep.rollback(targets)

    def windows_of(device: str) -> list[Any]:
        return telemetry.recent(device)

    try:
        t0 = time.perf_counter()
        first = deploy(MODEL, devices, "1")
        print(f"   version 1 to {len(devices)} devices: {time.perf_counter() - t0:.1f} s")
        assert all(r.outcome == "committed" for r in first), [r.outcome for r in first]

        # detection: a drift check after every window, until every device is flagged
        test = DriftTest()
        detected: dict[str, int] = {}
        false_alarms: set[str] = set()
        checks, check_s = 0, 0.0
        deadline = time.time() + period * (onset + 60) + 60
        t_detect = None
        while time.time() < deadline and len(detected) < len(devices):
            time.sleep(period)
            ingest.flush()
            c0 = time.perf_counter()
            results = check_drift(reg, telemetry, test=test)
            check_s += time.perf_counter() - c0
            checks += 1
            for r in results:
                if r.kind == "none":
                    continue
                if (r.last_window or 0) < onset:
                    false_alarms.add(r.device)
                elif r.kind == "operating-conditions" and r.device not in detected:
                    detected[r.device] = r.last_window or 0
        t_detect = time.time()
        delays = [w - onset for w in detected.values()]
        figures.update(
            {
                "onset_window": onset,
                "detected_devices": len(detected),
                "detection_delay_windows": _r(percentile(delays, 0.5), 1),
                "detection_delay_max_windows": max(delays) if delays else None,
                "false_drift_alarms_before_onset": len(false_alarms),
                "drift_check_ms": _r(1000 * check_s / max(1, checks), 1),
            }
        )
        print(
            f"   drift detected on {len(detected)}/{len(devices)} devices, "
            f"{figures['detection_delay_windows']} windows after onset (median)"
        )
        if len(detected) < len(devices):
            raise RuntimeError("drift was not detected on every device")

        # retraining on the drifted devices' recent windows
        time.sleep(period * args.train_windows)
        ingest.flush()
        results = check_drift(reg, telemetry, test=test)
        t1 = time.perf_counter()
        candidate = retrain_family(
            reg,
            telemetry,
            results,
            root / "snapshots",
            epochs=args.epochs,
            original_windows=200,
        )
        retrain_s = time.perf_counter() - t1
        t1 = time.perf_counter()
        gate = gate_candidate(reg, candidate.model, MODEL, candidate.heldout, devices)
        gate_s = time.perf_counter() - t1
        print(f"   retrained {candidate.model} in {retrain_s:.1f} s; gate {gate.passed}")
        if not gate.passed:
            raise RuntimeError(f"the gate refused the candidate: {gate.reasons}")
        info = version_info(reg, candidate.model)
        assert info is not None and info.threshold is not None
        rollouts = root / "rollouts"
        plan = RolloutPlan(watch_windows=4)
        state = new_rollout(
            rollouts, candidate.model, "2", devices, plan, gate.false_alarm_rate, None
        )
        records: list[Any] = []

        def recording(model: str, targets: list[str], version: str) -> list[Any]:
            out = deploy(model, targets, version)
            records.extend(out)
            return out

        state = run_rollout(
            rollouts,
            state["id"],
            deploy=recording,
            rollback=rollback,
            telemetry=windows_of,
            threshold=info.threshold,
            window_s=period,
        )
        t_fleet = time.time()
        committed = sum(1 for r in records if r.outcome == "committed")
        print(f"   rollout {state['status']}: {committed} devices committed")
        if state["status"] != "done":
            raise RuntimeError(f"the rollout did not finish: {state['events'][-2:]}")

        # false alarm rate on the same drifted normal windows, not seen in training
        rows = []
        for i in range(len(devices)):
            source = MachineSource(SEED + i, Scenario(after=Conditions(**drifted), onset=onset))
            rows += [source.window(onset + 500 + k).signal for k in range(args.far_windows)]
        x = features(np.stack(rows))
        old = version_info(reg, MODEL)
        assert old is not None and old.threshold is not None
        before = float(np.mean(host_scores(reg.model_bytes(MODEL).data, x) > old.threshold))
        after = float(
            np.mean(host_scores(reg.model_bytes(candidate.model).data, x) > info.threshold)
        )

        # what the devices measured: deployment, load and inference
        per_device_inference = [
            statistics.median(v)
            for d in devices
            if (
                v := [
                    r.inference_ms
                    for r in telemetry.recent(d)
                    if r.model == candidate.model and r.inference_ms is not None
                ]
            )
        ]
        figures.update(
            {
                "train_windows": args.train_windows,
                "epochs": args.epochs,
                "retrain_s": round(retrain_s, 1),
                "gate_s": round(gate_s, 1),
                "gate_roc_auc": gate.roc_auc,
                "gate_baseline_roc_auc": gate.baseline_roc_auc,
                "detection_to_fleet_s": round(t_fleet - t_detect, 1),
                "fleet_committed": committed,
                "canary_devices": len(state["waves"][0]),
                "waves": [len(w) for w in state["waves"]],
                "far_windows": len(rows),
                "false_alarm_rate_before": round(before, 4),
                "false_alarm_rate_after": round(after, 4),
                "deploy_p50_ms": _r(
                    percentile([r.deploy_ms for r in records if r.deploy_ms], 0.5), 1
                ),
                "deploy_p95_ms": _r(
                    percentile([r.deploy_ms for r in records if r.deploy_ms], 0.95), 1
                ),
                "load_p50_ms": _r(percentile([r.load_ms for r in records if r.load_ms], 0.5), 2),
                "load_p95_ms": _r(percentile([r.load_ms for r in records if r.load_ms], 0.95), 2),
                "inference_p50_ms": _r(percentile(per_device_inference, 0.5), 4),
                "inference_p95_ms": _r(percentile(per_device_inference, 0.95), 4),
            }
        )

        # a broken candidate: passes no real gate, misbehaves on devices
        broken = f"{MODEL}-v3"
        reg.add_model(
            reg.model_bytes(candidate.model).data, None, ident=broken, filename="broken.tflite"
        )
        write_version_record(
            reg,
            broken,
            family=MODEL,
            number=3,
            reference={**(info.reference or {}), "threshold": info.threshold / 100},
            previous=candidate.model,
        )
        bad = new_rollout(rollouts, broken, "3", devices, plan, gate.false_alarm_rate, None)
        bad = run_rollout(
            rollouts,
            bad["id"],
            deploy=deploy,
            rollback=rollback,
            telemetry=windows_of,
            threshold=info.threshold / 100,
            window_s=period,
        )
        time.sleep(period * 3)
        ingest.flush()
        canary = set(bad["waves"][0])
        ran = {
            d for d in devices if d not in canary for r in telemetry.recent(d) if r.model == broken
        }
        back = {
            d
            for d in canary
            if (rows_ := telemetry.recent(d, limit=1)) and rows_[-1].model == candidate.model
        }
        figures.update(
            {
                "broken_candidate_halted": bad["status"] == "halted",
                "broken_candidate_halt_reasons": next(
                    (e["reasons"] for e in bad["events"] if e["event"] == "halted"), []
                ),
                "broken_candidate_outside_canary": len(ran),
                "canary_back_on_previous": len(back),
            }
        )
    finally:
        if fleet.stdin is not None:
            fleet.stdin.close()
        try:
            fleet.wait(timeout=60)
        except subprocess.TimeoutExpired:
            fleet.kill()
        ingest.stop()
        figures["telemetry_dropped"] = sum(ingest.counters.dropped.values())
        figures["telemetry_accepted"] = ingest.counters.accepted
        reg.close()
    return figures


# ------------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--period", type=float, default=1.0, help="seconds per window")
    parser.add_argument("--onset", type=int, default=30, help="window the drift starts")
    parser.add_argument("--train-windows", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--far-windows", type=int, default=5, help="per device")
    parser.add_argument("--burst", type=int, default=20000, help="messages of the bursts")
    parser.add_argument("--steps", default="500,1000,1500,2000", help="1 Hz fleet sizes")
    parser.add_argument("--step-seconds", type=float, default=60.0)
    parser.add_argument("--skip-loop", action="store_true")
    parser.add_argument("--publisher", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--fleet", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publisher:
        publisher(args.publisher, args.devices, args.rate, args.seconds, args.start_at)
        return 0
    if args.fleet:
        fleet_child(args.fleet)
        return 0

    from _mosquitto import Mosquitto

    started = time.perf_counter()
    figures: dict[str, Any] = {"devices": args.devices, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="tinyreg-bench-loop-") as tmp:
        root = Path(tmp)
        broker = Mosquitto(root / "broker").start()
        try:
            print(f"== broker baseline: {args.burst} messages, null subscriber")
            base = broker_baseline(broker.url, args.burst)
            print(f"   {base}")
            print(f"== ingest burst: {args.burst} messages")
            burst = ingest_burst(broker.url, root, args.burst)
            print(f"   {burst}")
            figures.update(
                {
                    "broker_null_msgs_per_s": base["msgs_per_s"],
                    "publisher_msgs_per_s": base["publisher_msgs_per_s"],
                    "telemetry_msgs_per_s": burst["with_aggregates_msgs_per_s"],
                    "telemetry_windows_stored_msgs_per_s": burst["msgs_per_s"],
                    "burst_dropped": burst["dropped"],
                }
            )
            steps = []
            sustained = 0
            for n in (int(s) for s in args.steps.split(",")):
                print(f"== sustained: {n} devices at 1 Hz for {args.step_seconds:.0f} s")
                step = sustained_step(broker.url, root, n, args.step_seconds)
                print(f"   {step}  load {os.getloadavg()[0]:.1f}")
                steps.append(step)
                if not step["holds"]:
                    break
                sustained = n
            figures["sustained_1hz_devices"] = sustained
            figures["sustained_steps"] = steps
            if not args.skip_loop:
                print(f"== the loop: {args.devices} devices, one window per {args.period} s")
                figures.update(run_loop(broker.url, root, args))
        finally:
            broker.stop()
    figures["total_s"] = round(time.perf_counter() - started, 1)
    figures["load_average_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
