"""Mangled models against the whole registry: ingest, then check, report and SPARQL sums.

Each mutant of a real seed model is either refused with a :class:`ModelFileError` (or
registered as not runnable, with the runtime's reason) or registered with figures the graph
and its consumers can hold; afterwards, whole-graph operations still work.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from _paths import seed_model
from tinyreg.core.errors import TinyregError
from tinyreg.core.tflite import MAX_MACS
from tinyreg.registry import DeploymentRecord, Registry
from tinyreg.registry.reasoning import owl_consistency
from tinyreg.registry.report import write_report

STEMS = ("Hello_World", "Magic_Wand_2", "Micro_Speech_Yes_No_2", "Anomaly_Detection_Autoencoder")


def _flip_bits(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(8, len(data))]


def _zero_region(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    start = rng.randrange(len(out))
    end = min(len(out), start + rng.randint(4, 256))
    out[start:end] = bytes(end - start)
    return bytes(out)


def _offsets_out_of_range(data: bytes, rng: random.Random) -> bytes:
    """Overwrite a 32-bit word (flatbuffer offsets are uint32) with a huge or wild value."""
    out = bytearray(data)
    i = rng.randrange(0, len(out) - 4) & ~3
    out[i : i + 4] = struct.pack("<I", rng.choice([0xFFFFFFFF, 0x7FFFFFFF, len(out) * 3]))
    return bytes(out)


def _repack(model: fb.ModelT) -> bytes:
    import flatbuffers

    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _huge_shape(data: bytes, rng: random.Random) -> bytes:
    model = fb.ModelT.InitFromPackedBuf(bytearray(data), 0)
    tensor = rng.choice(model.subgraphs[0].tensors)
    tensor.shape = [rng.choice([65536, 2**20, 2**31 - 1]) for _ in range(rng.randint(1, 4))]
    return _repack(model)


def _length(data: object) -> int:
    return 0 if data is None else len(data)  # type: ignore[arg-type]


def _inconsistent_buffer(data: bytes, rng: random.Random) -> bytes:
    model = fb.ModelT.InitFromPackedBuf(bytearray(data), 0)
    buffers = model.buffers
    holders = [
        t for t in model.subgraphs[0].tensors if t.buffer and _length(buffers[t.buffer].data) > 3
    ]
    tensor = rng.choice(holders)
    buffers[tensor.buffer].data = buffers[tensor.buffer].data[: rng.randint(1, 3)]
    return _repack(model)


MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "bit flips": _flip_bits,
    "truncation": _truncate,
    "zeroed region": _zero_region,
    "offset out of range": _offsets_out_of_range,
    "huge declared shape": _huge_shape,
    "inconsistent buffer": _inconsistent_buffer,
}


@pytest.fixture(scope="module")
def hostile_registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[Registry, dict[str, int]]:
    registry = Registry.open(tmp_path_factory.mktemp("hostile") / "store")
    outcomes = {"refused": 0, "registered": 0}
    rng = random.Random(20261206)
    for stem in STEMS:
        data = seed_model(stem).read_bytes()
        registry.add_model(data, ident=f"{stem.lower().replace('_', '-')}-original")
        for name, mutate in MUTATIONS.items():
            for k in range(3):
                mutant = mutate(data, rng)
                ident = f"{stem.lower().replace('_', '-')}-{name.replace(' ', '-')}-{k}"
                try:
                    registry.add_model(mutant, ident=ident)
                except TinyregError:
                    outcomes["refused"] += 1
                else:
                    outcomes["registered"] += 1
    return registry, outcomes


def test_every_mutant_is_refused_or_registered_within_bounds(
    hostile_registry: tuple[Registry, dict[str, int]],
) -> None:
    registry, outcomes = hostile_registry
    assert outcomes["refused"] + outcomes["registered"] == len(STEMS) * len(MUTATIONS) * 3
    assert outcomes["refused"] > 0
    for model in registry.list_models():
        assert model.macs is None or 0 <= model.macs <= MAX_MACS, model.id
        assert model.flash_bytes is None or model.flash_bytes < 2**31, model.id


def test_whole_graph_operations_survive_the_mutants(
    hostile_registry: tuple[Registry, dict[str, int]], tmp_path: Path
) -> None:
    registry, _ = hostile_registry
    assert registry.check() == []
    rows = registry.query(
        "PREFIX tr: <https://w3id.org/tinyreg#> "
        "SELECT (SUM(?m) AS ?macs) (COUNT(?x) AS ?n) WHERE { ?x a tr:Model ; tr:macs ?m }"
    ).rows
    assert int(rows[0]["n"]) == len(registry.list_models())
    assert int(rows[0]["macs"]) >= 0
    files = write_report(registry, tmp_path / "report")
    assert files.html.is_file() and files.html.stat().st_size > 0


def test_owl_check_passes_after_timestamps_with_microseconds(
    hostile_registry: tuple[Registry, dict[str, int]],
) -> None:
    registry, _ = hostile_registry
    now = datetime.now(UTC).replace(microsecond=954994)
    registry.record_deployment(
        DeploymentRecord(
            id="0" * 32,
            model="hello-world-original",
            model_version="1",
            device="urn:tinyreg:device:nowhere",
            agent="test",
            started=now,
            ended=now,
            outcome="refused",
            reason="no such device",
            deploy_ms=None,
            load_ms=None,
            inference_ms=None,
            arena_used_bytes=None,
        )
    )
    outcome = owl_consistency(registry.graph())
    assert outcome.ran, outcome.detail
    assert outcome.consistent, outcome.detail
