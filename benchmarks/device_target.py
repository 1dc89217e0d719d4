"""Every runnable seed and kg_data model on the firmware agent, on each emulated core (QEMU).

Usage::

    .venv/bin/python benchmarks/device_target.py [--seed-dir DIR] [--targets a,b]

For each target (``qemu-mps2-an386`` Cortex-M4F, ``qemu-mps3-an547`` Cortex-M55) and model:
the minimal tensor arena on the 32-bit target next to the host's (64-bit, PyPI ``tflite-micro``)
figure and the host's 32-bit estimate, guest instructions of model load and of one inference
(QEMU ``-icount shift=0`` with SysTick: **instructions, not cycles**), the firmware's code bytes,
and whether the output for the zero-point input equals the host interpreter's bit for bit.
Then the code bytes per operator kernel, read from the agent's linker map.

Then the latency estimate (``tinyreg.kg_data.latency_calibration``, fitted on the committed
``kg_data/runtimes/target-measurements.json``): per model, the instructions the estimate
predicts from the MACs against the ones just measured; and on the published real-board latencies
of the MLPerf Tiny reference models kept out of the calibration, the estimate against the
measurement. ``median_latency_estimate_error`` is the median of |estimate / measurement − 1|
over those held-out references (the estimate from the MACs alone, as the matchmaker makes it).

Then the over-the-air deployment of one model (``kws-dscnn-int8``, 14,752 B, 1 KiB chunks) to
one agent under QEMU (``qemu-mps2-an386``, serve mode in real time) through a real mosquitto
and the serial bridge, ``--deploy-runs`` times (each a new version, so a full transfer,
verification, load and self-test on the device), and as the baseline in the same run the same
deployments to a Python virtual device: seconds from the deploy call to the device's
``committed`` verdict, median over the runs. ``--deploy-only`` runs only this part.

The last line of stdout is one JSON object: ``targets``, ``models_run``, ``models_refused``,
``max_arena_target_over_host``, ``outputs_equal_host``, ``per_model`` and
``kernel_code_bytes`` (per target and operator), ``median_latency_estimate_error``,
``latency_references`` and ``median_instruction_estimate_error`` (held-out models per core
family and int8/float),
``deploy_p50_s`` (QEMU device through the
bridge), ``deploy_p50_virtual_s`` (the baseline), ``deploy_runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from tinyreg.core.errors import BenchmarkError  # noqa: E402
from tinyreg.core.tflite import parse_tflite  # noqa: E402
from tinyreg.firmware.linkmap import code_by_operator  # noqa: E402
from tinyreg.firmware.target import TARGETS, bench_target, firmware_elf, host_output_sha256  # noqa: E402
from tinyreg.kg_data.latency_calibration import Calibration, calibrate  # noqa: E402
from tinyreg.registry import measure_arena  # noqa: E402


def _instruction_estimate(
    calibration: Calibration, target: str, path: Path, measured: int
) -> dict[str, object]:
    """The instructions the calibrated estimate predicts from the model's MACs."""
    family = TARGETS[target].family
    info = parse_tflite(path.read_bytes(), source=path.name)
    kind = "int8" if info.quantization in ("int8", "uint8", "int16x8") else "float"
    model = calibration.instruction_models.get((family, kind))
    if model is None:
        return {}
    macs: Counter[str] = Counter()
    for sg in info.subgraphs:
        for op in sg.operators:
            macs[op.opcode] += op.macs
    operators = sum(len(sg.operators) for sg in info.subgraphs)
    estimate = model.instructions(macs, operators)
    role = "fit" if path.name in model.fit_models else "held out"
    if path.name not in model.fit_models and path.name not in model.held_out:
        role = "not used"
    return {
        "instructions_estimate": round(estimate),
        "instructions_estimate_over_measured": round(estimate / measured, 3),
        "instruction_fit_role": role,
    }


def _latency_summary(calibration: Calibration) -> dict[str, object]:
    """Print estimate against published board latencies; the JSON keys of the latency part."""
    errors = {
        f"{family}/{kind}": round(err, 4)
        for (family, kind), model in sorted(calibration.instruction_models.items())
        if (err := model.held_out_error) is not None
    }
    print("\n== latency estimate vs published real-board latencies ==")
    references: list[dict[str, object]] = []
    median = median_total = None
    for family, board in sorted(calibration.boards.items()):
        print(
            f"{board.board} ({family}, {board.clock_hz / 1e6:g} MHz, {board.runtime}): "
            f"{board.cycles_per_instruction} cycles per instruction, fitted on "
            + ", ".join(f"{m} ({cpi})" for m, cpi in board.calibration.items())
        )
        for model, (from_macs, from_instr, published) in board.test.items():
            print(
                f"  held out {model:32} estimate {from_macs:9.1f} ms "
                f"(from measured instructions {from_instr:9.1f} ms), "
                f"published {published:9.1f} ms, "
                f"error {from_macs / published - 1:+.1%}"
            )
            references.append(
                {
                    "model": model,
                    "board": board.board,
                    "estimate_ms": from_macs,
                    "estimate_from_measured_instructions_ms": from_instr,
                    "published_ms": published,
                }
            )
        median, median_total = board.median_error, board.median_error_total_macs
        for model, estimate in board.test_total_macs.items():
            print(f"  held out {model:32} matchmaker estimate (total MACs) {estimate:9.1f} ms")
    for key, (estimate, published) in calibration.cross_checks.items():
        print(f"  cross-check {key}: estimate {estimate:.1f} ms, published {published:.1f} ms")
    return {
        "median_latency_estimate_error": round(median, 4) if median is not None else None,
        "median_latency_estimate_error_total_macs": (
            round(median_total, 4) if median_total is not None else None
        ),
        "latency_references": references,
        "median_instruction_estimate_error": errors,
    }


DEPLOY_MODEL = REPO / "kg_data" / "models" / "kws-dscnn-int8.tflite"
DEPLOY_TD = REPO / "kg_data" / "devices" / "arduino-nano-33-ble-sense.td.jsonld"


def deploy_times(runs: int) -> dict[str, float | int]:
    """Median seconds of one deployment to one QEMU device through the bridge, and to a
    virtual device as the baseline (one mosquitto, one registry, the same model)."""
    import statistics
    import tempfile

    from _mosquitto import Mosquitto

    from tinyreg.core.protocol import generate_key, public_key_bytes
    from tinyreg.firmware.agents import AgentFleet
    from tinyreg.firmware.fleet import Fleet
    from tinyreg.registry import Registry
    from tinyreg.registry.deployer import Deployer
    from tinyreg.registry.limits import device_limits

    with tempfile.TemporaryDirectory(prefix="tinyreg-deploy-bench-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "broker").start()
        registry = Registry.open(work / "store")
        key = generate_key()
        try:
            registry.add_model(DEPLOY_MODEL)
            times: dict[str, list[float]] = {}
            for kind in ("qemu", "virtual"):
                td = json.loads(DEPLOY_TD.read_text())
                td["id"] = f"urn:tinyreg:device:bench-{kind}"
                device = registry.add_device(td).id
                limits = [device_limits(td)]
                fleet: AgentFleet | Fleet
                if kind == "qemu":
                    fleet = AgentFleet(
                        broker.url, limits, "qemu-mps2-an386", work / kind, public_key_bytes(key)
                    )
                else:
                    fleet = Fleet(broker.url, limits, work / kind, public_key_bytes(key))
                fleet.start()
                try:
                    with Deployer(registry, broker.url, key=key, agent="bench", timeout=30) as dep:
                        times[kind] = []
                        for run in range(runs):
                            start = time.perf_counter()
                            (record,) = dep.deploy(
                                DEPLOY_MODEL.stem, [device], version=f"{run + 1}.0", record=False
                            )
                            elapsed = time.perf_counter() - start
                            if record.outcome != "committed":
                                raise RuntimeError(f"{kind} deployment {run}: {record.reason}")
                            times[kind].append(elapsed)
                            print(f"deploy to the {kind} device, run {run + 1}: {elapsed:.3f} s")
                finally:
                    fleet.stop()
        finally:
            registry.close()
            broker.stop()
    return {
        "deploy_p50_s": round(statistics.median(times["qemu"]), 3),
        "deploy_p50_virtual_s": round(statistics.median(times["virtual"]), 3),
        "deploy_runs": runs,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    default_seed = Path(os.environ.get("TINYREG_SEED_DIR", REPO.parent / "shared" / "seed"))
    parser.add_argument("--seed-dir", type=Path, default=default_seed)
    parser.add_argument("--targets", default=",".join(sorted(TARGETS)))
    parser.add_argument("--deploy-runs", type=int, default=5)
    parser.add_argument("--deploy-only", action="store_true")
    args = parser.parse_args()
    if args.deploy_only:
        sys.stdout.write(json.dumps(deploy_times(args.deploy_runs)) + "\n")
        return 0
    targets = args.targets.split(",")
    models = sorted((args.seed_dir / "models").glob("*.tflite")) + sorted(
        (REPO / "kg_data" / "models").glob("*.tflite")
    )
    host: dict[Path, tuple[int | None, int | None, str | None]] = {}
    for path in models:
        data = path.read_bytes()
        arena = measure_arena(data, source=str(path))
        sha = host_output_sha256(data) if arena.runnable else None
        host[path] = (arena.arena_bytes, arena.arena_bytes_32bit_estimate, sha)

    per_model: list[dict[str, object]] = []
    kernel_bytes: dict[str, dict[str, int]] = {}
    refused: set[str] = set()
    run: set[str] = set()
    ratios: list[float] = []
    equal = 0
    compared = 0
    started = time.perf_counter()
    calibration = calibrate()
    for target in targets:
        elf = firmware_elf(target)
        kernel_bytes[target] = code_by_operator(elf.with_name("agent.map"))
        print(f"\n== {target} ({TARGETS[target].cpu}); instructions, not cycles ==")
        print(
            f"{'model':42} {'arena tgt':>9} {'host':>7} {'est32':>7} {'tgt/host':>8} "
            f"{'init instr':>11} {'infer instr':>12} {'code B':>7}  out=host"
        )
        for path in models:
            host_arena, estimate, host_sha = host[path]
            try:
                bench = bench_target(path, target)
            except BenchmarkError as exc:
                refused.add(path.name)
                print(f"{path.name:42} refused: {exc.detail[:90]}")
                per_model.append({"model": path.name, "target": target, "refused": exc.detail})
                continue
            run.add(path.name)
            ratio = bench.arena_bytes / host_arena if host_arena else None
            if ratio:
                ratios.append(ratio)
            same = host_sha is not None and bench.output_sha256 == host_sha
            compared += 1
            equal += same
            print(
                f"{path.name:42} {bench.arena_bytes:9} {host_arena or 0:7} {estimate or 0:7} "
                f"{ratio or 0:8.3f} {bench.init_instructions:11} {bench.inference_instructions:12} "
                f"{bench.code_bytes:7}  {'yes' if same else 'no'}"
            )
            per_model.append(
                {
                    "model": path.name,
                    "target": target,
                    "arena_target": bench.arena_bytes,
                    "arena_host": host_arena,
                    "arena_32bit_estimate": estimate,
                    "init_instructions": bench.init_instructions,
                    "inference_instructions": bench.inference_instructions,
                    "code_bytes": bench.code_bytes,
                    "output_equals_host": same,
                    **_instruction_estimate(
                        calibration, target, path, bench.inference_instructions
                    ),
                }
            )
        print(f"\ncode bytes by operator on {target} (linker map, .text + .rodata kept):")
        for op, size in sorted(kernel_bytes[target].items(), key=lambda kv: -kv[1]):
            print(f"  {op:34} {size:8}")
    latency = _latency_summary(calibration)
    summary = {
        "targets": targets,
        "models_run": len(run),
        "models_refused": len(refused - run),
        "refused": sorted(refused - run),
        "max_arena_target_over_host": round(max(ratios), 4) if ratios else None,
        "min_arena_target_over_host": round(min(ratios), 4) if ratios else None,
        "outputs_equal_host": f"{equal}/{compared}",
        "seconds": round(time.perf_counter() - started, 1),
        "counts_are": "guest instructions under QEMU -icount shift=0, not cycles",
        "kernel_code_bytes": kernel_bytes,
        "per_model": per_model,
        **latency,
    }
    summary.update(deploy_times(args.deploy_runs))
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
