"""Measure the tensor arena a model needs, with the real TFLite Micro runtime.

:func:`measure_arena` builds the model with the interpreter of the installed
``tflite-micro`` wheel (``runtime.Interpreter.from_bytes(data, arena_size=n)``)
at different arena sizes and finds the smallest size the runtime accepts, exact
to the byte:

1. Try a generous arena, ``max(10 × model size, 1 MiB)``; while that fails for
   lack of memory, quadruple it, up to 64 MiB. A failure that is not about
   memory (an unsupported operator or type) ends the measurement at once: the
   model is not runnable and :attr:`ArenaMeasurement.reason` holds the
   runtime's own messages.
2. Read the allocation total the ``RecordingMicroAllocator`` reports at that
   size. No smaller arena can hold it (up to a few bytes of alignment: the
   persistent allocations are aligned down from the arena's end, so the total
   varies slightly with the size), so the search starts 64 bytes below it and
   gallops upwards (+1, +2, +4, ... bytes) until a size is accepted, then
   bisects. Finally it confirms that one byte less is refused; if that size is
   accepted after all, the range further down is searched too (all of it when
   attempts are isolated, down to half the size in-process, where tiny arenas
   would crash the runtime).
3. At the minimal size build the interpreter once more and keep the
   ``print_allocations()`` report. With ``infer=True`` that build also runs one
   inference with all-zero inputs (a model whose ``Invoke`` fails is reported not
   runnable); by default it does not, and ``runnable`` says that the runtime builds
   the model: ``Invoke`` takes no arena memory (kernels ask for their scratch
   buffers in ``Prepare``), so the arena found is the same either way. The
   inference is the costly part (on the reference kernels of the ``tflite-micro``
   wheel, ~3 ms for a model of the benchmarks' corpus against ~0.2 ms for all its
   builds); devices run one before they commit a model (the OTA self-test).

Fast path (the default, ``method="fast"``):
    The same search answers with about a tenth of the builds' cost, and is checked
    against the reference (``method="bisect"``, the steps above with every attempt
    through the wrapper's public constructor) on every seed and ``kg_data`` model and
    on the ingest benchmark's generated corpus (``tests/test_arena.py``):

    * The public ``Interpreter.from_bytes`` unpacks the whole flatbuffer into Python
      objects on every build to count the model's resource variables
      (``count_resource_variables``): 80 % or more of a build. The fast path counts
      them once per model (0 without a ``VAR_HANDLE`` operator, else the wrapper's
      own function) and builds the C++ ``InterpreterWrapper`` with the arguments the
      public constructor passes it.
    * Attempts run in one long-lived forked worker process, in-process there,
      instead of one fork per attempt; a fork of a process that has loaded rdflib,
      pySHACL and a store costs more than a build. If the runtime crashes in the
      worker, the model is measured again with every attempt in its own child (a
      crash then only refuses one size) and the next model gets a new worker. The
      worker closes every inherited file descriptor except its two pipes.
    * The search starts at the recorded total: it is tried (with the report, and
      the zero-input inference when asked for, so the final build is saved when it
      is the minimum) and one byte less; when that is accepted too the search steps
      down by the alignment, doubling, and bisects; when the total is refused it
      steps up by the bytes the runtime says are missing (at least 1, doubling) and
      bisects.
      About 3 to 9 builds per model for the seed models instead of 13 to 22.

Isolation:
    TFLite Micro does not fail cleanly at every arena size: below about the
    size of the persistent "tail" the process can die with ``SIGSEGV`` (some
    kernels use what a failed persistent allocation returned without checking
    it); this happens with several seed models, e.g. at 63063 B for
    ARM_MicroNet_VWW_3, and below about 512 B for every model. A hostile or
    unusual model can crash the runtime at any size. Each attempt therefore
    runs in a forked child process (about 8 ms per attempt here); a crash
    counts as a refusal and never takes the caller down. Where ``os.fork`` is
    not available (Windows), or with ``isolate=False``, attempts run
    in-process.

Output capture:
    The C++ runtime writes its messages to the C-level standard error (file
    descriptor 2), not to :data:`sys.stderr`. During each attempt fd 2 is
    redirected (``os.dup``/``os.dup2``) to a temporary file, so the search's
    noise never reaches the user, and what the attempt wrote is read back for
    :attr:`ArenaMeasurement.reason` and for the allocation report. In a forked
    child only the child's fd 2 is redirected. In-process, the redirection is
    process-wide for the duration of an attempt (output other threads write to
    fd 2 meanwhile is swallowed); measurements are serialised by a lock. All 23
    seed models take about 3 s together isolated, under 1 s in-process.

Observed facts (tflite-micro 0.dev20261023182759, x86-64 Linux):

* The minimal arena can be larger than the recorded allocation total.
  Hello_World needs 1936 B while the recorder reports 1504 B in use after
  ``AllocateTensors``: kernels take temporary ``TfLiteTensor`` structs during
  ``Prepare`` and the memory planner takes scratch space while it plans, and
  that memory is released before the report. In 18 of the 22 runnable seed
  models the two figures coincide, presumably because the temporaries fit in
  the space the activation buffers take later. The minimal arena, not the
  recorded total, is the figure to provision.
* ``Person_Detection.tflite`` is refused with ``Hybrid models are not
  supported on TFLite Micro.`` (from ``kernels/conv_common.cc``). By its tensor
  types the model is a legacy uint8-quantized model (uint8 activations and
  uint8 weights), not a float/int8 hybrid: TFLM's convolution ``Prepare``
  accepts only float32/float32, int8/int8, int8/int4 and int16/int8
  (activation/weight) pairs and words every other pair as "hybrid". The reason
  reported is the runtime's message, verbatim.
* The wrapper allocates the arena with ``new[]`` (16-byte aligned here) and
  TFLM aligns the start of the arena up to 16 bytes; on a microcontroller an
  arena buffer that is not 16-byte aligned can need up to 15 bytes more.
* The Python wrapper always uses the ``RecordingMicroAllocator``, whose own
  bookkeeping (a few hundred bytes, in the arena) a firmware build with the
  plain ``MicroAllocator`` does not carry; the host figure is an upper bound in
  that respect too.

32-bit estimate:
    On a 32-bit microcontroller the runtime's persistent structs are smaller
    than on this 64-bit host because pointers and ``size_t`` take 4 bytes, so
    the host measurement is an upper bound. :attr:`ArenaMeasurement.
    arena_bytes_32bit_estimate` subtracts, from the exact host minimum, the
    difference for the struct categories the ``RecordingMicroAllocator``
    reports by count, using these sizes derived from the TFLM struct
    definitions (``tensorflow/lite/core/c/common.h`` with
    ``TF_LITE_STATIC_MEMORY``, ``micro_allocator.h``), with natural alignment:

    ============================================  ======  ======  ===========================
    Category (struct)                             64-bit  32-bit  Layout
    ============================================  ======  ======  ===========================
    ``TfLiteEvalTensor data``                       24      12    data ptr, dims ptr, type
                                                                  enum
    ``Persistent TfLiteTensor data``                64      40    quantization {enum, ptr},
    (``TfLiteTensor``)                                            params {float, int32}, data
                                                                  ptr, dims ptr, bytes
                                                                  size_t, type, allocation
                                                                  type, is_variable bool
    ``Persistent TfLiteTensor quantization data``   24      12    scale ptr, zero_point ptr,
    (``TfLiteAffineQuantization``, one per two                    int32 quantized_dimension;
    allocations)                                                  the other allocation, the
                                                                  zero-point int array, has
                                                                  the same size on both
    ``NodeAndRegistration struct``                  64      32    TfLiteNode (inputs, outputs,
                                                                  intermediates, user_data,
                                                                  builtin_data,
                                                                  custom_initial_data ptrs,
                                                                  int size) + registration ptr
    ============================================  ======  ======  ===========================

    The 64-bit sizes agree with what the recorder reports on this host (for
    example 240 B for 10 ``TfLiteEvalTensor``); a category whose recorded bytes
    do not match the table is left unadjusted. The result is rounded up to a
    multiple of 16. Not adjusted, so still upper bounds: kernel ``OpData``
    (``Persistent buffer data``, mostly 32-bit integers), the allocator and
    planner objects, the temporary structs used during ``Prepare`` and the
    planner's per-buffer records. It is an estimate, not a measurement; the
    exact figure for this runtime is :attr:`ArenaMeasurement.arena_bytes`.

Example:
    >>> from tinyreg.core.errors import ModelFileError
    >>> try:
    ...     measure_arena(b"")
    ... except ModelFileError as refused:
    ...     print(refused)
    <bytes>: not a valid .tflite model: file is empty

"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import faulthandler
import functools
import importlib.metadata
import json
import os
import re
import signal
import struct
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from os import PathLike
from typing import Any, Literal

import numpy as np

from tinyreg.core.tflite import ModelInfo, parse_tflite, read_model_file

try:
    import resource
except ImportError:  # pragma: no cover - not a POSIX platform
    resource = None  # type: ignore[assignment]

__all__ = [
    "MAX_ARENA",
    "MIN_START_ARENA",
    "RUNTIME_NAME",
    "ArenaMeasurement",
    "ArenaMethod",
    "ArenaPipeline",
    "RecordedAllocation",
    "estimate_32bit_arena",
    "measure_arena",
    "measure_arena_file",
    "parse_allocation_report",
]

RUNTIME_NAME = "tflite-micro"
"""Name of the runtime that measures the arena (the PyPI distribution)."""

MIN_START_ARENA = 1 << 20
"""Smallest first attempt, in bytes."""

MAX_ARENA = 64 << 20
"""Largest arena tried, in bytes."""

CAN_ISOLATE = hasattr(os, "fork")
"""Whether attempts can run in a forked child process on this platform."""

_ALIGNMENT = 16  # TFLM's MicroArenaBufferAlignment()
# The recorded total varies by a few bytes with the arena size (the persistent
# allocations are aligned down from the arena's end), so the search starts this
# far below the total recorded at the first, large size.
_ALIGNMENT_SLACK = 64
_MAX_REASON_LINES = 20
_CHILD_FAILED = 70  # exit status of a child whose own code failed (not the runtime)

# Bytes per unit on a 64-bit and on a 32-bit target, and allocations per unit.
_STRUCT_SIZES: dict[str, tuple[int, int, int]] = {
    "TfLiteEvalTensor data": (24, 12, 1),
    "Persistent TfLiteTensor data": (64, 40, 1),
    "Persistent TfLiteTensor quantization data": (24, 12, 2),
    "NodeAndRegistration struct": (64, 32, 1),
}
_ZERO_POINT_ARRAY_MIN = 8  # TfLiteIntArray with one element: int size + int data[1]

# What TFLM prints when the arena is too small (matched against the C++ log only).
_SHORTAGE = re.compile(
    r"Failed to allocate (?:tail|temp|head|memory)|available \d+, missing|too small"
    r"|Too many buffers|Arena size"
)
_MISSING = re.compile(r"missing:? (\d+)")
_TOTAL = re.compile(r"Arena allocation total (\d+) bytes")
_HEAD = re.compile(r"Arena allocation head (\d+) bytes")
_TAIL = re.compile(r"Arena allocation tail (\d+) bytes")
_CATEGORY = re.compile(
    r"'(?P<name>[^']+)' used (?P<used>\d+) bytes with alignment overhead "
    r"\(requested (?P<requested>\d+) bytes for (?P<count>\d+) "
)

RUNTIME_LOCK = threading.Lock()

ArenaMethod = Literal["fast", "bisect"]
"""How :func:`measure_arena` searches: the fast path or the reference bisection."""


@dataclass(frozen=True)
class RecordedAllocation:
    """One category line of the ``RecordingMicroAllocator`` report.

    Attributes:
        category: The category, such as ``"TfLiteEvalTensor data"``.
        used_bytes: Bytes taken, alignment padding included.
        requested_bytes: Bytes requested.
        count: Number of allocations (or structs, tensors) in the category.

    """

    category: str
    used_bytes: int
    requested_bytes: int
    count: int


@dataclass(frozen=True)
class ArenaMeasurement:
    """The arena a model needs in the TFLite Micro runtime.

    Attributes:
        runnable: Whether the runtime builds the model (``AllocateTensors`` at
            ``arena_bytes``) and, when ``inferred``, runs one inference with all-zero
            inputs.
        arena_bytes: The smallest ``arena_size`` the runtime accepts (exact to
            the byte, on this host), or ``None`` when the model cannot be
            allocated at all.
        recorded_bytes: The "Arena allocation total" the recording allocator
            reports at ``arena_bytes``.
        head_bytes: The non-persistent (planned tensor) part of that total.
        tail_bytes: The persistent part of that total.
        arena_bytes_32bit_estimate: ``arena_bytes`` adjusted for 4-byte
            pointers, an estimate (see the module docstring), or ``None``.
        allocations: The per-category lines of the allocation report.
        reason: Why the model is not runnable, in the runtime's own words
            (deduplicated lines), or ``None``.
        runtime_name: ``"tflite-micro"``.
        runtime_version: The installed ``tflite-micro`` version.
        pointer_bits: Pointer width of the host that measured (64 here).
        attempts: How many interpreters were built during the measurement.
        inferred: Whether the measurement ran that inference (``measure_arena`` with
            ``infer=True``); without it, ``runnable`` says the runtime builds the model.

    """

    runnable: bool
    arena_bytes: int | None
    recorded_bytes: int | None
    head_bytes: int | None
    tail_bytes: int | None
    arena_bytes_32bit_estimate: int | None
    allocations: tuple[RecordedAllocation, ...]
    reason: str | None
    runtime_name: str
    runtime_version: str
    pointer_bits: int
    attempts: int
    inferred: bool = False


# --------------------------------------------------------------------------- report parsing


def parse_allocation_report(
    text: str,
) -> tuple[int | None, int | None, int | None, tuple[RecordedAllocation, ...]]:
    r"""Parse the output of ``Interpreter.print_allocations()``.

    Args:
        text: What the runtime printed.

    Returns:
        ``(total, head, tail, categories)``; a figure missing from the text is
        ``None``.

    >>> report = (
    ...     "[RecordingMicroAllocator] Arena allocation total 1504 bytes\n"
    ...     "[RecordingMicroAllocator] 'TfLiteEvalTensor data' used 240 bytes with "
    ...     "alignment overhead (requested 240 bytes for 10 allocations)\n"
    ... )
    >>> total, head, tail, categories = parse_allocation_report(report)
    >>> total, head, categories[0].count
    (1504, None, 10)

    """

    def number(pattern: re.Pattern[str]) -> int | None:
        found = pattern.search(text)
        return int(found.group(1)) if found else None

    categories = tuple(
        RecordedAllocation(
            category=m.group("name"),
            used_bytes=int(m.group("used")),
            requested_bytes=int(m.group("requested")),
            count=int(m.group("count")),
        )
        for m in _CATEGORY.finditer(text)
    )
    return number(_TOTAL), number(_HEAD), number(_TAIL), categories


def estimate_32bit_arena(
    arena_bytes: int, allocations: tuple[RecordedAllocation, ...] | list[RecordedAllocation]
) -> int:
    """Estimate the arena on a 32-bit target from a 64-bit host measurement.

    Args:
        arena_bytes: The minimal arena measured on a 64-bit host.
        allocations: The per-category report lines at that size.

    Returns:
        ``arena_bytes`` less the pointer-width savings of the struct categories
        in the module docstring's table, rounded up to a multiple of 16.

    >>> estimate_32bit_arena(1936, [RecordedAllocation("TfLiteEvalTensor data", 240, 240, 10)])
    1824

    """
    saving = 0
    for record in allocations:
        sizes = _STRUCT_SIZES.get(record.category)
        if sizes is None or record.count == 0:
            continue
        size64, size32, per_unit = sizes
        if record.count % per_unit:
            continue
        units = record.count // per_unit
        if per_unit == 1:
            if record.requested_bytes != units * size64:
                continue  # the struct differs from the table: leave it alone
        elif record.requested_bytes < units * (size64 + _ZERO_POINT_ARRAY_MIN):
            continue
        saving += units * (size64 - size32)
    estimate = max(arena_bytes - saving, 0)
    return -(-estimate // _ALIGNMENT) * _ALIGNMENT


# --------------------------------------------------------------------------- one attempt

try:
    _LIBC: Any = ctypes.CDLL(None)
except OSError:  # pragma: no cover - platforms without a loadable C library handle
    _LIBC = None


def _flush_c_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    if _LIBC is not None:
        with contextlib.suppress(Exception):
            _LIBC.fflush(None)


@contextlib.contextmanager
def stderr_to(fd: int) -> Iterator[None]:
    """Point file descriptor 2 at ``fd`` for the duration of the block."""
    _flush_c_streams()
    saved = os.dup(2)
    try:
        os.dup2(fd, 2)
        yield
    finally:
        _flush_c_streams()
        os.dup2(saved, 2)
        os.close(saved)


def _quiet_crashes() -> None:
    """In a forked child: let a runtime crash end the child without a trace or core file."""
    faulthandler.disable()  # its handler writes to a saved copy of stderr, not to fd 2
    if resource is not None:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _read_all(fd: int) -> str:
    size = os.fstat(fd).st_size
    return os.pread(fd, size, 0).decode("utf-8", errors="replace") if size else ""


@dataclass(frozen=True)
class _Attempt:
    """The outcome of building one interpreter."""

    accepted: bool
    log: str  # what the C++ runtime printed while building (and invoking)
    error: str  # the Python exception's message, or a crash description
    report: str = ""  # print_allocations() output, when asked for
    invoke_error: str | None = None  # set when the zero-input inference failed


def _build_interpreter(data: bytes, arena: int, resources: int | None) -> Any:
    """An interpreter of the runtime for ``data`` with ``arena`` bytes.

    With ``resources`` ``None`` this is the wrapper's public constructor,
    ``Interpreter.from_bytes``. That constructor first counts the model's
    resource variables by unpacking the whole flatbuffer into Python objects
    (``count_resource_variables``), which takes 80 % or more of a build; the
    fast path counts them once per model and builds the same C++
    ``InterpreterWrapper`` with the arguments ``__init__`` passes (checked by
    ``tests/test_arena.py``, which also asserts that both paths find the same
    arena for every model).
    """
    from tflite_micro.python.tflite_micro import runtime

    if resources is None:
        return runtime.Interpreter.from_bytes(data, arena_size=arena)
    from tflite_micro.python.tflite_micro import _runtime

    interpreter = runtime.Interpreter.__new__(runtime.Interpreter)
    interpreter._interpreter = _runtime.InterpreterWrapper(
        data,
        [],
        arena,
        resources,
        _runtime.PythonInterpreterConfig.kAllocationRecording,
        0,
    )
    return interpreter


def _attempt_here(
    data: bytes,
    arena: int,
    report: bool,
    n_inputs: int | None,
    log_fd: int,
    report_fd: int,
    resources: int | None = None,
) -> dict[str, Any]:
    """Build (and optionally run) an interpreter in this process."""
    out: dict[str, Any] = {"accepted": False, "error": "", "invoke_error": None}
    with stderr_to(log_fd):
        try:
            interpreter = _build_interpreter(data, arena, resources)
        except Exception as exc:  # the wrapper raises RuntimeError; be safe about others
            out["error"] = str(exc) or type(exc).__name__
            return out
        out["accepted"] = True
        if n_inputs is not None:
            try:
                for index in range(n_inputs):
                    details = interpreter.get_input_details(index)
                    zeros = np.zeros(details["shape"], dtype=details["dtype"])
                    interpreter.set_input(zeros, index)
                interpreter.invoke()
            except Exception as exc:
                out["invoke_error"] = str(exc) or type(exc).__name__
    if report:
        with stderr_to(report_fd):
            interpreter.print_allocations()
    return out


class _Capture:
    """Three temporary files an attempt writes to (runtime log, report, result).

    A process keeps one set for all its attempts and empties it before each one:
    creating three temporary files per attempt, and closing them, cost more than the
    build itself.
    """

    def __init__(self) -> None:
        # kept open for the process's life on purpose (see the class docstring)
        self.files = [tempfile.TemporaryFile() for _ in range(3)]  # noqa: SIM115

    def fresh(self) -> tuple[Any, Any, Any]:
        for file in self.files:  # empty, and write from the start again
            os.ftruncate(file.fileno(), 0)
            os.lseek(file.fileno(), 0, os.SEEK_SET)
        log, rep, res = self.files
        return log, rep, res

    def close(self) -> None:
        for file in self.files:
            file.close()


def _attempt(
    data: bytes,
    arena: int,
    *,
    isolate: bool,
    report: bool = False,
    n_inputs: int | None = None,
    resources: int | None = None,
    capture: _Capture | None = None,
) -> _Attempt:
    """Build an interpreter with ``arena`` bytes, in a forked child if ``isolate``."""
    own = capture is None
    files = _Capture() if capture is None else capture
    try:
        log, rep, res = files.fresh()
        args = (data, arena, report, n_inputs, log.fileno(), rep.fileno(), resources)
        if not isolate:
            out = _attempt_here(*args)
        else:
            _flush_c_streams()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child, reported through files
                code = _CHILD_FAILED
                try:
                    _quiet_crashes()
                    os.write(res.fileno(), json.dumps(_attempt_here(*args)).encode())
                    code = 0
                except BaseException:
                    with contextlib.suppress(BaseException):
                        os.write(res.fileno(), traceback.format_exc().encode())
                finally:
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
            if os.WIFSIGNALED(status):
                number = os.WTERMSIG(status)
                try:
                    name = signal.Signals(number).name
                except ValueError:
                    name = f"signal {number}"
                out = {
                    "accepted": False,
                    "error": f"the runtime crashed ({name}) with arena_size={arena}",
                }
            elif os.WEXITSTATUS(status) != 0:
                out = {
                    "accepted": False,
                    "error": f"the measuring process failed: {_read_all(res.fileno()).strip()}",
                }
            else:
                out = json.loads(_read_all(res.fileno()))
        return _Attempt(
            accepted=bool(out["accepted"]),
            log=_read_all(log.fileno()),
            error=str(out.get("error") or ""),
            report=_read_all(rep.fileno()),
            invoke_error=out.get("invoke_error"),
        )
    finally:
        if own:
            files.close()


# --------------------------------------------------------------------------- measurement


@functools.cache
def _runtime_version() -> str:
    try:
        return importlib.metadata.version(RUNTIME_NAME)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - wheel always present
        return "unknown"


def runtime_reason(*texts: str) -> str:
    lines: list[str] = []
    for text in texts:
        for raw in text.splitlines():
            line = raw.strip()
            if line and line not in lines:
                lines.append(line)
    if len(lines) > _MAX_REASON_LINES:
        lines = [*lines[:_MAX_REASON_LINES], f"(and {len(lines) - _MAX_REASON_LINES} more lines)"]
    return "; ".join(lines) if lines else "the runtime refused the model without a message"


_CAPTURE: dict[int, _Capture] = {}  # by process: a forked child gets its own set


class _Search:
    """Attempts for one model, counted."""

    def __init__(self, data: bytes, isolate: bool, resources: int | None = None) -> None:
        self.data = data
        self.isolate = isolate
        self.resources = resources  # None: the wrapper's public constructor
        self.attempts = 0
        self.refused: set[int] = set()  # sizes tried and refused
        self.missing = 0  # bytes the last refused attempt said were missing

    def attempt(self, arena: int, report: bool = False, n_inputs: int | None = None) -> _Attempt:
        self.attempts += 1
        capture = _CAPTURE.get(os.getpid())
        if capture is None:  # one set per process; measurements hold RUNTIME_LOCK
            capture = _CAPTURE[os.getpid()] = _Capture()
        return _attempt(
            self.data,
            arena,
            isolate=self.isolate,
            report=report,
            n_inputs=n_inputs,
            resources=self.resources,
            capture=capture,
        )

    def accepts(self, arena: int) -> bool:
        outcome = self.attempt(arena)
        if not outcome.accepted:
            self.refused.add(arena)
            found = _MISSING.search(outcome.log)
            self.missing = int(found.group(1)) if found else 0
        return outcome.accepted

    def bisect(self, bad: int, good: int) -> int:
        while good - bad > 1:
            mid = (bad + good) // 2
            if self.accepts(mid):
                good = mid
            else:
                bad = mid
        return good

    def fast_minimal(
        self, total: int, size: int, n_inputs: int | None
    ) -> tuple[int, _Attempt | None]:
        """The fast path's search, from the recorded total; ``size`` is accepted.

        Most models need exactly the recorded total or a few bytes less (the persistent
        allocations are aligned down from the arena's end, so there is less padding at
        the exact size), so one byte less than the total is tried first, then the total
        itself with the report of the final build (and the zero-input inference, when
        ``n_inputs`` is given): when the first is refused and the second accepted, the
        total is the minimum and that build was the final one. When one byte less is
        accepted too, the search steps down by the alignment, doubling, to a refused
        size and bisects. When the total is refused (kernels take temporary memory
        during ``Prepare`` that is freed before the report), it steps up by what the
        runtime says is missing (at least 1 byte, doubling), then bisects. Either way
        the final build runs the inference, if any.

        Returns:
            The minimal size, and its final attempt when that was the total.

        """
        if total > 1 and not self.accepts(total - 1):
            guess = self.attempt(total, report=True, n_inputs=n_inputs)
            if guess.accepted:
                return total, guess
            self.refused.add(total)
            found = _MISSING.search(guess.log)
            self.missing = int(found.group(1)) if found else 0
            bad, good, step = total, size, 1
            while bad + 1 < good:
                probe = min(bad + max(step, self.missing), good - 1)
                if self.accepts(probe):
                    good = probe
                    break
                bad = probe
                step *= 2
            return self.bisect(bad, good), None
        good, step = total - 1 if total > 1 else total, _ALIGNMENT
        while good - step > 0:
            if not self.accepts(good - step):
                bad = good - step
                break
            good = good - step
            step *= 2
        else:
            bad = 0
        return self.bisect(bad, good), None

    def minimal(self, bad: int, good: int) -> int:
        """Smallest accepted size in ``(bad, good]``; ``good`` is accepted, ``bad`` assumed not.

        Gallops up from ``bad`` (the minimum is usually at or just above the
        recorded total), then bisects.
        """
        step = 1
        while bad + step < good:
            probe = bad + step
            if self.accepts(probe):
                good = probe
                break
            bad = probe
            step *= 2
        while good - bad > 1:
            mid = (bad + good) // 2
            if self.accepts(mid):
                good = mid
            else:
                bad = mid
        return good


def measure_arena_file(path: str | PathLike[str], *, isolate: bool = True) -> ArenaMeasurement:
    """Read a ``.tflite`` file and measure its arena.

    Args:
        path: The model file.
        isolate: Run each attempt in a forked child (see :func:`measure_arena`).

    Returns:
        The measurement.

    Raises:
        ModelFileError: The file cannot be read or is not a valid TFLite model.

    """
    label, data = read_model_file(path)
    return measure_arena(data, source=label, isolate=isolate)


def measure_arena(
    data: bytes,
    *,
    source: str = "<bytes>",
    info: ModelInfo | None = None,
    max_arena: int = MAX_ARENA,
    isolate: bool = True,
    method: ArenaMethod = "fast",
    infer: bool = False,
) -> ArenaMeasurement:
    """Find the minimal tensor arena of a model with the TFLite Micro runtime.

    The bytes are first parsed with :func:`~tinyreg.core.tflite.parse_tflite`
    (unless ``info`` is given), so malformed data is refused before it reaches
    the C++ runtime.

    Args:
        data: The ``.tflite`` file's bytes.
        source: Path or label for error messages.
        info: The already parsed model, to skip parsing again.
        max_arena: The largest arena to try, in bytes.
        isolate: Run each attempt in a forked child so that a runtime crash
            counts as a refusal instead of killing this process. Ignored (always
            in-process) where ``os.fork`` does not exist.
        method: ``"fast"`` (the default; see "Fast path" in the module
            docstring) or ``"bisect"``, the reference search that builds every
            attempt with the wrapper's public constructor, each in its own child
            when isolated. Both return the same measurement.
        infer: Also run one inference with all-zero inputs at the minimal arena
            (step 3 of the module docstring).

    Returns:
        The measurement; ``runnable`` is ``False`` (with ``reason``) when the
        runtime refuses the model at every size up to ``max_arena``, or, with
        ``infer``, when the inference with zero inputs fails.

    Raises:
        ModelFileError: ``data`` is not a valid TFLite model.

    """
    if info is None:
        info = parse_tflite(data, source=source)
    data = bytes(data)
    n_inputs = len(info.inputs) if infer else None
    isolate = isolate and CAN_ISOLATE
    with RUNTIME_LOCK:
        if method == "bisect":
            return _measure(_Search(data, isolate=isolate), n_inputs, max_arena)
        resources = _resource_variables(data, info)
        if not isolate:
            search = _Search(data, isolate=False, resources=resources)
            return _measure(search, n_inputs, max_arena, fast=True)
        found = _worker_measure(data, n_inputs, max_arena, resources)
        if found is not None:
            return found
        # the runtime crashed in the worker (or the worker failed): every attempt in its
        # own child, as the reference search does, so a crash is only a refused size
        search = _Search(data, isolate=True, resources=resources)
        return _measure(search, n_inputs, max_arena, fast=True)


def _resource_variables(data: bytes, info: ModelInfo) -> int:
    """The resource-variable count the wrapper's constructor would compute.

    Only ``VAR_HANDLE`` operators create resource variables; a model without one has
    none, and a model with some is counted by the wrapper's own function.
    """
    if not any(code.name == "VAR_HANDLE" for code in info.operator_codes):
        return 0
    from tflite_micro.python.tflite_micro import runtime

    return int(runtime.count_resource_variables(data))


# --------------------------------------------------------------------------- the worker


class _WorkerGone(Exception):
    """The worker process ended (a runtime crash) or answered nonsense."""


def _write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(struct.pack("<Q", len(payload)) + payload)
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise _WorkerGone("end of stream")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int) -> bytes:
    (size,) = struct.unpack("<Q", _read_exact(fd, 8))
    return _read_exact(fd, size)


def _measurement_to_json(m: ArenaMeasurement) -> dict[str, Any]:
    fields = dict(vars(m))
    fields["allocations"] = [vars(a) for a in m.allocations]
    return fields


def _measurement_from_json(fields: dict[str, Any]) -> ArenaMeasurement:
    fields = dict(fields)
    fields["allocations"] = tuple(RecordedAllocation(**a) for a in fields["allocations"])
    return ArenaMeasurement(**fields)


def _serve(requests: int, replies: int) -> None:  # pragma: no cover - runs in the worker
    """The worker's loop: measure each model sent, in this process, and answer."""
    while True:
        try:
            header = json.loads(_read_frame(requests))
            data = _read_frame(requests)
        except _WorkerGone:
            return  # the parent closed its end
        try:
            search = _Search(data, isolate=False, resources=int(header["resources"]))
            n_inputs = header["n_inputs"]  # None: no inference
            found = _measure(search, n_inputs, int(header["max_arena"]), fast=True)
            reply: dict[str, Any] = {"measurement": _measurement_to_json(found)}
        except Exception:
            reply = {"failed": traceback.format_exc()}
        _write_frame(replies, json.dumps(reply).encode())


class _Worker:
    """A forked process that measures one model after another with in-process attempts.

    Forking once instead of once per attempt is what makes the fast path fast: a fork
    of a process that has loaded rdflib, pySHACL and a store costs several
    milliseconds, an interpreter build about one. The worker closes every inherited
    file descriptor but its two pipes (it must not hold the parent's store, sockets or
    broker connections) and ends when the parent closes its end. A runtime crash ends
    the worker; the next measurement forks a new one.
    """

    def __init__(self) -> None:
        from tflite_micro.python.tflite_micro import _runtime, runtime  # noqa: F401 - loaded

        tempfile.gettempdir()  # settled before the fork (it takes a lock the first time)
        requests_r, requests_w = os.pipe()
        replies_r, replies_w = os.pipe()
        _flush_c_streams()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the worker
            try:
                _quiet_crashes()
                keep = sorted((requests_r, replies_w))
                os.closerange(3, keep[0])
                os.closerange(keep[0] + 1, keep[1])
                os.closerange(keep[1] + 1, 1 << 16)
                _serve(requests_r, replies_w)
            finally:
                os._exit(0)
        os.close(requests_r)
        os.close(replies_w)
        self.pid = pid
        self.requests = requests_w
        self.replies = replies_r

    def measure(
        self, data: bytes, n_inputs: int | None, max_arena: int, resources: int
    ) -> ArenaMeasurement:
        header = {"n_inputs": n_inputs, "max_arena": max_arena, "resources": resources}
        try:
            _write_frame(self.requests, json.dumps(header).encode())
            _write_frame(self.requests, data)
            reply = json.loads(_read_frame(self.replies))
        except OSError as exc:  # a broken pipe: the worker is gone
            raise _WorkerGone(str(exc)) from exc
        if "measurement" not in reply:
            raise _WorkerGone(str(reply.get("failed", "no measurement")))
        return _measurement_from_json(reply["measurement"])

    def alive(self) -> bool:
        """Whether the worker process is still running (it ends only when told to)."""
        try:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return False
        return pid == 0

    def close(self) -> None:
        for fd in (self.requests, self.replies):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


_WORKER: dict[int, _Worker] = {}  # by the process that forked it (a forked parent forks anew)


def _worker_measure(
    data: bytes, n_inputs: int | None, max_arena: int, resources: int
) -> ArenaMeasurement | None:
    """Measure in the worker (forked on first use); ``None`` when the worker died doing it."""
    worker = _WORKER.get(os.getpid())
    if worker is None:
        worker = _WORKER[os.getpid()] = _Worker()
    try:
        return worker.measure(data, n_inputs, max_arena, resources)
    except _WorkerGone:
        del _WORKER[os.getpid()]
        worker.close()
        return None


def _borrow_worker() -> _Worker:
    """The process's measuring worker, taken for a pipeline's use, or a new one.

    Taken under :data:`RUNTIME_LOCK`, so never in the middle of a measurement; while it
    is out, :func:`measure_arena` forks another when it needs one. A warm worker saves a
    fork (~15 ms before its first answer, ~4 ms to end it) on every import.
    """
    with RUNTIME_LOCK:
        worker = _WORKER.pop(os.getpid(), None)
    return worker if worker is not None else _Worker()


def _give_back_worker(worker: _Worker) -> None:
    """Make an idle borrowed worker the process's measuring worker again (or end it)."""
    with RUNTIME_LOCK:
        if os.getpid() not in _WORKER and worker.alive():
            _WORKER[os.getpid()] = worker
            return
    worker.close()


class ArenaPipeline:
    """Measure models ahead, in a worker process, while the caller works on.

    :meth:`submit` hands a model to the pipeline's worker (on first use it borrows the
    fast path's worker, which is then the pipeline's alone until :meth:`close` gives it
    back; if there is none, it forks one) and returns at once: a thread writes the
    model to the worker's pipe, so the caller never waits for a busy worker.
    :meth:`next` returns the measurements in the order the models were submitted, each
    exactly what :func:`measure_arena` returns. A bulk import parses, describes, checks
    and writes models while the worker measures the next ones: the two cores work at once.

    When the runtime crashes the worker, every model not yet answered is measured
    again by :func:`measure_arena` (whose fallback runs each attempt in its own child),
    so a crash costs time, never a wrong or missing measurement. Without ``os.fork``
    each model is measured by :func:`measure_arena` when submitted.

    Example:
        >>> from tinyreg.core.tflite import parse_tflite
        >>> with ArenaPipeline() as arenas:  # doctest: +SKIP
        ...     arenas.submit(data, parse_tflite(data))
        ...     measurement = arenas.next()

    Args:
        max_arena: The largest arena to try, in bytes.
        infer: Run one inference with all-zero inputs at each model's minimal arena
            (see :func:`measure_arena`).

    """

    def __init__(self, max_arena: int = MAX_ARENA, *, infer: bool = False) -> None:
        self.max_arena = max_arena
        self.infer = infer
        self._worker: _Worker | None = None
        self._pending: list[tuple[bytes, ModelInfo, str]] = []  # submitted, not answered
        self._ready: list[ArenaMeasurement] = []  # measured without the worker
        self._outbox: Any = None
        self._sender: threading.Thread | None = None
        self._broken = False

    def __enter__(self) -> ArenaPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        import queue

        self._worker = _borrow_worker()
        self._outbox = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send, name="arena-pipeline", daemon=True)
        self._sender.start()

    def _send(self) -> None:
        worker, outbox = self._worker, self._outbox
        assert worker is not None and outbox is not None
        while True:
            item = outbox.get()
            if item is None:
                return
            header, data = item
            try:
                _write_frame(worker.requests, header)
                _write_frame(worker.requests, data)
            except OSError:  # the worker is gone; next() finds out and measures again
                return

    def submit(self, data: bytes, info: ModelInfo, source: str = "<bytes>") -> None:
        """Send a parsed model to be measured (see :func:`measure_arena`)."""
        data = bytes(data)
        if not CAN_ISOLATE or self._broken:
            self._ready.append(self._measure_here(data, info, source))
            self._pending.append((data, info, source))
            return
        if self._worker is None:
            self._start()
        header = {
            "n_inputs": len(info.inputs) if self.infer else None,
            "max_arena": self.max_arena,
            "resources": _resource_variables(data, info),
        }
        self._pending.append((data, info, source))
        self._outbox.put((json.dumps(header).encode(), data))

    def ready(self) -> bool:
        """Whether :meth:`next` has an answer to read (it may still wait a moment)."""
        if not self._pending:
            return False
        if self._ready or self._worker is None:
            return True
        import select

        readable, _, _ = select.select([self._worker.replies], [], [], 0)
        return bool(readable)

    def next(self) -> ArenaMeasurement:
        """The measurement of the earliest submitted model not yet returned."""
        if not self._pending:
            raise IndexError("no model submitted")
        data, info, source = self._pending.pop(0)
        if self._ready:
            return self._ready.pop(0)
        worker = self._worker
        assert worker is not None
        try:
            reply = json.loads(_read_frame(worker.replies))
            if "measurement" not in reply:
                raise _WorkerGone(str(reply.get("failed", "no measurement")))
            return _measurement_from_json(reply["measurement"])
        except (_WorkerGone, OSError, ValueError):
            # the runtime crashed the worker: measure this and every model behind it
            # the careful way, one at a time
            self._broken = True
            self._stop()
            self._ready = [self._measure_here(d, i, s) for d, i, s in self._pending]
            return self._measure_here(data, info, source)

    def _measure_here(self, data: bytes, info: ModelInfo, source: str) -> ArenaMeasurement:
        """:func:`measure_arena`, with this pipeline's settings."""
        return measure_arena(
            data, source=source, info=info, max_arena=self.max_arena, infer=self.infer
        )

    def _stop(self, *, give_back: bool = False) -> None:
        if self._outbox is not None:
            self._outbox.put(None)  # the sender ends after what it is writing
        if self._sender is not None:
            self._sender.join()
        if self._worker is not None:
            if give_back:
                _give_back_worker(self._worker)
            else:
                self._worker.close()  # the worker ends when its pipe closes
        self._worker, self._sender, self._outbox = None, None, None

    def close(self) -> None:
        """Give the worker back, or end it; measurements not read are dropped.

        A worker that answered everything it was sent goes back to be the process's
        measuring worker (see :func:`_borrow_worker`); one with work unread is killed.
        """
        idle = False
        if self._worker is not None and not self._broken:
            if self._pending:
                with contextlib.suppress(OSError):
                    os.kill(self._worker.pid, signal.SIGKILL)  # don't wait for unread work
            else:
                idle = True
        self._stop(give_back=idle)
        self._pending.clear()
        self._ready.clear()


@atexit.register
def _close_worker() -> None:
    worker = _WORKER.pop(os.getpid(), None)
    if worker is not None:
        worker.close()


def _measure(
    search: _Search, n_inputs: int | None, max_arena: int, *, fast: bool = False
) -> ArenaMeasurement:
    pointer_bits = struct.calcsize("P") * 8

    def result(**fields: Any) -> ArenaMeasurement:
        base: dict[str, Any] = {
            "runnable": False,
            "arena_bytes": None,
            "recorded_bytes": None,
            "head_bytes": None,
            "tail_bytes": None,
            "arena_bytes_32bit_estimate": None,
            "allocations": (),
            "reason": None,
            "runtime_name": RUNTIME_NAME,
            "runtime_version": _runtime_version(),
            "pointer_bits": pointer_bits,
            "attempts": search.attempts,
        }
        base.update(fields)
        return ArenaMeasurement(**base)

    # 1. A size that works.
    size = min(max(10 * len(search.data), MIN_START_ARENA), max_arena)
    while True:
        first = search.attempt(size, report=True)
        if first.accepted:
            break
        shortage = _SHORTAGE.search(first.log) is not None
        if size >= max_arena or not shortage:
            reason = runtime_reason(first.log, first.error)
            if shortage:
                reason = f"does not fit in {max_arena} bytes of arena: {reason}"
            return result(reason=reason)
        size = min(size * 4, max_arena)

    # 2. From just below the recorded total (nothing much smaller can hold it) up to that size.
    total, _, _, _ = parse_allocation_report(first.report)
    bad = max(min((total or 0) - _ALIGNMENT_SLACK, size - 1), 0)
    final: _Attempt | None = None
    if fast and total is not None and 0 < total < size:
        arena, final = search.fast_minimal(total, size, n_inputs)
    else:
        arena = search.minimal(bad, size)
    if arena > 1 and arena - 1 not in search.refused and search.accepts(arena - 1):
        # confirm (unless that size was tried and refused); search further down if not
        floor = 0 if search.isolate else min(bad, arena - 1) // 2
        arena = search.minimal(floor, arena - 1)
        final = None

    # 3. Build at the minimum, run once with zero inputs, keep the report.
    if final is None:
        final = search.attempt(arena, report=True, n_inputs=n_inputs)
    if not final.accepted:  # pragma: no cover - the runtime accepted this size a moment ago
        return result(reason=runtime_reason(final.log, final.error))
    total, head, tail, categories = parse_allocation_report(final.report)
    estimate = estimate_32bit_arena(arena, categories) if pointer_bits == 64 else arena
    runnable = final.invoke_error is None
    return result(
        runnable=runnable,
        arena_bytes=arena,
        recorded_bytes=total,
        head_bytes=head,
        tail_bytes=tail,
        arena_bytes_32bit_estimate=estimate,
        allocations=categories,
        reason=None
        if runnable
        else f"inference failed: {runtime_reason(final.log, final.invoke_error or '')}",
        attempts=search.attempts,
        inferred=n_inputs is not None,
    )
