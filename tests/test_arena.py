"""Tests of the arena measurement, checked against the TFLite Micro runtime itself."""

from __future__ import annotations

import dataclasses
import doctest
import importlib.metadata
import importlib.util
import json
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from _paths import KG_DATA, REPO, SEED_MODELS, requires_files, seed_model
from tinyreg.core import arena
from tinyreg.core.arena import (
    ArenaMeasurement,
    RecordedAllocation,
    estimate_32bit_arena,
    measure_arena,
    measure_arena_file,
    parse_allocation_report,
)
from tinyreg.core.errors import ModelFileError
from tinyreg.core.tflite import parse_tflite

# --------------------------------------------------------------------------- seed data

SEED_FILES = sorted(SEED_MODELS.glob("*.tflite")) if SEED_MODELS.is_dir() else []
NOT_RUNNABLE = {"Person_Detection"}
RUNNABLE = [p for p in SEED_FILES if p.stem not in NOT_RUNNABLE]


needs_seed = requires_files(SEED_FILES, SEED_MODELS)


_MEASURED: dict[Path, ArenaMeasurement] = {}


def measured(path: Path) -> ArenaMeasurement:
    if path not in _MEASURED:
        _MEASURED[path] = measure_arena_file(path)
    return _MEASURED[path]


# A separate interpreter process that builds the model at each given arena size and,
# when the runtime accepts it, runs one inference with all-zero inputs. It uses the
# runtime directly, not tinyreg, and its stderr (the runtime's noise) is captured.
_RUNTIME_CHECK = r"""
import json, sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime

data = open(sys.argv[1], "rb").read()
n_inputs = int(sys.argv[2])
outcome = {}
for size in map(int, sys.argv[3:]):
    try:
        interpreter = runtime.Interpreter.from_bytes(data, arena_size=size)
    except RuntimeError:
        outcome[size] = "refused"
        continue
    for i in range(n_inputs):
        details = interpreter.get_input_details(i)
        interpreter.set_input(np.zeros(details["shape"], dtype=details["dtype"]), i)
    interpreter.invoke()
    outcome[size] = "invoked"
print(json.dumps(outcome))
"""


def runtime_outcomes(path: Path, n_inputs: int, sizes: list[int]) -> dict[int, str]:
    done = subprocess.run(
        [sys.executable, "-c", _RUNTIME_CHECK, str(path), str(n_inputs), *map(str, sizes)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {int(k): v for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


# --------------------------------------------------------------------------- seed models


@needs_seed
@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: p.stem)
def test_minimal_arena_is_accepted_and_one_byte_less_is_not(path: Path) -> None:
    m = measured(path)
    assert m.runnable, m.reason
    assert m.reason is None
    assert isinstance(m.arena_bytes, int) and m.arena_bytes > 0
    assert m.recorded_bytes is not None and m.head_bytes is not None and m.tail_bytes is not None
    assert m.head_bytes + m.tail_bytes == m.recorded_bytes <= m.arena_bytes
    assert m.allocations and all(a.count > 0 for a in m.allocations)

    n_inputs = len(parse_tflite(path.read_bytes()).inputs)
    sizes = [m.arena_bytes, m.arena_bytes - 1, m.arena_bytes - 16]
    outcome = runtime_outcomes(path, n_inputs, sizes)
    assert outcome[m.arena_bytes] == "invoked"
    assert outcome[m.arena_bytes - 1] == "refused"
    assert outcome[m.arena_bytes - 16] == "refused"


@needs_seed
def test_person_detection_is_refused_by_the_runtime() -> None:
    m = measured(seed_model("Person_Detection"))
    assert not m.runnable
    assert m.arena_bytes is None and m.recorded_bytes is None
    assert m.arena_bytes_32bit_estimate is None
    assert m.reason is not None and "Hybrid" in m.reason
    lines = m.reason.split("; ")
    assert len(lines) == len(set(lines))  # deduplicated
    assert m.attempts == 1  # not a memory problem: no search


@needs_seed
def test_only_person_detection_is_not_runnable() -> None:
    refused = {p.stem for p in SEED_FILES if not measured(p).runnable}
    assert refused == NOT_RUNNABLE


@needs_seed
def test_hello_world_needs_more_than_the_recorded_total() -> None:
    """Temporary allocations during Prepare need room beyond what AllocateTensors keeps."""
    m = measured(seed_model("Hello_World"))
    assert m.arena_bytes is not None and m.recorded_bytes is not None
    assert m.arena_bytes > m.recorded_bytes


@needs_seed
@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: p.stem)
def test_32bit_estimate(path: Path) -> None:
    m = measured(path)
    assert m.arena_bytes is not None and m.arena_bytes_32bit_estimate is not None
    by_category = {a.category: a for a in m.allocations}
    # Pointer-width savings computed here from the struct layouts: TfLiteEvalTensor 24 -> 12,
    # TfLiteTensor 64 -> 40, TfLiteAffineQuantization 24 -> 12 (one per two allocations),
    # NodeAndRegistration 64 -> 32.
    saving = 0
    for name, per_struct, per_count in (
        ("TfLiteEvalTensor data", 12, 1),
        ("Persistent TfLiteTensor data", 24, 1),
        ("Persistent TfLiteTensor quantization data", 12, 2),
        ("NodeAndRegistration struct", 32, 1),
    ):
        if name in by_category:
            saving += by_category[name].count // per_count * per_struct
    expected = -(-(m.arena_bytes - saving) // 16) * 16
    assert m.arena_bytes_32bit_estimate == expected
    assert m.arena_bytes_32bit_estimate <= m.arena_bytes
    assert m.head_bytes is not None and m.arena_bytes_32bit_estimate > m.head_bytes


@needs_seed
def test_runtime_identity() -> None:
    m = measured(seed_model("Hello_World"))
    assert m.runtime_name == "tflite-micro"
    assert m.runtime_version == importlib.metadata.version("tflite-micro")
    assert m.pointer_bits == struct.calcsize("P") * 8


# --------------------------------------------------------------------------- behaviour


@needs_seed
@pytest.mark.parametrize("isolate", [True, False], ids=["isolated", "in-process"])
def test_measurement_is_silent(capfd: pytest.CaptureFixture[str], isolate: bool) -> None:
    """The runtime's messages on file descriptor 2 never reach the user."""
    capfd.readouterr()
    measure_arena(seed_model("Hello_World").read_bytes(), isolate=isolate)
    measure_arena(seed_model("Person_Detection").read_bytes(), isolate=isolate)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@needs_seed
@pytest.mark.parametrize("stem", ["Hello_World", "Voice_Turn", "Person_Detection"])
def test_in_process_and_isolated_agree(stem: str) -> None:
    data = seed_model(stem).read_bytes()
    here = measure_arena(data, isolate=False)
    isolated = measured(seed_model(stem))
    assert (here.runnable, here.arena_bytes, here.recorded_bytes) == (
        isolated.runnable,
        isolated.arena_bytes,
        isolated.recorded_bytes,
    )
    assert here.reason == isolated.reason


@needs_seed
@pytest.mark.skipif(not arena.CAN_ISOLATE, reason="no os.fork on this platform")
def test_a_runtime_crash_counts_as_a_refusal() -> None:
    """TFLM dereferences a null allocator for tiny arenas; the forked attempt absorbs it."""
    attempt = arena._attempt(seed_model("Hello_World").read_bytes(), 64, isolate=True)
    assert not attempt.accepted
    assert "crashed" in attempt.error


@needs_seed
def test_too_small_maximum_is_reported() -> None:
    m = measure_arena(seed_model("Hello_World").read_bytes(), max_arena=1024)
    assert not m.runnable
    assert m.reason is not None and m.reason.startswith("does not fit in 1024 bytes")


def test_malformed_data_is_refused_before_the_runtime(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError) as caught:
        measure_arena(b"", source="empty.tflite")
    assert caught.value.detail == "file is empty"
    with pytest.raises(ModelFileError):
        measure_arena(b"0123456789abcdef" * 8)
    with pytest.raises(ModelFileError):
        measure_arena_file(tmp_path / "absent.tflite")


@needs_seed
def test_truncated_model_is_refused_before_the_runtime() -> None:
    data = seed_model("ARM_MicroNet_VWW_3").read_bytes()
    with pytest.raises(ModelFileError) as caught:
        measure_arena(data[: len(data) // 2], source="half.tflite")
    assert "truncated" in caught.value.detail


# --------------------------------------------------------------------------- report parsing


def test_parse_allocation_report() -> None:
    text = (
        "[RecordingMicroAllocator] Arena allocation total 1504 bytes\n"
        "[RecordingMicroAllocator] Arena allocation head 32 bytes\n"
        "[RecordingMicroAllocator] Arena allocation tail 1472 bytes\n"
        "[RecordingMicroAllocator] 'TfLiteEvalTensor data' used 240 bytes with alignment "
        "overhead (requested 240 bytes for 10 allocations)\n"
        "[RecordingMicroAllocator] 'NodeAndRegistration struct' used 192 bytes with alignment "
        "overhead (requested 192 bytes for 3 NodeAndRegistration structs)\n"
    )
    total, head, tail, categories = parse_allocation_report(text)
    assert (total, head, tail) == (1504, 32, 1472)
    assert categories == (
        RecordedAllocation("TfLiteEvalTensor data", 240, 240, 10),
        RecordedAllocation("NodeAndRegistration struct", 192, 192, 3),
    )
    # 10 x (24 - 12) + 3 x (64 - 32) = 216 bytes saved, rounded up to 16.
    assert estimate_32bit_arena(1936, categories) == 1728


def test_estimate_leaves_unknown_struct_sizes_alone() -> None:
    odd = RecordedAllocation("TfLiteEvalTensor data", 320, 320, 10)  # 32 B each: not the table
    assert estimate_32bit_arena(1936, [odd]) == 1936


def test_docstring_examples() -> None:
    result = doctest.testmod(arena, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------- fast path


KG_MODEL_FILES = sorted((KG_DATA / "models").glob("*.tflite"))


def _corpus_module() -> ModuleType:
    name = "tinyreg_bench_corpus"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / "corpus.py")
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


def _same(fast: ArenaMeasurement, reference: ArenaMeasurement) -> None:
    """Every field but the attempt count is the same."""
    assert dataclasses.replace(fast, attempts=0) == dataclasses.replace(reference, attempts=0)


@needs_seed
@pytest.mark.parametrize("path", SEED_FILES + KG_MODEL_FILES, ids=lambda p: p.stem)
def test_fast_path_equals_the_bisection(path: Path) -> None:
    """The default (fast) measurement is the reference bisection's, field for field."""
    data = path.read_bytes()
    fast = measure_arena(data, source=str(path))
    _same(fast, measure_arena(data, source=str(path), method="bisect"))
    if fast.runnable:
        assert fast.attempts < 25  # the point of the fast path


@needs_seed
def test_fast_path_equals_the_bisection_on_the_generated_corpus(tmp_path: Path) -> None:
    """The benchmark's corpus (variants of the seed models), 5 variants per seed model.

    The reference runs in-process here (the seed models all pass in-process and
    isolated alike, see ``test_in_process_and_isolated_agree``) to keep the test short.
    """
    paths = _corpus_module().write_corpus(SEED_MODELS, tmp_path, 5 * len(SEED_FILES))
    assert len({p.read_bytes() for p in paths}) == len(paths)
    for path in paths:
        data = path.read_bytes()
        _same(measure_arena(data), measure_arena(data, method="bisect", isolate=False))


@pytest.mark.skipif(not arena.CAN_ISOLATE, reason="no os.fork on this platform")
def test_a_crashed_worker_is_replaced() -> None:
    """A worker that dies (as a runtime crash kills it) costs one fallback, not a failure."""
    data = seed_model("Hello_World").read_bytes()
    first = measure_arena(data)
    worker = arena._WORKER[os.getpid()]
    os.kill(worker.pid, signal.SIGKILL)
    again = measure_arena(data)  # the dead worker is noticed, the model measured isolated
    _same(again, first)
    assert arena._WORKER.get(os.getpid()) is None
    assert measure_arena(data).arena_bytes == first.arena_bytes  # a new worker
    assert arena._WORKER[os.getpid()].pid != worker.pid


@pytest.mark.skipif(not arena.CAN_ISOLATE, reason="no os.fork on this platform")
def test_the_worker_holds_no_inherited_descriptors(tmp_path: Path) -> None:
    """The worker must not keep the parent's files (a store's lock, a socket) open."""
    held = tmp_path / "held"
    with held.open("w"):
        measure_arena(seed_model("Hello_World").read_bytes())
        worker = arena._WORKER[os.getpid()]
        targets = {
            os.readlink(f"/proc/{worker.pid}/fd/{fd}")
            for fd in os.listdir(f"/proc/{worker.pid}/fd")
        }
    assert str(held) not in targets


@needs_seed
@pytest.mark.parametrize("stem", ["Hello_World", "ARM_MicroNet_VWW_3", "Person_Detection"])
def test_the_inference_is_a_check_on_top_that_leaves_the_arena(stem: str) -> None:
    """With ``infer`` one inference runs at the minimal arena; every figure stays the same."""
    data = seed_model(stem).read_bytes()
    built = measure_arena(data)
    inferred = measure_arena(data, infer=True)
    assert not built.inferred
    assert inferred.inferred is built.runnable  # a refused model never reaches Invoke
    _same(dataclasses.replace(inferred, inferred=False), built)


@needs_seed
def test_an_inference_that_fails_makes_the_model_not_runnable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only with ``infer`` is ``Invoke`` called, and its failure is the refusal."""
    from tflite_micro.python.tflite_micro import runtime

    calls: list[int] = []

    def failing(self: object) -> None:
        calls.append(1)
        raise RuntimeError("Node CONV_2D (number 0) failed to invoke with status 1")

    monkeypatch.setattr(runtime.Interpreter, "invoke", failing)
    data = seed_model("Hello_World").read_bytes()
    built = measure_arena(data, isolate=False)
    assert built.runnable and not built.inferred and calls == []
    refused = measure_arena(data, isolate=False, infer=True)
    assert calls == [1]
    assert not refused.runnable and refused.inferred
    assert refused.reason is not None and refused.reason.startswith("inference failed: ")
    assert "failed to invoke" in refused.reason
    assert refused.arena_bytes == built.arena_bytes


@needs_seed
def test_a_pipeline_that_infers_answers_what_measure_arena_answers() -> None:
    paths = [seed_model(s) for s in ("Hello_World", "Magic_Wand_1", "Person_Detection")]
    blobs = [p.read_bytes() for p in paths]
    with arena.ArenaPipeline(infer=True) as arenas:
        for data in blobs:
            arenas.submit(data, parse_tflite(data))
        got = [arenas.next() for _ in blobs]
    assert [m.inferred for m in got] == [True, True, False]
    for data, measured in zip(blobs, got, strict=True):
        _same(measured, measure_arena(data, infer=True))


@needs_seed
def test_the_pipeline_answers_in_order_what_measure_arena_answers() -> None:
    """Every seed and kg_data model sent ahead: the same measurements, in order."""
    paths = SEED_FILES + KG_MODEL_FILES
    blobs = [p.read_bytes() for p in paths]
    with arena.ArenaPipeline() as arenas:
        for data in blobs:
            arenas.submit(data, parse_tflite(data))
        got = [arenas.next() for _ in blobs]
        with pytest.raises(IndexError):
            arenas.next()
    for path, data, measured in zip(paths, blobs, got, strict=True):
        _same(measured, measure_arena(data, source=str(path)))


def _ended(pid: int) -> bool:
    """Whether a child process has ended (reaping it if so)."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # reaped already
    return reaped == pid


@pytest.mark.skipif(not arena.CAN_ISOLATE, reason="no os.fork on this platform")
def test_a_pipeline_borrows_the_process_worker_and_gives_it_back() -> None:
    """An import's pipeline takes the warm worker; measure_arena meanwhile forks another."""
    data = seed_model("Hello_World").read_bytes()
    info = parse_tflite(data)
    expected = measure_arena(data)
    warm = arena._WORKER[os.getpid()]
    with arena.ArenaPipeline() as arenas:
        arenas.submit(data, info)
        assert arenas._worker is warm and os.getpid() not in arena._WORKER
        _same(measure_arena(data), expected)  # not through the borrowed worker
        other = arena._WORKER[os.getpid()]
        assert other.pid != warm.pid
        _same(arenas.next(), expected)
    # the slot was taken meanwhile: the borrowed worker ended, the other one stays
    assert arena._WORKER[os.getpid()] is other and _ended(warm.pid)
    with arena.ArenaPipeline() as arenas:
        arenas.submit(data, info)
        _same(arenas.next(), expected)
        assert arenas._worker is other
    assert arena._WORKER[os.getpid()] is other and not _ended(other.pid)  # given back
    _same(measure_arena(data), expected)


@pytest.mark.skipif(not arena.CAN_ISOLATE, reason="no os.fork on this platform")
def test_a_pipeline_closed_with_work_unread_ends_its_worker() -> None:
    """A worker still measuring what nobody will read is killed, never handed on."""
    blobs = [seed_model(n).read_bytes() for n in ("Hello_World", "Magic_Wand_1", "Move")]
    measure_arena(blobs[0])
    warm = arena._WORKER[os.getpid()]
    with arena.ArenaPipeline() as arenas:
        for data in blobs:
            arenas.submit(data, parse_tflite(data))
        arenas.next()
    assert os.getpid() not in arena._WORKER and _ended(warm.pid)
    _same(measure_arena(blobs[2]), measure_arena(blobs[2], isolate=False))  # a new worker
    assert arena._WORKER[os.getpid()].pid != warm.pid


@pytest.mark.skipif(not arena.CAN_ISOLATE, reason="no os.fork on this platform")
def test_a_pipeline_whose_worker_dies_measures_the_rest_again() -> None:
    """Models in flight when the worker dies are measured again, none lost or mixed up."""
    names = ["Hello_World", "Magic_Wand_1", "Person_Detection", "Move"]
    blobs = [seed_model(n).read_bytes() for n in names]
    with arena.ArenaPipeline() as arenas:
        arenas.submit(blobs[0], parse_tflite(blobs[0]))
        first = arenas.next()
        worker = arenas._worker
        assert worker is not None
        os.kill(worker.pid, signal.SIGKILL)
        for data in blobs[1:]:
            arenas.submit(data, parse_tflite(data))
        rest = [arenas.next() for _ in blobs[1:]]
    for data, measured in zip(blobs, [first, *rest], strict=True):
        _same(measured, measure_arena(data))
