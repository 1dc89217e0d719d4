"""Target benchmarks: a registered model run by the firmware on an emulated core, in the graph.

:func:`bench_registered_target` checks that the bytes are the registered model's, runs them
with :func:`tinyreg.firmware.target.bench_target` (the agent's bench mode in QEMU) and writes a
``tr:TargetBenchmark`` (a ``prov:Activity`` whose ``tr:benchmarkOf`` is the model) into its own
named graph, ``https://w3id.org/tinyreg/benchmark/target/<target>/<model id>``, beside the
model's host benchmark; measuring again replaces that graph in one transaction.

Figures kept: ``tr:arenaBytes`` (the minimal arena on the 32-bit target, ``tr:pointerBits``
32), ``tr:initInstructions`` and ``tr:inferenceInstructions`` (guest **instructions, not
cycles**: QEMU ``-icount shift=0`` counted with SysTick), ``tr:firmwareBytes`` (the firmware
image; ``code_bytes`` in JSON), ``tr:outputSha256`` (the outputs for the zero-point input),
the ``tr:target`` and its ``tr:coreFamily``, the firmware's ``tr:tflmCommit`` and
``tr:toolchain``, and the SHA-256 of the bytes measured (``tr:sha256``).

A model the firmware refuses (an operator it does not register, a mangled flatbuffer, an arena
over the budget, a model the runtime refuses) raises :class:`BenchmarkError` with the agent's
refusal code and reason, and **nothing is stored**: a target benchmark in the graph is always
a measurement, and the previous one (if any) is left as it was.

>>> target_benchmark_iri("https://w3id.org/tinyreg/model/kws", "qemu-mps2-an386")
'https://w3id.org/tinyreg/benchmark/target/qemu-mps2-an386/kws'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rdflib import RDF, XSD, Graph, Literal, URIRef

from tinyreg.core.errors import BenchmarkError
from tinyreg.core.namespaces import MODEL_PREFIX, TARGET_BENCHMARK_PREFIX, TR
from tinyreg.core.queries import load_query
from tinyreg.core.stores import GraphStore
from tinyreg.firmware.target import TARGETS, TargetBenchmark, bench_target, toolchain_version
from tinyreg.registry.bench import registered_sha256

__all__ = [
    "INSTRUCTION_NOTE",
    "StoredTargetBenchmark",
    "bench_registered_target",
    "list_target_benchmarks",
    "store_target_benchmark",
    "target_benchmark_graph",
    "target_benchmark_iri",
]

INSTRUCTION_NOTE = "instructions, not cycles (QEMU -icount shift=0, counted with SysTick)"
"""What the instruction counts are, said by every output that shows them."""


@dataclass(frozen=True)
class StoredTargetBenchmark:
    """A target benchmark of a registered model, as kept in the graph.

    Attributes:
        model: The model's IRI.
        sha256: SHA-256 of the bytes measured.
        target: The emulated board (a key of :data:`tinyreg.firmware.target.TARGETS`).
        core_family: The target's core family (``cortex-m4``, ``cortex-m55``).
        arena_bytes: Minimal tensor arena the runtime accepts on the 32-bit target.
        init_instructions: Instructions (not cycles) to build the interpreter.
        inference_instructions: Instructions (not cycles) of one inference.
        code_bytes: Flash of the firmware image.
        output_sha256: SHA-256 of all outputs for the zero-point input.
        tflm_commit: The TFLM commit the firmware is built from.
        toolchain: The compiler that built the firmware.
        measured_at: When the measurement ended (UTC).

    """

    model: str
    sha256: str
    target: str
    core_family: str
    arena_bytes: int
    init_instructions: int
    inference_instructions: int
    code_bytes: int
    output_sha256: str
    tflm_commit: str
    toolchain: str
    measured_at: datetime

    @property
    def iri(self) -> str:
        """The IRI of the benchmark (and of its named graph)."""
        return target_benchmark_iri(self.model, self.target)

    def to_dict(self) -> dict[str, Any]:
        """The measurement as JSON-ready data, with ``instruction_counts`` saying what they are."""
        return {
            "model": self.model,
            "sha256": self.sha256,
            "target": self.target,
            "core_family": self.core_family,
            "arena_bytes": self.arena_bytes,
            "pointer_bits": 32,
            "init_instructions": self.init_instructions,
            "inference_instructions": self.inference_instructions,
            "instruction_counts": INSTRUCTION_NOTE,
            "code_bytes": self.code_bytes,
            "output_sha256": self.output_sha256,
            "tflm_commit": self.tflm_commit,
            "toolchain": self.toolchain,
            "measured_at": self.measured_at.isoformat(),
        }


def target_benchmark_iri(model: str, target: str) -> str:
    """The IRI of a model's benchmark on a target (and of its named graph)."""
    if model.startswith(MODEL_PREFIX) and "/" not in model[len(MODEL_PREFIX) :]:
        tail = model[len(MODEL_PREFIX) :]
    else:
        tail = "iri-" + hashlib.sha256(model.encode()).hexdigest()[:16]
    return f"{TARGET_BENCHMARK_PREFIX}{target}/{tail}"


def target_benchmark_graph(bench: StoredTargetBenchmark) -> tuple[str, Graph]:
    """The RDF of a target measurement, and the name of its graph (the benchmark's IRI)."""
    node = URIRef(bench.iri)
    g = Graph()

    def integer(value: int) -> Literal:
        return Literal(value, datatype=XSD.integer)

    g.add((node, RDF.type, TR.TargetBenchmark))
    g.add((node, TR.benchmarkOf, URIRef(bench.model)))
    g.add((node, TR.sha256, Literal(bench.sha256)))
    g.add((node, TR.target, Literal(bench.target)))
    g.add((node, TR.coreFamily, Literal(bench.core_family)))
    g.add((node, TR.arenaBytes, integer(bench.arena_bytes)))
    g.add((node, TR.pointerBits, integer(32)))
    g.add((node, TR.initInstructions, integer(bench.init_instructions)))
    g.add((node, TR.inferenceInstructions, integer(bench.inference_instructions)))
    g.add((node, TR.firmwareBytes, integer(bench.code_bytes)))
    g.add((node, TR.outputSha256, Literal(bench.output_sha256)))
    g.add((node, TR.tflmCommit, Literal(bench.tflm_commit)))
    g.add((node, TR.toolchain, Literal(bench.toolchain)))
    g.add((node, TR.measuredAt, Literal(bench.measured_at.isoformat(), datatype=XSD.dateTime)))
    return str(node), g


def store_target_benchmark(store: GraphStore, bench: StoredTargetBenchmark) -> str:
    """Write a target measurement into its named graph, replacing the previous one atomically.

    Returns:
        The benchmark's IRI.

    Raises:
        ValidationError: If the description violates ``trsh:TargetBenchmarkShape``.

    """
    from tinyreg.registry.validate import validate

    name, graph = target_benchmark_graph(bench)
    validate(graph, name)
    store.replace_graph(name, graph)
    return name


def bench_registered_target(
    store: GraphStore,
    model_iri: str,
    data: bytes,
    target: str,
    *,
    label: str | None = None,
) -> StoredTargetBenchmark:
    """Run a registered model on an emulated target and store the result in the graph.

    Args:
        store: The registry's store.
        model_iri: The model's IRI.
        data: The model's ``.tflite`` bytes: they must be the registered ones (same SHA-256).
        target: One of :data:`tinyreg.firmware.target.TARGETS`.
        label: The model's name in errors (default: its IRI).

    Returns:
        The measurement, as stored.

    Raises:
        NotFoundError: If the model is not registered.
        BenchmarkError: If the bytes are not the registered model's, or the firmware refuses
            the model (the detail starts with the agent's refusal code); nothing is stored.
        ConfigError: If the target is unknown, or the firmware or QEMU is not available.

    """
    name = label or model_iri
    expected = registered_sha256(store, model_iri)
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise BenchmarkError(
            name,
            f"the file's SHA-256 {actual[:12]}… differs from the registered model's "
            f"{expected[:12]}…; register the file again or give the registered one",
        )
    measured: TargetBenchmark = bench_target(data, target, label=name)
    bench = StoredTargetBenchmark(
        model=model_iri,
        sha256=actual,
        target=target,
        core_family=TARGETS[target].family,
        arena_bytes=measured.arena_bytes,
        init_instructions=measured.init_instructions,
        inference_instructions=measured.inference_instructions,
        code_bytes=measured.code_bytes,
        output_sha256=measured.output_sha256,
        tflm_commit=measured.tflm_commit,
        toolchain=toolchain_version(),
        measured_at=datetime.now(UTC),
    )
    store_target_benchmark(store, bench)
    return bench


def list_target_benchmarks(
    store: GraphStore, model_iri: str | None = None
) -> list[StoredTargetBenchmark]:
    """The stored target benchmarks of registered models (of their current bytes).

    Args:
        store: The registry's store.
        model_iri: Only this model's benchmarks.

    """
    bindings = {"model": URIRef(model_iri)} if model_iri else None
    rows = store.select_values(load_query("tinyreg.registry", "target_benchmarks"), bindings)
    return [
        StoredTargetBenchmark(
            model=str(row.get("model", model_iri)),
            sha256=str(row["sha256"]),
            target=str(row["target"]),
            core_family=str(row["coreFamily"]),
            arena_bytes=int(row["arena"]),
            init_instructions=int(row["initInstructions"]),
            inference_instructions=int(row["inferenceInstructions"]),
            code_bytes=int(row["codeBytes"]),
            output_sha256=str(row["outputSha256"]),
            tflm_commit=str(row["tflmCommit"]),
            toolchain=str(row["toolchain"]),
            measured_at=datetime.fromisoformat(str(row["measuredAt"])),
        )
        for row in rows
    ]
