"""Ingest throughput of tinyreg's embedded (Oxigraph) store.

Measures two things in one run, each in a fresh store in a temporary directory:

1. **Model ingest** of the seed catalogue (``<seed>/models/*.tflite`` with their cards from
   ``<seed>/models_information.csv``) through ``Registry.import_path``, which parses the
   flatbuffer, measures the tensor arena with the TFLite Micro runtime, validates the
   description against the SHACL shapes and stores it. The total gives models/s; a second
   pass over the same files calls each stage on its own (parse, measure, describe +
   validate, store) to give the time per model of each stage and its share. A model's
   measurement builds it at its minimal arena (the import's default); the same imports
   with ``infer=True``, which also runs one inference with all-zero inputs a model, are
   timed beside them (keys ``seed_infer_*`` and ``corpus_infer_*``).
2. **Device bulk load** of a synthetic fleet of N devices written as N-Quads (one named
   graph per device, in the ontology's terms) and loaded with ``store.bulk_load``, in
   triples/s. The baseline is the transactional path: the first devices of the same fleet
   as rdflib Graphs written with ``store.replace_graphs``, one transaction per device, as
   ``Registry.add_device`` does. A ``COUNT`` query checks that all N devices are stored.

The last line of stdout is one JSON object with the figures (see ``benchmarks/README.md``).

Run::

    python benchmarks/ingest.py [--devices N] [--seed-dir DIR] [--baseline-devices M]

The seed directory defaults to ``$TINYREG_SEED_DIR``, else ``<repo>/../shared/seed``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _proc import cpu_s
from corpus import write_corpus
from fleet import SENSOR_CLASSES as SENSORS  # (sensor class, relative frequency), one table
from fleet import _bool, _int, _iri, _str  # N-Triples term writers shared by the benchmarks
from rdflib import Graph

from tinyreg.core.arena import measure_arena
from tinyreg.core.tflite import parse_tflite
from tinyreg.registry import Registry
from tinyreg.registry.cards import ModelCard, seed_cards, slugify
from tinyreg.registry.model_rdf import describe_model, nt_term, runtime_to_graph
from tinyreg.registry.validate import validate_descriptions

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DEVICES = 100_000
DEFAULT_BASELINE_DEVICES = 2_000
DEFAULT_CORPUS = 1_000
DEFAULT_REPEATS = 9
SEED_CARDS_FILE = "models_information.csv"

TR = "https://w3id.org/tinyreg#"
TD = "https://www.w3.org/2019/wot/td#"
SCHEMA = "https://schema.org/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

KIB = 1024
RAM_SIZES = [32, 64, 128, 192, 256, 264, 320, 384, 512, 640, 1024]
RAM_WEIGHTS = [6, 12, 14, 8, 16, 10, 8, 7, 9, 4, 6]
FLASH_SIZES = [256, 512, 1024, 2048, 4096, 8192, 16384]

# (core, coreFamily, clock choices in MHz, FPU, DSP, relative frequency)
MCUS: list[tuple[str, str, tuple[int, ...], bool, bool, int]] = [
    ("Cortex-M0+", "cortex-m0plus", (48, 64, 133), False, False, 14),
    ("Cortex-M4F", "cortex-m4", (64, 80, 120, 168), True, True, 26),
    ("Cortex-M7", "cortex-m7", (216, 480, 600), True, True, 14),
    ("Cortex-M33", "cortex-m33", (64, 110, 150, 160), True, True, 14),
    ("Cortex-M55", "cortex-m55", (160, 400), True, True, 4),
    ("Xtensa LX6", "xtensa-lx6", (160, 240), True, False, 10),
    ("Xtensa LX7", "xtensa-lx7", (240,), True, True, 12),
    ("RISC-V RV32IMC", "riscv32", (96, 160), False, False, 6),
]

SENSOR_COUNTS = [1, 2, 3, 4]
SENSOR_COUNT_WEIGHTS = [30, 35, 20, 15]

RUNTIMES: list[tuple[str, str]] = [
    ("tflite-micro", v)
    for v in (
        "2023.06",
        "2023.12",
        "2024.03",
        "2024.06",
        "2024.09",
        "2024.12",
        "2025.03",
        "2025.06",
        "2025.10",
    )
] + [("esp-tflite-micro", "1.3.2"), ("esp-tflite-micro", "1.3.4"), ("cmsis-nn", "6.0.0")]


# ------------------------------------------------------------------------------- models


@dataclass
class StageTimes:
    """Seconds spent in each stage of model ingest, summed over the models."""

    parse: float = 0.0
    measure: float = 0.0
    validate: float = 0.0
    store: float = 0.0
    models: int = 0
    refused: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return self.parse + self.measure + self.validate + self.store


def _timed_import(
    models_dir: Path, root: Path, *, infer: bool = False
) -> tuple[float, int, list[tuple[str, str]]]:
    """Import the models with ``Registry.import_path``; seconds, count, refusals.

    With ``infer`` each model's measurement also runs one inference with all-zero inputs.
    """
    reg = Registry.open(root)
    try:
        start = time.perf_counter()
        report = reg.import_path(models_dir, infer=infer)
        elapsed = time.perf_counter() - start
    finally:
        reg.close()
    return elapsed, len(report.models), list(report.refused)


def _pair_ratios(runs: list[tuple[float, float]], n_models: int, n_files: int) -> list[float]:
    """Each (import seconds, baseline seconds) pair's ingest rate over its baseline's rate.

    The import registered ``n_models`` of the ``n_files`` the baseline built.
    """
    return [baseline_s / import_s * n_models / n_files for import_s, baseline_s in runs]


def _staged_import(models_dir: Path, seed_dir: Path, root: Path) -> StageTimes:
    """Ingest the same models again, calling and timing each stage separately."""
    csv_path = seed_dir / SEED_CARDS_FILE
    if not csv_path.is_file():
        csv_path = models_dir / SEED_CARDS_FILE
    cards = seed_cards(csv_path) if csv_path.is_file() else {}
    times = StageTimes()
    reg = Registry.open(root)
    try:
        for path in sorted(models_dir.glob("*.tflite")):
            data = path.read_bytes()
            label = str(path)
            card = cards.get(path.stem) or ModelCard(name=path.stem)
            ident = card.id or slugify(path.stem)
            t0 = time.perf_counter()
            info = parse_tflite(data, label)
            t1 = time.perf_counter()
            arena = measure_arena(data, source=label, info=info)
            t2 = time.perf_counter()
            description = describe_model(ident, info, arena, card)
            (refusal,) = validate_descriptions([(description.iri, description.triples)])
            if refusal is not None:
                raise refusal
            runtime, runtime_graph = runtime_to_graph(arena.runtime_name, arena.runtime_version)
            runtime_text = "".join(
                f"{nt_term(s)} {nt_term(p)} {nt_term(o)} .\n" for s, p, o in runtime_graph
            )
            t3 = time.perf_counter()
            reg.store.replace_graphs_text(
                {description.iri: description.text(), str(runtime): runtime_text}
            )
            t4 = time.perf_counter()
            times.parse += t1 - t0
            times.measure += t2 - t1
            times.validate += t3 - t2
            times.store += t4 - t3
            times.models += 1
    finally:
        reg.close()
    return times


# ------------------------------------------------------------------------------- corpus


def runtime_builds(paths: list[Path]) -> tuple[float, int]:
    """The runtime's own cost: one interpreter build per model, with the public API.

    ``Interpreter.from_bytes`` at the first size the arena measurement tries, in this
    process, its messages sent to ``/dev/null``. Returns seconds and models built.
    """
    from tflite_micro.python.tflite_micro import runtime

    from tinyreg.core.arena import MIN_START_ARENA, stderr_to

    blobs = [p.read_bytes() for p in paths]
    built = 0
    with open(os.devnull, "wb") as sink, stderr_to(sink.fileno()):
        start = time.perf_counter()
        for data in blobs:
            try:
                size = max(10 * len(data), MIN_START_ARENA)
                runtime.Interpreter.from_bytes(data, arena_size=size)
                built += 1
            except RuntimeError:
                pass  # refused by the runtime: still one build's cost
        elapsed = time.perf_counter() - start
    return elapsed, built


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds so far: this process, its main thread, and its arena worker (if any).

    The worker is the process's measuring worker, which an import borrows and gives back
    (read from ``/proc``, so only where there is one).
    """
    from tinyreg.core import arena

    usage = resource.getrusage(resource.RUSAGE_SELF)
    seconds = {"process": usage.ru_utime + usage.ru_stime, "main": time.thread_time()}
    worker = arena._WORKER.get(os.getpid())
    if worker is not None:
        with contextlib.suppress(OSError):
            seconds["worker"] = cpu_s(worker.pid)
    return seconds


# ------------------------------------------------------------------------------- devices


def device_iri(i: int) -> str:
    """The IRI (and graph name) of synthetic device ``i``."""
    return f"urn:tinyreg:device:synthetic-{i}"


def synthetic_device(i: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """The triples of one synthetic device, as N-Triples terms (subject, predicate, object)."""
    dev = device_iri(i)
    d = _iri(dev)
    mcu, ram, flash, rt = (_iri(f"{dev}#{part}") for part in ("mcu", "ram", "flash", "runtime"))
    core, family, clocks, fpu, dsp, _ = rng.choices(MCUS, weights=[m[5] for m in MCUS])[0]
    ram_kib = rng.choices(RAM_SIZES, weights=RAM_WEIGHTS)[0]
    flash_kib = rng.choice([f for f in FLASH_SIZES if f >= 2 * ram_kib] or [FLASH_SIZES[-1]])
    ram_bytes = ram_kib * KIB
    flash_bytes = flash_kib * KIB
    runtime_name, runtime_version = rng.choice(RUNTIMES)
    triples = [
        (d, _iri(RDF_TYPE), _iri(TR + "Device")),
        (d, _iri(RDF_TYPE), _iri(TD + "Thing")),
        (d, _iri(TD + "title"), _str(f"Synthetic {core} board #{i}")),
        (d, _iri(SCHEMA + "manufacturer"), _str(f"Vendor {i % 97}")),
        (d, _iri(TR + "hasMCU"), mcu),
        (mcu, _iri(RDF_TYPE), _iri(TR + "MCU")),
        (mcu, _iri(TR + "core"), _str(core)),
        (mcu, _iri(TR + "coreFamily"), _str(family)),
        (mcu, _iri(TR + "clockHz"), _int(rng.choice(clocks) * 1_000_000)),
        (mcu, _iri(TR + "hasFPU"), _bool(fpu)),
        (mcu, _iri(TR + "hasDSP"), _bool(dsp)),
        (d, _iri(TR + "hasRAM"), ram),
        (ram, _iri(RDF_TYPE), _iri(TR + "RAM")),
        (ram, _iri(TR + "capacityBytes"), _int(ram_bytes)),
        (ram, _iri(TR + "reservedBytes"), _int(ram_bytes * rng.randint(10, 40) // 100)),
        (d, _iri(TR + "hasFlash"), flash),
        (flash, _iri(RDF_TYPE), _iri(TR + "Flash")),
        (flash, _iri(TR + "capacityBytes"), _int(flash_bytes)),
        (flash, _iri(TR + "reservedBytes"), _int(flash_bytes * rng.randint(10, 30) // 100)),
        (d, _iri(TR + "hasRuntime"), rt),
        (rt, _iri(RDF_TYPE), _iri(TR + "RuntimeInstallation")),
        (rt, _iri(TR + "runtimeName"), _str(runtime_name)),
        (rt, _iri(TR + "runtimeVersion"), _str(runtime_version)),
    ]
    count = rng.choices(SENSOR_COUNTS, weights=SENSOR_COUNT_WEIGHTS)[0]
    kinds = rng.choices([s[0] for s in SENSORS], weights=[s[1] for s in SENSORS], k=count)
    for n, kind in enumerate(kinds):
        sensor = _iri(f"{dev}#sensor-{n}")
        triples.append((d, _iri(TR + "hasSensor"), sensor))
        triples.append((sensor, _iri(RDF_TYPE), _iri(TR + kind)))
    return triples


def fleet(n: int, seed: int = 42) -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    """Yield ``(graph IRI, triples)`` for each of ``n`` synthetic devices, reproducibly."""
    rng = random.Random(seed)
    for i in range(n):
        yield device_iri(i), synthetic_device(i, rng)


def write_nquads(path: Path, n: int) -> int:
    """Write the fleet of ``n`` devices as N-Quads to ``path``; return the triple count."""
    total = 0
    with path.open("w", encoding="utf-8") as out:
        for graph, triples in fleet(n):
            g = _iri(graph)
            out.write("".join(f"{s} {p} {o} {g} .\n" for s, p, o in triples))
            total += len(triples)
    return total


def rdflib_graphs(n: int) -> list[tuple[str, Graph]]:
    """The first ``n`` devices of the same fleet as rdflib Graphs."""
    graphs = []
    for name, triples in fleet(n):
        text = "".join(f"{s} {p} {o} .\n" for s, p, o in triples)
        graphs.append((name, Graph().parse(data=text, format="nt")))
    return graphs


def _count_devices(reg: Registry) -> int:
    result = reg.query(f"SELECT (COUNT(?d) AS ?n) WHERE {{ ?d a <{TR}Device> }}")
    return int(result.rows[0]["n"])  # type: ignore[call-overload]


# ------------------------------------------------------------------------------- main


def _default_seed_dir() -> Path:
    env = os.environ.get("TINYREG_SEED_DIR")
    return Path(env) if env else REPO.parent / "shared" / "seed"


def _per_model_ms(seconds: float, models: int) -> float:
    return round(1000 * seconds / models, 2) if models else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--devices",
        type=int,
        default=DEFAULT_DEVICES,
        help=f"synthetic devices to bulk load (default {DEFAULT_DEVICES})",
    )
    parser.add_argument(
        "--seed-dir",
        type=Path,
        default=None,
        help="seed catalogue (default $TINYREG_SEED_DIR or ../shared/seed)",
    )
    parser.add_argument(
        "--corpus",
        type=int,
        default=DEFAULT_CORPUS,
        help=f"generated model variants to ingest (default {DEFAULT_CORPUS})",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=DEFAULT_REPEATS,
        help="seed imports, each paired with a baseline pass; medians are reported "
        f"(default {DEFAULT_REPEATS})",
    )
    parser.add_argument(
        "--baseline-devices",
        type=int,
        default=DEFAULT_BASELINE_DEVICES,
        help="devices written transactionally for the baseline "
        f"(default {DEFAULT_BASELINE_DEVICES})",
    )
    args = parser.parse_args(argv)
    seed_dir: Path = args.seed_dir or _default_seed_dir()
    models_dir = seed_dir / "models"
    if not models_dir.is_dir():
        print(f"error: no models directory at {models_dir}", file=sys.stderr)
        return 2
    n_devices: int = args.devices
    n_baseline = min(args.baseline_devices, n_devices)
    figures: dict[str, Any] = {}
    # the machine is shared: its load says how far off the figures may be
    figures["load_avg_1min_start"] = round(os.getloadavg()[0], 2)

    with tempfile.TemporaryDirectory(prefix="tinyreg-bench-") as tmp:
        tmpdir = Path(tmp)

        # 1. model ingest ------------------------------------------------------------
        # warm-up (untimed in the rate): the first model of a process also loads pySHACL,
        # the shapes, the runtime and forks the arena worker
        first = sorted(models_dir.glob("*.tflite"))[0]
        t0 = time.perf_counter()
        with Registry.open(tmpdir / "warm-up") as warm:
            warm.add_model(first)
        figures["first_model_cold_s"] = round(time.perf_counter() - t0, 3)
        print(
            f"== warm-up: the process's first model ({first.name}): "
            f"{figures['first_model_cold_s']:.2f} s"
        )
        print(f"== model ingest: {models_dir}")
        # each import (a fresh store) is paired with a baseline pass right after it, so
        # both see the same state of a shared machine; the medians are reported
        seed_paths = sorted(models_dir.glob("*.tflite"))
        repeats: int = max(1, args.repeats)
        runs: list[tuple[float, float]] = []  # (import seconds, baseline seconds)
        for run in range(repeats):
            total_s, n_models, refused = _timed_import(models_dir, tmpdir / f"import-{run}")
            rt_s, rt_built = runtime_builds(seed_paths)
            runs.append((total_s, rt_s))
            (ratio,) = _pair_ratios(runs[-1:], n_models, len(seed_paths))
            print(
                f"   run {run + 1}: import_path {n_models} models in {total_s:.3f} s "
                f"= {n_models / total_s:.2f} models/s; baseline {len(seed_paths)} models "
                f"({rt_built} built) in {rt_s:.3f} s = {len(seed_paths) / rt_s:.1f} models/s; "
                f"ingest/runtime = {ratio:.3f}"
            )
        for file, reason in refused:
            print(f"   refused {file}: {reason}")
        # the same, with the zero-input inference of each model (import_path(infer=True))
        infer_runs: list[tuple[float, float]] = []
        for run in range(repeats):
            infer_s, _, _ = _timed_import(models_dir, tmpdir / f"infer-{run}", infer=True)
            infer_runs.append((infer_s, runtime_builds(seed_paths)[0]))
        infer_ratios = _pair_ratios(infer_runs, n_models, len(seed_paths))
        infer_total_s = statistics.median(t for t, _ in infer_runs)
        print(
            f"   with infer=True (one zero-input inference a model), median of {repeats}: "
            f"{n_models / infer_total_s:.2f} models/s; ingest/runtime = "
            f"{statistics.median(infer_ratios):.3f} (from {min(infer_ratios):.3f} "
            f"to {max(infer_ratios):.3f})"
        )
        figures.update(
            {
                "seed_infer_models_per_s": round(n_models / infer_total_s, 2),
                "seed_infer_vs_runtime_ratio": round(statistics.median(infer_ratios), 3),
            }
        )
        total_s = statistics.median(t for t, _ in runs)
        rt_s = statistics.median(b for _, b in runs)
        seed_ratios = _pair_ratios(runs, n_models, len(seed_paths))
        print(
            f"   import_path, median of {repeats}: {n_models} models in {total_s:.3f} s "
            f"= {n_models / total_s:.2f} models/s"
        )
        stages = _staged_import(models_dir, seed_dir, tmpdir / "models-staged")
        print(f"   stage by stage ({stages.models} models, {stages.total:.2f} s):")
        for name, secs in (
            ("parse", stages.parse),
            ("measure (TFLM arena)", stages.measure),
            ("describe + SHACL validate", stages.validate),
            ("store (a transaction each)", stages.store),
        ):
            share = 100 * secs / stages.total if stages.total else 0.0
            print(
                f"     {name:<26} {_per_model_ms(secs, stages.models):>9.2f} ms/model "
                f"{share:5.1f} %"
            )
        figures.update(
            {
                "seed_models": n_models,
                "models_refused": len(refused),
                "ingest_total_s": round(total_s, 3),
                "models_per_s": round(n_models / total_s, 3),
                "parse_ms_per_model": _per_model_ms(stages.parse, stages.models),
                "measure_ms_per_model": _per_model_ms(stages.measure, stages.models),
                "validate_ms_per_model": _per_model_ms(stages.validate, stages.models),
                "store_ms_per_model": _per_model_ms(stages.store, stages.models),
            }
        )

        # the arena alone: the fast path against the reference bisection ------------------
        fast_s = bisect_s = 0.0
        for path in sorted(models_dir.glob("*.tflite")):
            data = path.read_bytes()
            info = parse_tflite(data, str(path))
            t0 = time.perf_counter()
            fast = measure_arena(data, info=info)
            t1 = time.perf_counter()
            reference = measure_arena(data, info=info, method="bisect")
            bisect_s += time.perf_counter() - t1
            fast_s += t1 - t0
            assert fast.arena_bytes == reference.arena_bytes, f"{path.name}: arenas differ"
        n_seed = len(list(models_dir.glob("*.tflite")))
        print(
            f"   arena alone: fast path {_per_model_ms(fast_s, n_seed):.1f} ms/model, "
            f"reference bisection {_per_model_ms(bisect_s, n_seed):.1f} ms/model (same arenas)"
        )
        figures.update(
            {
                "arena_fast_ms_per_model": _per_model_ms(fast_s, n_seed),
                "arena_bisect_ms_per_model": _per_model_ms(bisect_s, n_seed),
            }
        )

        # the runtime's own cost on the seed models, and the generated corpus -------------
        runtime_rate = len(seed_paths) / rt_s
        seed_rate = n_models / total_s
        seed_ratio = statistics.median(seed_ratios)
        print(
            f"   baseline, one interpreter build per model (Interpreter.from_bytes), median "
            f"of {repeats}: {len(seed_paths)} models in {rt_s:.3f} s = "
            f"{runtime_rate:.1f} models/s; ingest/runtime, median of the {repeats} pairs = "
            f"{seed_ratio:.3f} (from {min(seed_ratios):.3f} to {max(seed_ratios):.3f})"
        )
        n_corpus: int = args.corpus
        print(f"== corpus: {n_corpus} variants of the seed models")
        corpus = write_corpus(models_dir, tmpdir / "corpus", n_corpus)
        # the baseline runs before and after the import: their mean brackets it in time
        before_s, crt_built = runtime_builds(corpus)
        reg = Registry.open(tmpdir / "corpus-import")
        try:
            cpu_before = _cpu_seconds()
            t0 = time.perf_counter()
            corpus_report = reg.import_path(tmpdir / "corpus")
            corpus_s = time.perf_counter() - t0
            cpu_after = _cpu_seconds()
        finally:
            reg.close()
        corpus_n = len(corpus_report.models)
        corpus_rate = corpus_n / corpus_s
        after_s, _ = runtime_builds(corpus)
        crt_s = (before_s + after_s) / 2
        corpus_runtime_rate = len(corpus) / crt_s
        print(
            f"   import_path: {corpus_n} models in {corpus_s:.2f} s = {corpus_rate:.2f} models/s "
            f"({len(corpus_report.refused)} refused)"
        )
        print(
            f"   baseline, one interpreter build per model: {len(corpus)} models "
            f"({crt_built} built) in {before_s:.2f} s before the import and {after_s:.2f} s "
            f"after it, mean {crt_s:.2f} s = {corpus_runtime_rate:.1f} models/s; "
            f"ingest/runtime = {corpus_rate / corpus_runtime_rate:.3f}"
        )
        # the same corpus with the zero-input inference, and the baseline once more after it
        infer_s, infer_n, _ = _timed_import(tmpdir / "corpus", tmpdir / "corpus-infer", infer=True)
        after_infer_s, _ = runtime_builds(corpus)
        infer_runtime_rate = len(corpus) / ((after_s + after_infer_s) / 2)
        print(
            f"   with infer=True: {infer_n} models in {infer_s:.2f} s = "
            f"{infer_n / infer_s:.2f} models/s; baseline after it {after_infer_s:.2f} s; "
            f"ingest/runtime = {infer_n / infer_s / infer_runtime_rate:.3f}"
        )
        figures.update(
            {
                "corpus_infer_models_per_s": round(infer_n / infer_s, 2),
                "corpus_infer_vs_runtime_ratio": round(infer_n / infer_s / infer_runtime_rate, 3),
            }
        )
        cpu = {k: (cpu_after[k] - cpu_before[k]) for k in cpu_before if k in cpu_after}
        if "worker" in cpu:
            total_cpu = cpu["process"] + cpu["worker"]
            print(
                f"   CPU of the import: {_per_model_ms(total_cpu, corpus_n):.2f} ms a model "
                f"(main thread {_per_model_ms(cpu['main'], corpus_n):.2f}, arena worker "
                f"{_per_model_ms(cpu['worker'], corpus_n):.2f}, every other thread of the "
                f"process: writer, bulk loader, RocksDB "
                f"{_per_model_ms(cpu['process'] - cpu['main'], corpus_n):.2f}); "
                f"{total_cpu / corpus_s:.2f} cores busy of {os.cpu_count()}"
            )
            figures.update(
                {
                    "corpus_cpu_ms_per_model": _per_model_ms(total_cpu, corpus_n),
                    "corpus_main_thread_cpu_ms_per_model": _per_model_ms(cpu["main"], corpus_n),
                    "corpus_worker_cpu_ms_per_model": _per_model_ms(cpu["worker"], corpus_n),
                    "corpus_cores_busy": round(total_cpu / corpus_s, 2),
                }
            )
        figures.update(
            {
                "seed_models_per_s": round(seed_rate, 2),
                "runtime_models_per_s": round(runtime_rate, 2),
                "seed_vs_runtime_ratio": round(seed_ratio, 3),
                "seed_repeats": repeats,
                "seed_vs_runtime_ratio_min": round(min(seed_ratios), 3),
                "seed_vs_runtime_ratio_max": round(max(seed_ratios), 3),
                "corpus_models": corpus_n,
                "corpus_refused": len(corpus_report.refused),
                "corpus_s": round(corpus_s, 3),
                "corpus_models_per_s": round(corpus_rate, 2),
                "corpus_runtime_models_per_s": round(corpus_runtime_rate, 2),
                "corpus_vs_runtime_ratio": round(corpus_rate / corpus_runtime_rate, 3),
            }
        )

        # 2. device bulk load --------------------------------------------------------
        print(f"== device bulk load: {n_devices} synthetic devices")
        nq = tmpdir / "fleet.nq"
        t0 = time.perf_counter()
        triples = write_nquads(nq, n_devices)
        gen_s = time.perf_counter() - t0
        print(f"   generated {triples} quads ({nq.stat().st_size / 1e6:.1f} MB) in {gen_s:.2f} s")
        reg = Registry.open(tmpdir / "fleet")
        try:
            t0 = time.perf_counter()
            reg.store.bulk_load(nq, rdf_format="nq")
            bulk_s = time.perf_counter() - t0
            bulk_rate = triples / bulk_s
            print(f"   bulk_load: {triples} triples in {bulk_s:.2f} s = {bulk_rate:,.0f} triples/s")
            t0 = time.perf_counter()
            counted = _count_devices(reg)
            count_s = time.perf_counter() - t0
            print(f"   COUNT tr:Device = {counted} ({count_s * 1000:.0f} ms)")
            assert counted == n_devices, f"expected {n_devices} devices, store has {counted}"
        finally:
            reg.close()

        # baseline: transactional writes of the first devices, one per transaction
        baseline_name = f"replace_graphs, one transaction per device ({n_baseline} devices)"
        graphs = rdflib_graphs(n_baseline)
        base_triples = sum(len(g) for _, g in graphs)
        base = Registry.open(tmpdir / "fleet-transactional")
        try:
            t0 = time.perf_counter()
            for name, graph in graphs:
                base.store.replace_graphs({name: graph})
            tx_s = time.perf_counter() - t0
            assert _count_devices(base) == n_baseline
        finally:
            base.close()
        tx_rate = base_triples / tx_s if tx_s else 0.0
        ratio = bulk_rate / tx_rate if tx_rate else 0.0
        print(
            f"   baseline {baseline_name}: {base_triples} triples in {tx_s:.2f} s "
            f"= {tx_rate:,.0f} triples/s"
        )
        print(f"   bulk_load vs baseline: {ratio:.1f}x")
        figures.update(
            {
                "devices": n_devices,
                "triples": triples,
                "generate_s": round(gen_s, 3),
                "bulk_load_s": round(bulk_s, 3),
                "bulk_triples_per_s": round(bulk_rate),
                "count_query_ms": round(count_s * 1000, 1),
                "transactional_baseline": "replace_graphs, one transaction per device",
                "transactional_devices": n_baseline,
                "transactional_triples": base_triples,
                "transactional_s": round(tx_s, 3),
                "transactional_triples_per_s": round(tx_rate),
                "bulk_vs_transactional_ratio": round(ratio, 1),
            }
        )

    figures["load_avg_1min_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
