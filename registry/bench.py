"""Host benchmarks: time a model on the real TFLite Micro runtime, keep the figures in the graph.

:func:`measure_host` measures one ``.tflite`` with the interpreter of the installed
``tflite-micro`` wheel, the runtime that measured the registered arena:

1. The minimal arena, found by :func:`tinyreg.core.arena.measure_arena` (each attempt
   in a forked child). A model the runtime refuses raises :class:`BenchmarkError` with the
   runtime's own reason.
2. Load time: building the interpreter at exactly that arena
   (``Interpreter.from_bytes(data, arena_size=arena)``, which parses the model, runs every
   kernel's ``Init``/``Prepare`` and plans the arena), ``load_runs`` times; the median counts.
3. Invoke time: random inputs of each input tensor's dtype and shape (seeded, so a run can
   be repeated on the same data: integers uniform over the dtype's range, floats uniform in
   [-1, 1)), one untimed warm-up inference, then ``runs`` timed inferences, each with fresh
   inputs set before the clock starts; the median, fastest and slowest are kept.

Times are :func:`time.perf_counter_ns` around the runtime call, in milliseconds rounded to
the nanosecond. They are host figures (this machine's CPU running TFLM's reference and
optimised-for-x86 kernels), not a microcontroller's: the matchmaker's estimate per board
(MACs × cycles per MAC ÷ clock) is the figure for a board; a report shows both.

:func:`store_benchmark` writes the result as a ``tr:HostBenchmark`` (a ``prov:Activity``
whose ``tr:benchmarkOf`` is the model) into its own named graph,
``https://w3id.org/tinyreg/benchmark/host/<model id>``; measuring the model again replaces
that graph in one transaction. The benchmark carries the SHA-256 of the bytes measured, and
:func:`list_benchmarks` returns only measurements of the bytes registered now.

>>> from tinyreg.core.stores import OxigraphStore
>>> with OxigraphStore(None) as store:
...     list_benchmarks(store)
[]
"""

from __future__ import annotations

import hashlib
import platform
import statistics
import struct
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import RDF, XSD, Graph, Literal, URIRef

from tinyreg.core.errors import BenchmarkError, NotFoundError
from tinyreg.core.namespaces import BENCHMARK_PREFIX, MODEL_PREFIX, TR
from tinyreg.core.queries import load_query
from tinyreg.core.stores import GraphStore

if TYPE_CHECKING:
    import numpy as np

    from tinyreg.core.tflite import ModelInfo

__all__ = [
    "DEFAULT_LOAD_RUNS",
    "DEFAULT_RUNS",
    "HostBenchmark",
    "bench_registered",
    "benchmark_graph",
    "benchmark_iri",
    "list_benchmarks",
    "measure_host",
    "random_input",
    "registered_sha256",
    "store_benchmark",
]

DEFAULT_RUNS = 50
"""Timed inferences per measurement."""

DEFAULT_LOAD_RUNS = 5
"""Interpreter builds per measurement."""

_MS_DIGITS = 6  # milliseconds rounded to the nanosecond


@dataclass(frozen=True)
class HostBenchmark:
    """One measurement of a model with the TFLite Micro runtime on the host.

    Attributes:
        model: The model's IRI (or a label when the bytes are not a registered model).
        sha256: SHA-256 of the bytes measured.
        arena_bytes: Minimal tensor arena the runtime accepts, in bytes.
        load_ms: Median time to build the interpreter at that arena, in milliseconds.
        invoke_median_ms: Median time of one inference, in milliseconds.
        invoke_min_ms: Fastest timed inference, in milliseconds.
        invoke_max_ms: Slowest timed inference, in milliseconds.
        runs: Number of timed inferences.
        measured_at: When the measurement ended (UTC).
        runtime_name: ``"tflite-micro"``.
        runtime_version: The installed ``tflite-micro`` version.
        host_machine: The measuring machine (architecture, system, processor).
        pointer_bits: Pointer width of the host (arena figures depend on it).
        input_seed: Seed of the random inputs.

    """

    model: str
    sha256: str
    arena_bytes: int
    load_ms: float
    invoke_median_ms: float
    invoke_min_ms: float
    invoke_max_ms: float
    runs: int
    measured_at: datetime
    runtime_name: str
    runtime_version: str
    host_machine: str
    pointer_bits: int
    input_seed: int

    @property
    def iri(self) -> str:
        """The IRI of the benchmark (and of its named graph)."""
        return benchmark_iri(self.model)

    def to_dict(self) -> dict[str, Any]:
        """The measurement as JSON-ready data (the time as ISO 8601)."""
        data = asdict(self)
        data["measured_at"] = self.measured_at.isoformat()
        return data


def benchmark_iri(model: str) -> str:
    """The IRI of a model's host benchmark.

    >>> benchmark_iri("https://w3id.org/tinyreg/model/hello-world")
    'https://w3id.org/tinyreg/benchmark/host/hello-world'
    """
    if model.startswith(MODEL_PREFIX) and "/" not in model[len(MODEL_PREFIX) :]:
        return BENCHMARK_PREFIX + model[len(MODEL_PREFIX) :]
    return BENCHMARK_PREFIX + "iri-" + hashlib.sha256(model.encode()).hexdigest()[:16]


def _host_machine() -> str:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    parts = [platform.machine(), platform.system(), cpu or platform.processor()]
    return " ".join(p for p in parts if p)


def random_input(rng: np.random.Generator, shape: Iterable[int], dtype: Any) -> np.ndarray:
    """Random data for one input tensor.

    Integers are uniform over the dtype's whole range, booleans fair coin flips, floats
    uniform in [-1, 1).

    >>> import numpy as np
    >>> x = random_input(np.random.default_rng(0), (1, 4), np.int8)
    >>> x.shape, x.dtype
    ((1, 4), dtype('int8'))
    """
    import numpy as np

    kind = np.dtype(dtype)
    dims = tuple(int(d) for d in shape)
    if kind == np.bool_:
        return rng.integers(0, 2, size=dims).astype(np.bool_)
    if np.issubdtype(kind, np.integer):
        limits = np.iinfo(kind)
        return rng.integers(int(limits.min), int(limits.max), size=dims, endpoint=True, dtype=kind)
    return rng.uniform(-1.0, 1.0, size=dims).astype(kind)


def _ms(nanoseconds: float) -> float:
    return round(nanoseconds / 1e6, _MS_DIGITS)


def measure_host(
    data: bytes,
    *,
    model: str = "<bytes>",
    runs: int = DEFAULT_RUNS,
    load_runs: int = DEFAULT_LOAD_RUNS,
    seed: int = 0,
    info: ModelInfo | None = None,
) -> HostBenchmark:
    """Measure a model's minimal arena, load time and invoke time on the host.

    Args:
        data: The ``.tflite`` bytes.
        model: The model's IRI (kept in the result) or a label for messages.
        runs: Timed inferences (at least 1).
        load_runs: Timed interpreter builds (at least 1).
        seed: Seed of the random inputs.
        info: The parsed model, to skip parsing again.

    Returns:
        The measurement.

    Raises:
        ModelFileError: ``data`` is not a valid TFLite model.
        BenchmarkError: The runtime refuses the model, or fails while timing it.

    """
    import numpy as np

    from tinyreg.core.arena import measure_arena
    from tinyreg.core.tflite import parse_tflite

    if runs < 1 or load_runs < 1:
        raise BenchmarkError(model, "runs and load_runs must be at least 1")
    if info is None:
        info = parse_tflite(data, source=model)
    arena = measure_arena(data, source=model, info=info)
    if not arena.runnable or arena.arena_bytes is None:
        raise BenchmarkError(model, arena.reason or "the runtime refuses the model")
    from tflite_micro.python.tflite_micro import runtime

    loads: list[int] = []
    interpreter: Any = None
    try:
        for _ in range(load_runs):
            interpreter = None  # free the previous interpreter before timing the next one
            start = time.perf_counter_ns()
            interpreter = runtime.Interpreter.from_bytes(data, arena_size=arena.arena_bytes)
            loads.append(time.perf_counter_ns() - start)
        details = [interpreter.get_input_details(i) for i in range(len(info.inputs))]
        rng = np.random.default_rng(seed)
        invokes: list[int] = []
        for run in range(runs + 1):
            for index, detail in enumerate(details):
                interpreter.set_input(random_input(rng, detail["shape"], detail["dtype"]), index)
            start = time.perf_counter_ns()
            interpreter.invoke()
            elapsed = time.perf_counter_ns() - start
            if run:  # the first inference is a warm-up
                invokes.append(elapsed)
    except RuntimeError as exc:
        raise BenchmarkError(model, f"the runtime failed: {exc}") from exc
    return HostBenchmark(
        model=model,
        sha256=info.sha256,
        arena_bytes=arena.arena_bytes,
        load_ms=_ms(statistics.median(loads)),
        invoke_median_ms=_ms(statistics.median(invokes)),
        invoke_min_ms=_ms(min(invokes)),
        invoke_max_ms=_ms(max(invokes)),
        runs=runs,
        measured_at=datetime.now(UTC),
        runtime_name=arena.runtime_name,
        runtime_version=arena.runtime_version,
        host_machine=_host_machine(),
        pointer_bits=struct.calcsize("P") * 8,
        input_seed=seed,
    )


def _decimal(value: float) -> Literal:
    return Literal(Decimal(f"{value:.{_MS_DIGITS}f}"), datatype=XSD.decimal)


def benchmark_graph(bench: HostBenchmark) -> tuple[str, Graph]:
    """The RDF of a measurement, and the name of its graph (the benchmark's IRI)."""
    node = URIRef(bench.iri)
    g = Graph()
    g.add((node, RDF.type, TR.HostBenchmark))
    g.add((node, TR.benchmarkOf, URIRef(bench.model)))
    g.add((node, TR.sha256, Literal(bench.sha256)))
    g.add((node, TR.arenaBytes, Literal(bench.arena_bytes, datatype=XSD.integer)))
    g.add((node, TR.loadMs, _decimal(bench.load_ms)))
    g.add((node, TR.invokeMedianMs, _decimal(bench.invoke_median_ms)))
    g.add((node, TR.invokeMinMs, _decimal(bench.invoke_min_ms)))
    g.add((node, TR.invokeMaxMs, _decimal(bench.invoke_max_ms)))
    g.add((node, TR.runs, Literal(bench.runs, datatype=XSD.integer)))
    g.add((node, TR.measuredAt, Literal(bench.measured_at.isoformat(), datatype=XSD.dateTime)))
    g.add((node, TR.runtimeName, Literal(bench.runtime_name)))
    g.add((node, TR.runtimeVersion, Literal(bench.runtime_version)))
    g.add((node, TR.hostMachine, Literal(bench.host_machine)))
    g.add((node, TR.pointerBits, Literal(bench.pointer_bits, datatype=XSD.integer)))
    g.add((node, TR.inputSeed, Literal(bench.input_seed, datatype=XSD.integer)))
    return str(node), g


def store_benchmark(store: GraphStore, bench: HostBenchmark) -> str:
    """Write a measurement into its named graph, replacing the previous one atomically.

    Returns:
        The benchmark's IRI.

    """
    name, graph = benchmark_graph(bench)
    store.replace_graph(name, graph)
    return name


def registered_sha256(store: GraphStore, model_iri: str) -> str:
    """The SHA-256 of a registered model's bytes.

    Raises:
        NotFoundError: If no model has that IRI.

    """
    rows = store.select_values(
        load_query("tinyreg.registry", "model_sha256"), {"model": URIRef(model_iri)}
    )
    if not rows:
        raise NotFoundError("model", model_iri)
    return str(rows[0]["sha256"])


def bench_registered(
    store: GraphStore,
    model_iri: str,
    data: bytes,
    *,
    runs: int = DEFAULT_RUNS,
    load_runs: int = DEFAULT_LOAD_RUNS,
    seed: int = 0,
) -> HostBenchmark:
    """Measure a registered model on the host and store the result in the graph.

    Args:
        store: The registry's store.
        model_iri: The model's IRI.
        data: The model's ``.tflite`` bytes: they must be the registered ones (same SHA-256).
        runs: Timed inferences.
        load_runs: Timed interpreter builds.
        seed: Seed of the random inputs.

    Returns:
        The measurement, as stored.

    Raises:
        NotFoundError: If the model is not registered.
        BenchmarkError: If the bytes are not the registered model's, or the runtime
            refuses the model.

    """
    expected = registered_sha256(store, model_iri)
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise BenchmarkError(
            model_iri,
            f"the file's SHA-256 {actual[:12]}… differs from the registered model's "
            f"{expected[:12]}…; register the file again or give the registered one",
        )
    bench = measure_host(data, model=model_iri, runs=runs, load_runs=load_runs, seed=seed)
    store_benchmark(store, bench)
    return bench


def list_benchmarks(store: GraphStore, model_iri: str | None = None) -> list[HostBenchmark]:
    """The stored host benchmarks of registered models (of their current bytes), by model.

    Args:
        store: The registry's store.
        model_iri: Only this model's benchmark.

    """
    bindings = {"model": URIRef(model_iri)} if model_iri else None
    rows = store.select_values(load_query("tinyreg.registry", "host_benchmarks"), bindings)
    out = []
    for row in rows:
        measured = datetime.fromisoformat(str(row["measuredAt"]))
        out.append(
            HostBenchmark(
                model=str(row.get("model", model_iri)),
                sha256=str(row["sha256"]),
                arena_bytes=int(row["arena"]),
                load_ms=float(row["loadMs"]),
                invoke_median_ms=float(row["invokeMedianMs"]),
                invoke_min_ms=float(row["invokeMinMs"]),
                invoke_max_ms=float(row["invokeMaxMs"]),
                runs=int(row["runs"]),
                measured_at=measured,
                runtime_name=str(row["runtimeName"]),
                runtime_version=str(row["runtimeVersion"]),
                host_machine=str(row["hostMachine"]),
                pointer_bits=int(row["pointerBits"]),
                input_seed=int(row["inputSeed"]),
            )
        )
    return out
