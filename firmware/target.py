"""Run models on the firmware agent on emulated Cortex-M cores (QEMU), and read what it measures.

The agent (``firmware/agent/``, C/C++ with TensorFlow Lite Micro and CMSIS-NN kernels) is built
by ``scripts/firmware.sh`` into a cache outside the checkout; :func:`firmware_elf` asks that
script for the ELF of a core (building it if needed). :func:`bench_target` runs the agent's bench
mode in ``qemu-system-arm`` with ``-icount shift=0``, the model file handed over through
semihosting, and returns a :class:`TargetBenchmark`:

* ``arena_bytes``: the minimal tensor arena the runtime accepts on the 32-bit target (the
  same quantity as the host's ``arena_bytes``: the smallest size at which ``AllocateTensors``
  succeeds, one byte less being refused);
* ``init_instructions`` / ``inference_instructions``: guest **instructions** (not cycles) of
  building the interpreter at that arena and of one ``Invoke``, counted with SysTick under
  ``-icount shift=0``; identical from run to run;
* ``code_bytes``: the firmware image a board keeps in flash (vectors, code, read-only data,
  initial values of ``.data``), from the linker's symbols;
* ``output_sha256``: SHA-256 of the raw bytes of all output tensors, in order, after one
  inference with every input element at its zero point (0.0 for float inputs).
  :func:`host_output_sha256` computes the same on the host interpreter.

Refusals (a mangled flatbuffer, an operator the firmware does not register, an arena over the
budget, a model the runtime refuses) raise :class:`~tinyreg.core.errors.BenchmarkError`
whose ``detail`` starts with the agent's refusal code, e.g. ``unregistered_operator: ...``.

>>> sorted(TARGETS)
['qemu-mps2-an386', 'qemu-mps3-an547']
>>> TARGETS["qemu-mps2-an386"].cpu
'cortex-m4f'
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tinyreg.core.errors import BenchmarkError, ConfigError

__all__ = [
    "REFUSAL_CODES",
    "TARGETS",
    "TFLM_COMMIT",
    "Target",
    "TargetBenchmark",
    "agent_command",
    "bench_target",
    "firmware_elf",
    "firmware_script",
    "host_output_sha256",
    "run_agent",
    "toolchain_available",
    "toolchain_version",
]

#: The TFLM source the firmware is built from (firmware/third_party/README.md).
TFLM_COMMIT = "90b983c2b3f1480642e040bbd2ddb37b998f3424"

#: Refusal codes the agent's bench mode prints.
REFUSAL_CODES = (
    "arena_over_budget",
    "inference_failed",
    "io_error",
    "mangled_flatbuffer",
    "model_too_large",
    "runtime_refused",
    "unregistered_operator",
)

DEFAULT_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Target:
    """An emulated board the agent runs on.

    Attributes:
        name: The target id used by tinyreg (``qemu-<machine>``).
        machine: The ``qemu-system-arm -M`` machine.
        core: The build core passed to ``scripts/firmware.sh``.
        cpu: The core, as the agent reports it (``cortex-m4f``, ``cortex-m55``).
        family: The core family, as the runtime tables and devices' ``tr:coreFamily`` name it.

    """

    name: str
    machine: str
    core: str
    cpu: str
    family: str


TARGETS: dict[str, Target] = {
    "qemu-mps2-an386": Target(
        "qemu-mps2-an386", "mps2-an386", "mps2-an386", "cortex-m4f", "cortex-m4"
    ),
    "qemu-mps3-an547": Target(
        "qemu-mps3-an547", "mps3-an547", "mps3-an547", "cortex-m55", "cortex-m55"
    ),
}


@dataclass(frozen=True)
class TargetBenchmark:
    """What the agent measured for one model on one target (see the module docstring)."""

    model: str
    target: str
    core: str
    arena_bytes: int
    arena_used_bytes: int
    arena_budget: int
    init_instructions: int
    inference_instructions: int
    code_bytes: int
    output_sha256: str
    model_sha256: str
    model_bytes: int
    clock: str
    tflm_commit: str = TFLM_COMMIT

    def to_dict(self) -> dict[str, Any]:
        """The benchmark as JSON-ready data."""
        return asdict(self)


def _target(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise ConfigError(f"unknown target {name!r}: one of {', '.join(sorted(TARGETS))}") from None


def firmware_script() -> Path:
    """``scripts/firmware.sh`` of this checkout."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "firmware.sh"
    if not script.is_file():
        raise ConfigError(f"{script} not found: the firmware is built from a source checkout")
    return script


def toolchain_available() -> bool:
    """Whether the Arm toolchain and QEMU are installed."""
    return all(shutil.which(tool) for tool in ("arm-none-eabi-gcc", "qemu-system-arm"))


@functools.cache
def toolchain_version() -> str:
    """The first line of ``arm-none-eabi-gcc --version`` (the compiler that builds the agent).

    Raises:
        ConfigError: The toolchain is not installed.

    """
    try:
        proc = subprocess.run(
            ["arm-none-eabi-gcc", "--version"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ConfigError(f"arm-none-eabi-gcc is not usable ({exc})") from exc
    return proc.stdout.splitlines()[0].strip() if proc.stdout else "arm-none-eabi-gcc"


@functools.cache
def firmware_elf(target: str = "qemu-mps2-an386") -> Path:
    """The agent ELF for a target, built (or found in the cache) by ``scripts/firmware.sh``."""
    spec = _target(target)
    proc = subprocess.run(
        ["bash", str(firmware_script()), "--elf", spec.core],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise ConfigError(f"building the firmware for {target} failed:\n{proc.stderr[-4000:]}")
    elf = Path(proc.stdout.strip().splitlines()[-1])
    if not elf.is_file():
        raise ConfigError(f"scripts/firmware.sh reported {elf}, which does not exist")
    return elf


def _semihosting_arg(value: str) -> str:
    if " " in value:
        raise ConfigError(f"semihosting arguments cannot contain spaces: {value!r}")
    return value.replace(",", ",,")


def agent_command(
    target: str, args: list[str], *, serial: str = "null", icount: bool = True
) -> list[str]:
    """The ``qemu-system-arm`` command line that runs the agent with ``args``.

    ``serial`` is QEMU's ``-serial`` backend for the board's UART0 (e.g. ``file:PATH``, or a
    socket for the serial bridge). ``icount`` runs the core with ``-icount shift=0`` (one
    instruction per virtual nanosecond: instruction counts, reproducible); without it the
    virtual clock follows the host's real time (the serve mode, which waits for its UART).
    """
    spec = _target(target)
    elf = firmware_elf(target)
    semihosting = ",".join(
        ["enable=on", "target=native"] + [f"arg={_semihosting_arg(a)}" for a in ["agent", *args]]
    )
    return [
        "qemu-system-arm", "-M", spec.machine, "-nographic", "-serial", serial,
        "-monitor", "none", *(["-icount", "shift=0"] if icount else []),
        "-semihosting-config", semihosting, "-kernel", str(elf),
    ]  # fmt: skip


def run_agent(
    target: str,
    args: list[str],
    *,
    cwd: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    """Run the agent once in QEMU with ``args`` as its command line (after ``agent``)."""
    command = agent_command(target, args)
    try:
        return subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as exc:
        raise ConfigError(f"qemu-system-arm is not installed ({exc})") from exc


def _last_json(text: str) -> dict[str, Any] | None:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def bench_target(
    model: str | Path | bytes,
    target: str = "qemu-mps2-an386",
    *,
    budget: int | None = None,
    label: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> TargetBenchmark:
    """Bench a model on the agent in QEMU.

    Args:
        model: The ``.tflite`` file or its bytes.
        target: One of :data:`TARGETS`.
        budget: The arena budget in bytes (the RAM the device's TD leaves for the arena);
            ``None`` for the firmware's whole static arena.
        label: The model's name in the result and in errors (default: the file name).
        timeout: Seconds before QEMU is stopped.

    Returns:
        The measurement.

    Raises:
        BenchmarkError: The agent refused the model (the detail starts with the refusal code),
            crashed, or ran past the timeout.
        ConfigError: The firmware cannot be built or QEMU is missing.

    """
    if isinstance(model, bytes):
        data, name = model, label or "<bytes>"
    else:
        data, name = Path(model).read_bytes(), label or Path(model).name
    with tempfile.TemporaryDirectory(prefix="tinyreg-bench-") as tmp:
        path = Path(tmp) / "model.tflite"
        path.write_bytes(data)
        args = ["bench", str(path)]
        if budget is not None:
            args += ["--budget", str(int(budget))]
        try:
            proc = run_agent(target, args, cwd=Path(tmp), timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BenchmarkError(name, f"timeout: the agent ran past {timeout} s") from None
    result = _last_json(proc.stdout)
    if result is None:
        raise BenchmarkError(
            name,
            f"crash: the agent printed no result (QEMU exit {proc.returncode}): "
            f"{(proc.stdout + proc.stderr)[-2000:]}",
        )
    if "refused" in result:
        raise BenchmarkError(name, f"{result['refused']}: {result.get('reason', '')}")
    if "error" in result:
        raise BenchmarkError(name, f"{result['error']}: {result.get('reason', '')}")
    return TargetBenchmark(
        model=name,
        target=target,
        core=str(result["core"]),
        arena_bytes=int(result["arena_bytes"]),
        arena_used_bytes=int(result["arena_used_bytes"]),
        arena_budget=int(result["arena_budget"]),
        init_instructions=int(result["init_instructions"]),
        inference_instructions=int(result["inference_instructions"]),
        code_bytes=int(result["code_bytes"]),
        output_sha256=str(result["output_sha256"]),
        model_sha256=str(result["model_sha256"]),
        model_bytes=int(result["model_bytes"]),
        clock=str(result["clock"]),
    )


def host_output_sha256(data: bytes, *, arena_bytes: int | None = None) -> str:
    """SHA-256 of the host interpreter's outputs for the agent's fixed input.

    Every input element is set to its zero point (0.0 for float inputs), one inference runs on
    the PyPI ``tflite-micro`` interpreter, and the raw bytes of all outputs are hashed in order,
    as the agent does on the target.
    """
    import numpy as np
    from tflite_micro.python.tflite_micro import runtime

    from tinyreg.core.tflite import parse_tflite

    info = parse_tflite(data)
    arena = arena_bytes or max(4 * 1024 * 1024, 10 * len(data))
    interpreter = runtime.Interpreter.from_bytes(data, arena_size=arena)
    for index in range(len(info.inputs)):
        detail = interpreter.get_input_details(index)
        points = detail["quantization_parameters"]["zero_points"]
        dtype = np.dtype(detail["dtype"])
        fill = int(points[0]) if len(points) and dtype.kind in "iu" else 0
        interpreter.set_input(np.full(tuple(detail["shape"]), fill, dtype=dtype), index)
    interpreter.invoke()
    digest = hashlib.sha256()
    for index in range(len(info.outputs)):
        digest.update(np.ascontiguousarray(interpreter.get_output(index)).tobytes())
    return digest.hexdigest()
