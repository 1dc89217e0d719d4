"""Measure every runnable model on the firmware agent once and store the figures with provenance.

Usage (from the repository root)::

    .venv/bin/python scripts/measure_targets.py [--seed-dir DIR] [--reference-dir DIR]
    .venv/bin/python scripts/measure_targets.py --tables   # docs/firmware.md's arena tables

For each emulated core (``qemu-mps2-an386`` Cortex-M4F, ``qemu-mps3-an547`` Cortex-M55) this runs
the agent's bench mode (QEMU ``-icount shift=0``: guest **instructions**, not cycles) on every
seed and ``kg_data`` model, and on the MLPerf Tiny reference models when ``--reference-dir``
holds them (``kws_ref_model.tflite``, ``vww_96_int8.tflite``, ``pretrainedResnet_quant.tflite``,
``ad01_int8.tflite`` from github.com/mlcommons/tiny, ``benchmark/training/*/trained_models``;
they are measured, never copied into the project). It reads the code bytes per operator
kernel from each agent's linker map, and writes everything to
``kg_data/runtimes/target-measurements.json`` with how it was measured (compiler version,
compiler flags, TFLM commit, QEMU version, date). ``kg_data/runtime_tables.py`` turns that file
into the code sizes and the calibrated latency figures of the runtime tables.

QEMU runs cost CPU (about two minutes for both cores): run this after a firmware or model
change, then regenerate the tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "kg_data" / "runtimes" / "target-measurements.json"
#: MLPerf Tiny reference models (file name -> benchmark) measured when --reference-dir has them.
REFERENCE_MODELS = {
    "ad01_int8.tflite": "ad",
    "kws_ref_model.tflite": "kws",
    "pretrainedResnet_quant.tflite": "ic",
    "vww_96_int8.tflite": "vww",
}

from tinyreg.core.errors import BenchmarkError  # noqa: E402
from tinyreg.core.tflite import parse_tflite  # noqa: E402
from tinyreg.firmware.linkmap import code_by_operator  # noqa: E402
from tinyreg.firmware.target import (  # noqa: E402
    TARGETS,
    TFLM_COMMIT,
    bench_target,
    firmware_elf,
    host_output_sha256,
    toolchain_version,
)
from tinyreg.registry import measure_arena  # noqa: E402


def _compiler_flags(core: str) -> str:
    """The flags ``libtflm.a`` and the kernels are compiled with (include paths left out)."""
    proc = subprocess.run(
        ["make", "-s", "-C", str(REPO / "firmware" / "agent"), "print-lib-flags", f"CORE={core}"],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("CXX:"))
    return " ".join(f for f in line[4:].split() if not f.startswith("-I"))


def _qemu_version() -> str:
    proc = subprocess.run(["qemu-system-arm", "--version"], capture_output=True, text=True)
    return proc.stdout.splitlines()[0].strip()


def _model_facts(path: Path, source: str) -> dict[str, Any]:
    data = path.read_bytes()
    info = parse_tflite(data, source=path.name)
    macs: Counter[str] = Counter()
    ops = 0
    for sg in info.subgraphs:
        for op in sg.operators:
            macs[op.opcode] += op.macs
            ops += 1
    arena = measure_arena(data, source=str(path))
    return {
        "model": path.name,
        "source": source,
        "sha256": hashlib.sha256(data).hexdigest(),
        "quantization": info.quantization,
        "macs": info.macs,
        "macs_by_operator": {k: v for k, v in sorted(macs.items()) if v},
        "operators": ops,
        "arena_host": arena.arena_bytes,
        "arena_32bit_estimate": arena.arena_bytes_32bit_estimate,
        "_host_sha": host_output_sha256(data) if arena.runnable else None,
        "results": {},
    }


_TITLES = {
    "qemu-mps2-an386": "Cortex-M4F (`qemu-mps2-an386`)",
    "qemu-mps3-an547": "Cortex-M55 with MVE (`qemu-mps3-an547`)",
}


def markdown_tables(document: dict[str, Any]) -> str:
    """The 32-bit arena tables of docs/firmware.md, from a measurements document."""
    out: list[str] = []
    for target, facts in sorted(document["targets"].items()):
        title = _TITLES.get(target, f"`{target}`")
        out += [f"### {title}, firmware code bytes {facts['firmware_code_bytes']:,}", ""]
        out += [
            "| model | arena target | arena host | est32 | target/host | init instr "
            "| inference instr | out = host |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for m in document["models"]:
            if m["source"] not in ("seed", "kg_data"):
                continue
            r = m["results"][target]
            name = m["model"].removesuffix(".tflite")
            if "refused" in r:
                code = r["refused"].split(":", 1)[0]
                host_text = "refused" if m["arena_host"] is None else str(m["arena_host"])
                out.append(f"| {name} | refused (`{code}`) | {host_text} | | | | | |")
                continue
            host = m["arena_host"]
            ratio = f"{r['arena_bytes'] / host:.3f}" if host else ""
            out.append(
                f"| {name} | {r['arena_bytes']} | {host or ''} | "
                f"{m['arena_32bit_estimate'] or ''} | {ratio} | {r['init_instructions']} | "
                f"{r['inference_instructions']} | {'yes' if r['output_equals_host'] else 'no'} |"
            )
        out.append("")
    return "\n".join(out)


def main() -> int:
    """Measure, then write the JSON file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_seed = Path(os.environ.get("TINYREG_SEED_DIR", REPO.parent / "shared" / "seed"))
    parser.add_argument("--seed-dir", type=Path, default=default_seed)
    parser.add_argument("--reference-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--tables",
        action="store_true",
        help="print the arena tables of docs/firmware.md from the measurements file and stop",
    )
    args = parser.parse_args()
    if args.tables:
        sys.stdout.write(markdown_tables(json.loads(args.out.read_text())))
        return 0

    sources = [(p, "seed") for p in sorted((args.seed_dir / "models").glob("*.tflite"))]
    sources += [(p, "kg_data") for p in sorted((REPO / "kg_data" / "models").glob("*.tflite"))]
    if args.reference_dir is not None:
        for name in sorted(REFERENCE_MODELS):
            path = args.reference_dir / name
            if not path.is_file():
                parser.error(f"{path} is missing (the module docstring says where it comes from)")
            sources.append((path, "mlperf-tiny"))
    models = [_model_facts(path, source) for path, source in sources]

    targets: dict[str, Any] = {}
    for name, target in sorted(TARGETS.items()):
        elf = firmware_elf(name)
        targets[name] = {
            "family": target.family,
            "cpu": target.cpu,
            "compiler_flags": _compiler_flags(target.core),
            "agent_build": elf.parent.name,
            "code_bytes_by_operator": code_by_operator(elf.with_name("agent.map")),
        }
        for model, (path, _) in zip(models, sources, strict=True):
            try:
                bench = bench_target(path, name)
            except BenchmarkError as exc:
                model["results"][name] = {"refused": exc.detail}
                sys.stderr.write(f"{name} {path.name}: refused\n")
                continue
            targets[name]["firmware_code_bytes"] = bench.code_bytes
            model["results"][name] = {
                "arena_bytes": bench.arena_bytes,
                "init_instructions": bench.init_instructions,
                "inference_instructions": bench.inference_instructions,
                "output_equals_host": model["_host_sha"] == bench.output_sha256,
            }
            sys.stderr.write(f"{name} {path.name}: {bench.inference_instructions}\n")
    for model in models:
        del model["_host_sha"]
    gcc = toolchain_version()
    document = {
        "generated_by": "scripts/measure_targets.py",
        "provenance": {
            "measured_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
            "toolchain": re.sub(r"\s+", " ", gcc),
            "tflm_commit": TFLM_COMMIT,
            "kernels": "CMSIS-NN (TFLM kernels/cmsis_nn), vendored in firmware/third_party",
            "qemu": _qemu_version(),
            "counts": "guest instructions under QEMU -icount shift=0 (SysTick), not cycles",
            "code_bytes": ".text + .rodata input sections kept in the linked agent, by object "
            "file (tinyreg.firmware.linkmap)",
            "reference_models": "github.com/mlcommons/tiny benchmark/training/*/trained_models",
        },
        "targets": targets,
        "models": models,
    }
    args.out.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n")
    sys.stderr.write(f"wrote {args.out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
