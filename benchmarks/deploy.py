"""Over-the-air deployment of a ~500 kB model to a fleet of virtual devices via mosquitto.

Usage::

    .venv/bin/python benchmarks/deploy.py                 # 100 devices, Visual_Alarm_Clock
    .venv/bin/python benchmarks/deploy.py --devices 3     # a quick run

What runs: a real mosquitto on 127.0.0.1 (free port); the fleet in its own process
(``tinyreg device run --replicas N``: N virtual Arduino Nicla Vision boards, each with
its own flash slots and its own TFLite Micro interpreter); the deployer in this process
with an embedded registry where the model and the N devices are registered.

1. **Baseline**: a raw publish of the same bytes: the image cut into the same chunks,
   published at QoS 0 to each device's topic, and received by a plain subscriber in
   another process; the time until it holds every byte of every copy.
2. **Deployment**: ``Deployer.deploy`` of the model to every device (signed manifest,
   chunks with acknowledgements, verify, load, self-test, commit), ``--parallel`` at a
   time. Per device: deployment latency (transfer start to verified image, measured by
   the deployer), load latency and median self-test inference (measured on the device).
3. **Lossy**: the same model as version 2 with ``--loss`` of the chunk transmissions
   dropped at random; then every device's retained status is read from the broker: a
   device is broken unless it runs version 1 or version 2 of the model.
4. **Clients**: the deployment of phase 2 again, ``--client-rounds`` times with the fast
   MQTT client and as often with paho's own client (``TINYREG_MQTT_CLIENT=fast`` /
   ``paho`` for the deployer and a fresh fleet), interleaved: fast, paho, fast, paho, ...

The last line of stdout is one JSON object (keys in benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from _mosquitto import Mosquitto  # noqa: E402
from _proc import cpu_s  # noqa: E402

from tinyreg.core.mqtt import CLIENT_ENV, Connection  # noqa: E402
from tinyreg.core.protocol import DEFAULT_CHUNK_SIZE, QOS_CHUNK, QOS_CONTROL, TOPIC_ROOT  # noqa: E402
from tinyreg.registry import Registry  # noqa: E402
from tinyreg.registry.deployer import Deployer  # noqa: E402

SEED = Path(os.environ.get("TINYREG_SEED_DIR", REPO.parent / "shared" / "seed"))
TEMPLATE = REPO / "kg_data" / "devices" / "arduino-nicla-vision.td.jsonld"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def raw_receiver(broker: str, devices: int, total: int) -> None:
    """Subprocess: receive every raw chunk, then announce it (baseline)."""
    got = {"bytes": 0}
    done = threading.Event()

    def on_message(topic: str, payload: bytes) -> None:
        got["bytes"] += len(payload)
        if got["bytes"] >= total:
            done.set()

    conn = Connection(broker, [("raw/+/chunk", QOS_CHUNK)], on_message, name="raw-rx")
    conn.start()
    print("ready", flush=True)
    done.wait()
    conn.publish("raw/done", b"1", QOS_CONTROL)
    time.sleep(0.5)
    conn.stop()


def raw_publish(broker: str, data: bytes, devices: int, chunk: int) -> float:
    """Seconds to publish ``devices`` copies of ``data`` in chunks and have them received."""
    total = devices * len(data)
    rx = subprocess.Popen(
        [sys.executable, __file__, "--raw-receiver", broker, str(devices), str(total)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert rx.stdout is not None
    assert rx.stdout.readline().strip() == "ready"
    finished = threading.Event()
    tx = Connection(broker, [("raw/done", QOS_CONTROL)], lambda t, p: finished.set(), name="raw")
    tx.start()
    start = time.perf_counter()
    for d in range(devices):
        topic = f"raw/{d}/chunk"
        for i in range(0, len(data), chunk):
            tx.publish(topic, data[i : i + chunk], QOS_CHUNK)
    if not finished.wait(300):
        raise SystemExit("the raw receiver did not get every byte in 300 s")
    elapsed = time.perf_counter() - start
    tx.stop()
    rx.wait(10)
    return elapsed


def register(registry: Registry, model: Path, devices: int) -> list[str]:
    registry.add_model(model)
    template = json.loads(TEMPLATE.read_text())
    ids = []
    for n in range(1, devices + 1):
        td = dict(template, id=f"{template['id']}-{n}", title=f"{template['title']} #{n}")
        ids.append(registry.add_device(td).id)
    return ids


def statuses(broker: str, devices: list[str], wait: float = 3.0) -> dict[str, dict[str, Any]]:
    """Every device's retained status, read from the broker."""
    seen: dict[str, dict[str, Any]] = {}
    from tinyreg.core.protocol import topic_device

    def on_message(topic: str, payload: bytes) -> None:
        seen[topic_device(topic)[0]] = json.loads(payload)

    conn = Connection(broker, [(f"{TOPIC_ROOT}/+/status", QOS_CONTROL)], on_message, name="st")
    conn.start()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and len(seen) < len(devices):
        time.sleep(0.05)
    time.sleep(0.3)  # a last status may follow a result
    conn.stop()
    return seen


def child_pids(pid: int) -> list[int]:
    """The processes a process started (the fleet's image-checking workers)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(child) for child in text)
    return found


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_fleet(
    broker: str,
    public: Path,
    state_dir: Path,
    args: argparse.Namespace,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """Start ``tinyreg device run --replicas N`` and wait until it says it is ready."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tinyreg.registry.cli",
            "device",
            "run",
            "--td",
            str(TEMPLATE),
            "--replicas",
            str(args.devices),
            "--broker",
            broker,
            "--public-key",
            str(public),
            "--state-dir",
            str(state_dir),
            "--self-test-runs",
            str(args.self_test_runs),
            "--workers",
            str(args.workers),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("ready:"):
            break
    else:
        raise SystemExit(f"the fleet exited ({proc.wait()}) before it was ready")
    return proc


def stop_fleet(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(30)


def client_rounds(
    registry: Registry,
    broker: str,
    public: Path,
    work: Path,
    model_id: str,
    devices: list[str],
    data: bytes,
    args: argparse.Namespace,
) -> dict[str, list[dict[str, float]]]:
    """Phase 4: the deployment of phase 2, fast client and paho's own client interleaved.

    Each round starts a fresh fleet (new flash) and a new deployer, both told which client
    to use by ``TINYREG_MQTT_CLIENT``; rounds go fast, paho, fast, paho, ...
    """
    rounds: dict[str, list[dict[str, float]]] = {"fast": [], "paho": []}
    saved = os.environ.get(CLIENT_ENV)
    try:
        for n in range(args.client_rounds):
            for client in ("fast", "paho"):
                os.environ[CLIENT_ENV] = client  # the fleet's process and the deployer's
                fleet = start_fleet(
                    broker, public, work / f"flash-{client}-{n}", args, dict(os.environ)
                )
                try:
                    deployer = Deployer(
                        registry,
                        broker,
                        agent="benchmark",
                        chunk_size=args.chunk_size,
                        window=args.window,
                        parallel=args.parallel,
                        timeout=30.0,
                    )
                    assert deployer.connection.fast == (client == "fast")
                    with deployer:
                        pids = {"host": os.getpid(), "fleet": fleet.pid}
                        before = {k: cpu_s(v) for k, v in pids.items()}
                        t = time.perf_counter()
                        records = deployer.deploy(model_id, devices, image=data, version="1")
                        total_s = time.perf_counter() - t
                        cpu = {k: cpu_s(v) - before[k] for k, v in pids.items()}
                finally:
                    stop_fleet(fleet)
                committed = [r for r in records if r.outcome == "committed"]
                deploy_s = [r.deploy_ms / 1000 for r in committed if r.deploy_ms is not None]
                figures = {
                    "committed": float(len(committed)),
                    "total_s": total_s,
                    "mb_per_s": len(data) * len(committed) / 1e6 / total_s,
                    "deploy_p50_s": percentile(deploy_s, 0.5),
                    "cpu_deployer_s": cpu["host"],
                    "cpu_fleet_s": cpu["fleet"],
                }
                rounds[client].append(figures)
                print(
                    f"  round {n + 1} {client:4}: {len(committed)}/{len(records)} committed "
                    f"in {total_s:.2f} s ({figures['mb_per_s']:.3f} MB/s), deploy p50 "
                    f"{figures['deploy_p50_s']:.3f} s, CPU deployer {cpu['host']:.2f} s, "
                    f"fleet {cpu['fleet']:.2f} s",
                    flush=True,
                )
    finally:
        if saved is None:
            os.environ.pop(CLIENT_ENV, None)
        else:
            os.environ[CLIENT_ENV] = saved
    return rounds


def client_figures(rounds: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    """The JSON keys of phase 4: medians per client, their spread and the ratio."""
    out: dict[str, Any] = {"client_rounds": len(rounds["fast"])}
    if not rounds["fast"]:
        return out
    for client, runs in rounds.items():
        rate = [r["mb_per_s"] for r in runs]
        out[f"ota_{client}_client_mb_per_s"] = round(statistics.median(rate), 3)
        out[f"ota_{client}_client_min_mb_per_s"] = round(min(rate), 3)
        out[f"ota_{client}_client_max_mb_per_s"] = round(max(rate), 3)
        for key in ("total_s", "deploy_p50_s", "cpu_deployer_s", "cpu_fleet_s"):
            value = statistics.median(r[key] for r in runs)
            out[f"ota_{client}_client_{key}"] = round(value, 3)
        out[f"ota_{client}_client_committed"] = int(min(r["committed"] for r in runs))
    out["paho_vs_fast_throughput_ratio"] = round(
        out["ota_paho_client_mb_per_s"] / out["ota_fast_client_mb_per_s"], 3
    )
    # each paho round against the fast round just before it: how far the ratio moves
    pairs = zip(rounds["fast"], rounds["paho"], strict=True)
    paired = [p["mb_per_s"] / f["mb_per_s"] for f, p in pairs]
    out["paho_vs_fast_round_ratio_min"] = round(min(paired), 3)
    out["paho_vs_fast_round_ratio_max"] = round(max(paired), 3)
    out["paho_rounds_faster"] = sum(1 for r in paired if r > 1)
    out["paho_vs_fast_fleet_cpu_ratio"] = round(
        out["ota_paho_client_cpu_fleet_s"] / out["ota_fast_client_cpu_fleet_s"], 3
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--model", type=Path, default=SEED / "models" / "Visual_Alarm_Clock.tflite")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--parallel", type=int, default=16)
    parser.add_argument("--loss", type=float, default=0.05)
    parser.add_argument("--self-test-runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="fleet threads that load images")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--client-rounds",
        type=int,
        default=5,
        help="rounds of phase 4 (fast client, then paho's own, per round); 0 skips it",
    )
    args = parser.parse_args()
    if not args.model.is_file():
        raise SystemExit(f"model {args.model} not found (set TINYREG_SEED_DIR)")
    data = args.model.read_bytes()
    load_before = round(os.getloadavg()[0], 2)
    work = Path(tempfile.mkdtemp(prefix="tinyreg-deploy-bench-"))
    broker = Mosquitto(work / "broker").start()
    fleet_proc: subprocess.Popen[str] | None = None
    try:
        registry = Registry.open(work / "store")
        t = time.perf_counter()
        devices = register(registry, args.model, args.devices)
        model_id = registry.list_models()[0].id
        print(
            f"registered {args.model.name} ({len(data):,} B) and {len(devices)} devices "
            f"in {time.perf_counter() - t:.1f} s"
        )

        raw_s = raw_publish(broker.url, data, args.devices, args.chunk_size)
        print(
            f"baseline: raw publish of {args.devices} x {len(data):,} B in "
            f"{args.chunk_size:,} B chunks: {raw_s:.2f} s"
        )

        deployer = Deployer(
            registry,
            broker.url,
            agent="benchmark",
            chunk_size=args.chunk_size,
            window=args.window,
            parallel=args.parallel,
            timeout=30.0,
        )
        public = work / "registry.pub.pem"
        deployer.write_public_key(public)
        t = time.perf_counter()
        fleet_proc = start_fleet(broker.url, public, work / "flash", args)
        rss_idle = rss_mb(fleet_proc.pid)
        print(
            f"fleet of {args.devices} virtual devices up in {time.perf_counter() - t:.1f} s, "
            f"RSS {rss_idle:.0f} MB"
        )

        with deployer:
            assert broker.process is not None
            pids = {"host": os.getpid(), "fleet": fleet_proc.pid, "broker": broker.process.pid}
            pids.update({f"worker{k}": child for k, child in enumerate(child_pids(fleet_proc.pid))})
            cpu_before = {k: cpu_s(v) for k, v in pids.items()}
            t = time.perf_counter()
            began = time.time()
            records = deployer.deploy(model_id, devices, image=data, version="1")
            total_s = time.perf_counter() - t
            cpu = {k: round(cpu_s(v) - cpu_before[k], 2) for k, v in pids.items()}
            cpu["workers"] = round(sum(v for k, v in cpu.items() if k.startswith("worker")), 2)
            rss_loaded = rss_mb(fleet_proc.pid)
            committed = [r for r in records if r.outcome == "committed"]
            if len(committed) != len(records):
                bad = [(r.device, r.outcome, r.reason) for r in records if r.outcome != "committed"]
                print(f"NOT committed: {bad[:5]}")
            deploy_s = [r.deploy_ms / 1000 for r in committed if r.deploy_ms is not None]
            load_ms = [r.load_ms for r in committed if r.load_ms is not None]
            infer_ms = [r.inference_ms for r in committed if r.inference_ms is not None]
            # when the last device held a verified image (transfers done; loads may follow)
            verified_all_s = max(
                (
                    r.started.timestamp() + r.deploy_ms / 1000 - began
                    for r in committed
                    if r.deploy_ms is not None
                ),
                default=float("nan"),
            )

            rng = random.Random(args.seed)
            dropped = {"n": 0, "sent": 0}

            def lossy(device: str, index: int, frame: bytes) -> bytes | None:
                dropped["sent"] += 1
                if rng.random() < args.loss:
                    dropped["n"] += 1
                    return None
                return frame

            deployer.chunk_filter = lossy
            t = time.perf_counter()
            lossy_records = deployer.deploy(model_id, devices, image=data, version="2")
            lossy_s = time.perf_counter() - t
        seen = statuses(broker.url, devices)
        stop_fleet(fleet_proc)
        fleet_proc = None
        if args.client_rounds > 0:
            print(
                f"clients: the deployment of phase 2, {args.client_rounds} rounds of "
                f"TINYREG_MQTT_CLIENT=fast then =paho (fresh fleet each)"
            )
        rounds = client_rounds(registry, broker.url, public, work, model_id, devices, data, args)
        good = {("1", model_id), ("2", model_id)}
        broken = [
            d
            for d in devices
            if (seen.get(d, {}).get("version"), seen.get(d, {}).get("model")) not in good
        ]
        on_new = sum(1 for d in devices if seen.get(d, {}).get("version") == "2")
        lossy_ok = sum(1 for r in lossy_records if r.outcome == "committed")
        mb = len(data) * args.devices / 1e6
        result = {
            "devices": args.devices,
            "model": args.model.name,
            "model_bytes": len(data),
            "chunk_bytes": args.chunk_size,
            "parallel": args.parallel,
            "committed": len(committed),
            "deploy_p50_s": round(percentile(deploy_s, 0.5), 4),
            "deploy_p95_s": round(percentile(deploy_s, 0.95), 4),
            "load_p50_ms": round(percentile(load_ms, 0.5), 3),
            "load_p95_ms": round(percentile(load_ms, 0.95), 3),
            "inference_p50_ms": round(percentile(infer_ms, 0.5), 3),
            "inference_p95_ms": round(percentile(infer_ms, 0.95), 3),
            "total_s": round(total_s, 3),
            "throughput_mb_per_s": round(mb / total_s, 3),
            "raw_publish_s": round(raw_s, 3),
            "raw_throughput_mb_per_s": round(mb / raw_s, 3),
            "ratio_vs_raw": round(total_s / raw_s, 3),
            "transfers_verified_s": round(verified_all_s, 3),
            "transfer_ratio_vs_raw": round(verified_all_s / raw_s, 3),
            "self_test_runs": args.self_test_runs,
            "fleet_workers": args.workers,
            "cpu_host_s": cpu["host"],
            "cpu_fleet_s": cpu["fleet"],
            "cpu_workers_s": cpu["workers"],
            "cpu_broker_s": cpu["broker"],
            "lossy_drop_rate": round(dropped["n"] / max(1, dropped["sent"]), 4),
            "lossy_total_s": round(lossy_s, 3),
            "lossy_committed": lossy_ok,
            "lossy_on_new": on_new,
            "lossy_success_rate": round((len(devices) - len(broken)) / len(devices), 4),
            "broken_devices": len(broken),
            "fleet_rss_idle_mb": round(rss_idle, 1),
            "fleet_rss_loaded_mb": round(rss_loaded, 1),
            **client_figures(rounds),
            "load_average_1min_before": load_before,
            "load_average_1min": round(os.getloadavg()[0], 2),
        }
        print(
            f"deployment: {len(committed)}/{len(records)} committed in {total_s:.2f} s "
            f"({result['throughput_mb_per_s']} MB/s), {result['ratio_vs_raw']}x the raw publish; "
            f"every image verified after {verified_all_s:.2f} s "
            f"({result['transfer_ratio_vs_raw']}x)"
        )
        print(
            f"  deploy p50/p95 {result['deploy_p50_s']}/{result['deploy_p95_s']} s; load p50 "
            f"{result['load_p50_ms']} ms; inference p50 {result['inference_p50_ms']} ms "
            f"(self-test median of {args.self_test_runs})"
        )
        print(
            f"  CPU during the deployment: deployer {cpu['host']} s, fleet {cpu['fleet']} s, "
            f"its image-checking workers {cpu['workers']} s, mosquitto {cpu['broker']} s "
            f"(2 cores: {2 * total_s:.1f} core-s available)"
        )
        print(
            f"  fleet RSS {rss_idle:.0f} MB idle -> {rss_loaded:.0f} MB after the deployment "
            f"(devices build their interpreter on their first inference request)"
        )
        print(
            f"lossy ({result['lossy_drop_rate']:.1%} of chunk sends dropped): "
            f"{lossy_ok} committed, {on_new} on version 2, {len(broken)} broken, "
            f"in {lossy_s:.2f} s"
        )
        if rounds["fast"]:
            print(
                f"clients: fast {result['ota_fast_client_mb_per_s']} MB/s "
                f"({result['ota_fast_client_min_mb_per_s']}-"
                f"{result['ota_fast_client_max_mb_per_s']}), paho's own "
                f"{result['ota_paho_client_mb_per_s']} MB/s "
                f"({result['ota_paho_client_min_mb_per_s']}-"
                f"{result['ota_paho_client_max_mb_per_s']}): ratio "
                f"{result['paho_vs_fast_throughput_ratio']} (medians of "
                f"{args.client_rounds}; per round {result['paho_vs_fast_round_ratio_min']}-"
                f"{result['paho_vs_fast_round_ratio_max']}, paho faster in "
                f"{result['paho_rounds_faster']}); fleet CPU with paho's client "
                f"{result['paho_vs_fast_fleet_cpu_ratio']}x; load average "
                f"{result['load_average_1min_before']} -> {result['load_average_1min']}"
            )
        print(json.dumps(result))
    finally:
        if fleet_proc is not None:
            stop_fleet(fleet_proc)
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--raw-receiver":
        raw_receiver(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
