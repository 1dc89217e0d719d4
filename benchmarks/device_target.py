"""Every runnable seed and kg_data model on the firmware agent, on each emulated core (QEMU).

Usage::

    .venv/bin/python benchmarks/device_target.py [--seed-dir DIR] [--targets a,b]

For each target (``qemu-mps2-an386`` Cortex-M4F, ``qemu-mps3-an547`` Cortex-M55) and model:
the minimal tensor arena on the 32-bit target next to the host's (64-bit, PyPI ``tflite-micro``)
figure and the host's 32-bit estimate, guest instructions of model load and of one inference
(QEMU ``-icount shift=0`` with SysTick: **instructions, not cycles**), the firmware's code bytes,
and whether the output for the zero-point input equals the host interpreter's bit for bit.
Then the code bytes per operator kernel, read from the agent's linker map.

No latency estimate is printed: the instruction counts are not calibrated against real boards
here (see docs/firmware.md), so ``median_latency_estimate_error`` is left out on purpose.

The last line of stdout is one JSON object: ``targets``, ``models_run``, ``models_refused``,
``max_arena_target_over_host``, ``outputs_equal_host``, ``per_model`` and
``kernel_code_bytes`` (per target and operator).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from tinyreg.core.errors import BenchmarkError  # noqa: E402
from tinyreg.firmware.linkmap import code_by_operator  # noqa: E402
from tinyreg.firmware.target import TARGETS, bench_target, firmware_elf, host_output_sha256  # noqa: E402
from tinyreg.registry import measure_arena  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    default_seed = Path(os.environ.get("TINYREG_SEED_DIR", REPO.parent / "shared" / "seed"))
    parser.add_argument("--seed-dir", type=Path, default=default_seed)
    parser.add_argument("--targets", default=",".join(sorted(TARGETS)))
    args = parser.parse_args()
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
                }
            )
        print(f"\ncode bytes by operator on {target} (linker map, .text + .rodata kept):")
        for op, size in sorted(kernel_bytes[target].items(), key=lambda kv: -kv[1]):
            print(f"  {op:34} {size:8}")
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
    }
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
