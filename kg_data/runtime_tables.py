"""Regenerate the TFLite Micro runtime and MCU core-family reference data.

Run from the repository root::

    .venv/bin/python kg_data/runtime_tables.py

It writes two Turtle files under ``kg_data/runtimes/``:

``tflite-micro.ttl``
    The runtime node for the installed ``tflite-micro`` wheel: the operators its
    op resolver registers, the RAM it needs outside the tensor arena and
    per-operator code-size estimates for each MCU core family. Everything is
    read from the wheel's ``_runtime.so`` with ``nm`` and ``objdump`` (GNU
    binutils), so both must be on ``PATH``.

``cores.ttl``
    Cycles per multiply-accumulate for each core family, from the
    :data:`CORE_FAMILIES` table below.

Method, sources and limits are documented in ``kg_data/runtimes/README.md``.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import ModuleType

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from tinyreg.kg_data.latency_calibration import MEASUREMENTS, Calibration, calibrate

TR = Namespace("https://w3id.org/tinyreg#")
OP = Namespace("https://w3id.org/tinyreg/op/")
RUNTIME_BASE = "https://w3id.org/tinyreg/runtime/tflite-micro/"
CORE_BASE = "https://w3id.org/tinyreg/core/"

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "runtimes"
RUNTIME_NAME = "tflite-micro"

# ---------------------------------------------------------------------------
# Core families
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CoreFamily:
    """Compute and code-density figures for one MCU core family.

    Attributes:
        key: The ``tr:coreFamily`` string, e.g. ``"cortex-m4"``.
        label: Human-readable name.
        int8: Cycles per int8 MAC with TFLM's portable reference kernels.
        int8_simd: Cycles per int8 MAC with the vendor-optimised library
            (CMSIS-NN, ESP-NN); equal to ``int8`` where the core has no SIMD.
        float_hw: Cycles per float32 MAC with a hardware FPU; equal to
            ``float_soft`` where the family has no FPU option.
        float_soft: Cycles per float32 MAC in software floating point.
        basis: One line on where the cycle figures come from.

    """

    key: str
    label: str
    int8: Decimal
    int8_simd: Decimal
    float_hw: Decimal
    float_soft: Decimal
    basis: str


# Calibration of Thumb-2 density: see calibrate_thumb2() and the README.
# The other families are expressed relative to Thumb-2 (estimates).
_RELATIVE_TO_THUMB2: dict[str, Decimal] = {
    "cortex-m0": Decimal("1.15"),  # ARMv6-M, as Cortex-M0+
    "cortex-m0plus": Decimal("1.15"),  # ARMv6-M: 16-bit Thumb only, no IT/CBZ/UMULL
    "cortex-m3": Decimal("1.00"),
    "cortex-m4": Decimal("1.00"),
    "cortex-m7": Decimal("1.00"),
    "cortex-m33": Decimal("1.00"),
    "cortex-m55": Decimal("1.00"),
    "cortex-m85": Decimal("1.00"),  # ARMv8.1-M Mainline, as Cortex-M55
    "arc-em": Decimal("1.05"),  # ARCv2 16/32-bit encodings, close to Thumb-2
    "xtensa-lx6": Decimal("1.10"),  # 24/16-bit encodings (code density option)
    "xtensa-lx7": Decimal("1.10"),
    "riscv32": Decimal("1.20"),  # RV32IMC under GCC -Os
}

# Cycles per MAC.  ``S`` marks a figure derived from a published source, ``E``
# an estimate; the README shows every derivation.
CORE_FAMILIES: tuple[CoreFamily, ...] = (
    CoreFamily(
        "cortex-m0",
        "Arm Cortex-M0",
        int8=Decimal("14"),  # E: as Cortex-M0+ (same ARMv6-M code)
        int8_simd=Decimal("14"),
        float_hw=Decimal("280"),
        float_soft=Decimal("280"),  # S: as Cortex-M0+ (Qfplib GCC cycle table)
        basis="as Cortex-M0+",
    ),
    CoreFamily(
        "cortex-m0plus",
        "Arm Cortex-M0+",
        int8=Decimal("14"),  # E: Thumb-1 inner loop, no SIMD
        int8_simd=Decimal("14"),  # no DSP extension: CMSIS-NN falls back to C
        float_hw=Decimal("280"),  # no FPU option on ARMv6-M
        float_soft=Decimal("280"),  # S: GCC libgcc fadd 102 + fmul 166 cycles (Qfplib table)
        basis="soft-float from Qfplib-M0 GCC cycle table; int8 estimate",
    ),
    CoreFamily(
        "cortex-m3",
        "Arm Cortex-M3",
        int8=Decimal("8"),  # E
        int8_simd=Decimal("8"),  # no DSP extension
        float_hw=Decimal("120"),  # no FPU option on Cortex-M3
        float_soft=Decimal("120"),  # E: Thumb-2 UMULL/CLZ roughly halve the M0 cost
        basis="estimate",
    ),
    CoreFamily(
        "cortex-m4",
        "Arm Cortex-M4",
        int8=Decimal("8"),  # E
        int8_simd=Decimal("1.7"),  # S-derived: 8 / 4.6 (CMSIS-NN speed-up)
        float_hw=Decimal("5"),  # E: VLDR x2 + VFMA (M4F)
        float_soft=Decimal("120"),  # E
        basis="SIMD from CMSIS-NN 4.6x speed-up over the int8 estimate",
    ),
    CoreFamily(
        "cortex-m7",
        "Arm Cortex-M7",
        int8=Decimal("5"),  # E: dual issue
        int8_simd=Decimal("1.1"),  # S-derived: 5 / 4.6 (CMSIS-NN measured on M7)
        float_hw=Decimal("3"),  # E
        float_soft=Decimal("80"),  # E
        basis="SIMD from CMSIS-NN 4.6x speed-up measured on Cortex-M7",
    ),
    CoreFamily(
        "cortex-m33",
        "Arm Cortex-M33",
        int8=Decimal("8"),  # E
        int8_simd=Decimal("1.7"),  # S-derived as for M4 (DSP extension assumed)
        float_hw=Decimal("5"),  # E
        float_soft=Decimal("120"),  # E
        basis="as Cortex-M4 (DSP extension and FPU assumed present)",
    ),
    CoreFamily(
        "cortex-m55",
        "Arm Cortex-M55",
        int8=Decimal("7"),  # E
        int8_simd=Decimal("0.5"),  # E: Helium/MVE, 16 int8 lanes over 2 beats
        float_hw=Decimal("4"),  # E: scalar FPU (reference kernels do not vectorise)
        float_soft=Decimal("120"),  # E
        basis="estimate",
    ),
    CoreFamily(
        "cortex-m85",
        "Arm Cortex-M85",
        int8=Decimal("7"),  # E: as Cortex-M55 (Helium, scalar pipeline no slower)
        int8_simd=Decimal("0.5"),  # E
        float_hw=Decimal("4"),  # E
        float_soft=Decimal("120"),  # E
        basis="as Cortex-M55 (estimate)",
    ),
    CoreFamily(
        "arc-em",
        "Synopsys ARC EM",
        int8=Decimal("10"),  # E: scalar 32-bit MAC, between Cortex-M3 and Xtensa ANSI C
        int8_simd=Decimal("10"),  # E: no figure for the optional DSP option; not credited
        float_hw=Decimal("5"),  # E: with the optional FPU
        float_soft=Decimal("150"),  # E
        basis="estimate",
    ),
    CoreFamily(
        "xtensa-lx6",
        "Cadence Xtensa LX6 (ESP32)",
        int8=Decimal("11.33"),  # E: taken equal to the LX7 ANSI-C figure
        int8_simd=Decimal("11.33"),  # no vector unit; ESP-NN uses generic C here
        float_hw=Decimal("4"),  # E: single-precision FPU (MADD.S)
        float_soft=Decimal("150"),  # E
        basis="int8 taken from the ESP32-S3 ANSI-C figure (same pipeline class)",
    ),
    CoreFamily(
        "xtensa-lx7",
        "Cadence Xtensa LX7 (ESP32-S3)",
        int8=Decimal("11.33"),  # S: ESP-NN README, 4,642,259 cycles / 409,600 MACs
        int8_simd=Decimal("1.13"),  # S: ESP-NN README, 461,398 cycles / 409,600 MACs
        float_hw=Decimal("4"),  # E
        float_soft=Decimal("150"),  # E
        basis="ESP-NN README kernel table (1x1 conv, ESP32-S3 at 240 MHz)",
    ),
    CoreFamily(
        "riscv32",
        "RISC-V RV32 (RV32IMC/IMAFC)",
        int8=Decimal("9.78"),  # S: ESP-NN README, ESP32-P4 ANSI C 4,005,512 / 409,600
        int8_simd=Decimal("9.78"),  # base RV32IMC has no packed SIMD
        float_hw=Decimal("5"),  # E: RV32F FMADD.S with loads
        float_soft=Decimal("150"),  # E
        basis="int8 from ESP-NN README (ESP32-P4 ANSI C); rest estimate",
    ),
    CoreFamily(
        "other",
        "Other / unknown core",
        int8=Decimal("16"),  # E: conservative
        int8_simd=Decimal("16"),
        float_hw=Decimal("8"),
        float_soft=Decimal("300"),
        basis="conservative estimate",
    ),
)

FAMILY_KEYS: tuple[str, ...] = tuple(f.key for f in CORE_FAMILIES)

# Published calibration point (TFLM overview, see README): the core runtime
# fits in 16 KB on a Cortex-M3; with the operators of the speech keyword model
# (DEPTHWISE_CONV_2D, FULLY_CONNECTED, SOFTMAX at the time) 22 KB in total.
CALIBRATION_TOTAL_BYTES = 22 * 1024
CALIBRATION_OPS: tuple[str, ...] = ("DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX")

# Resolver size assumed for the RAM overhead (MicroMutableOpResolver<N>).
RESOLVER_SLOTS = 16

# ---------------------------------------------------------------------------
# Reading the wheel
# ---------------------------------------------------------------------------


def _tool(name: str) -> str:
    """Path of a binutils program, or exit with a clear message."""
    path = shutil.which(name)
    if path is None:
        raise SystemExit(
            f"runtime_tables: `{name}` (GNU binutils) is required to read the "
            f"tflite-micro wheel's symbol table but was not found on PATH; "
            f"install binutils (e.g. `apt-get install binutils`) and retry."
        )
    return path


def wheel_version() -> str:
    """Version of the installed ``tflite-micro`` distribution."""
    return importlib.metadata.version(RUNTIME_NAME)


def runtime_library() -> Path:
    """Path of the wheel's ``_runtime.so``."""
    spec = importlib.util.find_spec("tflite_micro")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("runtime_tables: the tflite-micro wheel is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    hits = sorted(root.rglob("_runtime*.so"))
    if not hits:
        raise SystemExit(f"runtime_tables: no _runtime*.so under {root}")
    return hits[0]


def _schema_module() -> ModuleType:
    """The flatbuffer schema module shipped in the wheel."""
    name = "tflite_micro.tensorflow.lite.micro.python.schema_py_generated"
    try:
        return importlib.import_module(name)
    except ImportError:
        spec = importlib.util.find_spec("tflite_micro")
        assert spec is not None and spec.submodule_search_locations
        root = Path(next(iter(spec.submodule_search_locations)))
        path = next(root.rglob("schema_py_generated.py"))
        loader_spec = importlib.util.spec_from_file_location("_tflm_schema", path)
        assert loader_spec is not None and loader_spec.loader is not None
        module = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
        return module


def builtin_operator_names() -> dict[int, str]:
    """Map of ``BuiltinOperator`` codes to enum names, from the wheel's schema."""
    enum = _schema_module().BuiltinOperator
    return {
        value: name
        for name, value in vars(enum).items()
        if not name.startswith("_") and isinstance(value, int)
    }


@dataclass(frozen=True)
class Symbol:
    """One defined text symbol of the shared library."""

    address: int
    size: int
    name: str


def text_symbols(library: Path) -> list[Symbol]:
    """Defined code symbols with sizes, one per address, sorted by address."""
    out = subprocess.run(
        [_tool("nm"), "-C", "-S", "--defined-only", str(library)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    by_address: dict[int, Symbol] = {}
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) != 4 or parts[2] not in {"t", "T", "W", "w", "i"}:
            continue
        address, size = int(parts[0], 16), int(parts[1], 16)
        if size and address not in by_address:
            by_address[address] = Symbol(address, size, parts[3])
    return [by_address[a] for a in sorted(by_address)]


@functools.lru_cache(maxsize=4)
def _disassembly(library: Path) -> dict[int, list[str]]:
    """Demangled disassembly of the whole library, split per function start address."""
    out = subprocess.run(
        [_tool("objdump"), "-d", "-C", "--no-show-raw-insn", str(library)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    functions: dict[int, list[str]] = {}
    current: list[str] = []
    for line in out.splitlines():
        if head := _FUNCTION_HEAD.match(line):
            current = functions.setdefault(int(head.group(1), 16), [])
        current.append(line)
    return functions


_FUNCTION_HEAD = re.compile(r"^([0-9a-f]+) <.*>:$")


def _disassemble(library: Path, symbol: Symbol) -> list[str]:
    """Demangled disassembly lines of one function."""
    return _disassembly(library).get(symbol.address, [])


def _c_string(library: Path, address: int) -> str:
    """NUL-terminated string at a virtual address (via the ELF section table)."""
    data = library.read_bytes()
    out = subprocess.run(
        [_tool("objdump"), "-h", "-w", str(library)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for line in out.splitlines():
        cols = line.split()
        if len(cols) >= 6 and cols[0].isdigit():
            size, vma, offset = int(cols[2], 16), int(cols[3], 16), int(cols[5], 16)
            if vma <= address < vma + size:
                start = offset + (address - vma)
                return data[start : data.index(b"\0", start)].decode()
    raise ValueError(f"address {address:#x} is in no section")


@dataclass(frozen=True)
class Registration:
    """One operator the wheel's op resolver registers.

    Attributes:
        op: BuiltinOperator name, or the custom operator's name.
        is_custom: Whether it is registered with ``AddCustom``.
        register_fn: The ``Register_XXX`` function's short name (``CONV_2D``).

    """

    op: str
    is_custom: bool
    register_fn: str


_CALL = re.compile(r"call\s+([0-9a-f]+) <(.+)>")
_REGISTER = re.compile(r"Register_([A-Za-z0-9_]+)\(\)")
_ESI_IMM = re.compile(r"mov\s+\$0x([0-9a-f]+),%esi")
_CODE_STORE = re.compile(r"movl\s+\$0x([0-9a-f]+),0x[0-9a-f]+\(%r\w+,%r\w+,4\)")
_RSI_LEA = re.compile(r"lea\s+.*,%rsi\s+# ([0-9a-f]+)")
_NULL_BODY = re.compile(r"^\s*[0-9a-f]+:\s+(xor\s+%eax,%eax|ret)\b")


def _returns_null(library: Path, symbols: dict[str, Symbol], name: str) -> bool:
    """Whether a ``Register_XXX()`` is a stub that returns ``nullptr``."""
    sym = symbols.get(name)
    if sym is None or sym.size > 16:
        return False
    body = [ln for ln in _disassemble(library, sym) if re.match(r"^\s*[0-9a-f]+:", ln)]
    meaningful = [ln for ln in body if "nop" not in ln and "data16" not in ln]
    return len(meaningful) == 2 and all(_NULL_BODY.match(ln) for ln in meaningful)


def resolver_registrations(library: Path, symbols: list[Symbol]) -> list[Registration]:
    """Operators added by ``tflite::PythonOpsResolver::PythonOpsResolver()``.

    The constructor is disassembled; each ``Register_XXX()`` call is paired with
    the builtin code it is stored under (an immediate passed to ``AddBuiltin``
    or written into the resolver's code table when that call is inlined) or
    with the name string passed to ``AddCustom``.
    """
    by_name = {s.name: s for s in symbols}
    ctor = next(s for s in symbols if s.name == "tflite::PythonOpsResolver::PythonOpsResolver()")
    names = builtin_operator_names()
    regs: list[Registration] = []
    current: str | None = None
    current_full = ""
    pending_code: int | None = None
    for line in _disassemble(library, ctor):
        call = _CALL.search(line)
        if call:
            target = call.group(2)
            reg = _REGISTER.search(target)
            if reg and "GetString_" not in target:
                current, current_full, pending_code = reg.group(1), target, None
                continue
            if "AddBuiltin" in target and current is not None:
                if pending_code is None:
                    raise RuntimeError(f"no builtin code found for Register_{current}")
                regs.append(Registration(names[pending_code], False, current))
                current = None
            elif "AddCustom" in target and current is not None:
                if pending_code is None:
                    raise RuntimeError(f"no custom name found for Register_{current}")
                regs.append(Registration(_c_string(library, pending_code), True, current))
                current = None
            elif "GetString_" in target and current is not None:
                # name from a function; only reached if the registration is real
                if _returns_null(library, by_name, current_full):
                    current = None
                else:  # pragma: no cover - no such case in the current wheel
                    raise RuntimeError(f"custom name of Register_{current} is computed")
            continue
        if current is None:
            continue
        if (m := _ESI_IMM.search(line)) or (m := _RSI_LEA.search(line)):
            pending_code = int(m.group(1), 16)
        elif m := _CODE_STORE.search(line):
            regs.append(Registration(names[int(m.group(1), 16)], False, current))
            current = None
    # Register_ functions that return nullptr are stubs (e.g. Ethos-U without the NPU)
    return [
        r
        for r in regs
        if not _returns_null(library, by_name, _register_symbol_name(by_name, r.register_fn))
    ]


def _register_symbol_name(by_name: dict[str, Symbol], short: str) -> str:
    """Full demangled name of ``Register_<short>()``."""
    for name in by_name:
        if name.endswith(f"::Register_{short}()"):
            return name
    return ""


# ---------------------------------------------------------------------------
# Code size attribution
# ---------------------------------------------------------------------------

CORE = "__core__"
EXCLUDED = "__excluded__"

# Code that is not part of an MCU build: the Python binding, the C++ standard
# library, recording (debug) allocators and the model-compression decoder.
_EXCLUDE = re.compile(
    r"pybind11|^std::|\bstd::|^PyInit|InterpreterWrapper|PythonOpsResolver|ConvertFromPy|"
    r"Recording|^_init$|^_fini$|frame_dummy|tm_clones|__do_global|_GLOBAL__|"
    r"numpy|Py[A-Z]\w+|__cxx|\bthunk\b"
)
# The interpreter core: interpreter, graph, contexts, allocator and memory
# planners, op resolver, flatbuffer access, logging and the shared kernel and
# quantisation helpers every kernel uses.
_CORE = re.compile(
    r"MicroInterpreter|MicroAllocator|MicroGraph|MicroContext|ArenaBufferAllocator|"
    r"MemoryPlanner|AllocationInfoBuilder|MicroMutableOpResolver|MicroOpResolver|"
    r"MicroResourceVariables|MicroProfiler|flatbuffers::|MicroPrintf|DebugLog|"
    r"MicroSnprintf|MicroVsnprintf|FlatBufferVectorToTfLiteIntArray|ConvertTensorType|"
    r"ParseOpData\b|GetBuiltinDataAllocator|QuantizeMultiplier|GetTensorShape|"
    r"TfLiteTypeSizeOf|BytesRequiredForTensor|AlignPointer|ElementCount|"
    r"GetEvalInput|GetEvalOutput|GetMicroContext|TfLiteIntArray|"
    r"CalculateActivationRange|HaveSameShapes|CopyOpInputsToOpOutputs|"
    r"ValidateAndGetTensorSizes|GetMicroErrorReporter|MicroErrorReporter|"
    r"FlatBufferVectorToTfLite|GetRegistrationFromOpCode|InitializeTfLiteTensorFromFlatbuffer"
)
# Support libraries that belong to one registered operator.
_LIBRARY_OWNERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"DecompressionState|DecodeState"), "DECODE"),  # model decompression
    (re.compile(r"kiss_fft"), "RFFT"),  # FFT library behind the signal RFFT op
)
_TOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_LEADING = {"register", "parse"}


def _tokens(text: str) -> list[str]:
    """Lower-case word tokens of an identifier (CamelCase, snake and digits)."""
    return [t.lower() for part in text.split("_") for t in _TOKEN.findall(part)]


def _components(name: str) -> list[str]:
    """Scope components of a demangled name, innermost first, without arguments."""
    depth, head = 0, []
    for ch in name.replace("(anonymous namespace)::", ""):
        if ch in "(<":
            if depth == 0 and ch == "(":
                break
            depth += 1
        elif ch in ")>":
            depth -= 1
        elif depth == 0:
            head.append(ch)
    base = "".join(head).split(" ")[-1]
    return [c for c in reversed(base.split("::")) if c]


def _op_keys(register_fn: str) -> list[list[str]]:
    """Token sequences that identify a kernel's functions."""
    full = _tokens(register_fn)
    keys = [full]
    for suffix in (["2", "d"], ["nd"]):
        if full[-len(suffix) :] == suffix and len(full) > len(suffix):
            keys.append(full[: -len(suffix)])
    return keys


def _match_op(symbol: Symbol, keys: dict[str, list[list[str]]]) -> str | None:
    """The operator whose tokens start the symbol's innermost names, if any."""
    for component in _components(symbol.name)[:2]:
        toks = _tokens(component)
        while toks and toks[0] in _LEADING:
            toks = toks[1:]
        best, best_len = None, 0
        for op, seqs in keys.items():
            for seq in seqs:
                if len(seq) > best_len and toks[: len(seq)] == seq:
                    best, best_len = op, len(seq)
        if best is not None:
            return best
    return None


def attribute_code(symbols: list[Symbol], registrations: list[Registration]) -> dict[str, int]:
    """x86-64 code bytes per registered operator and for the interpreter core.

    Each text symbol is assigned, in order of precedence, to: excluded code
    (Python binding, C++ library, debug-only allocators); the interpreter core
    (by class or helper name); an operator whose name its innermost scope
    starts with (``ConvEval`` → CONV_2D, ``ParseSoftmax`` → SOFTMAX); or, when
    none applies, to the owner of the nearest assigned symbol by address —
    the linker keeps each translation unit's functions together, so anonymous
    helpers land with their kernel.

    Returns:
        Bytes keyed by operator name, plus ``CORE`` for the interpreter core.

    """
    keys = {r.op: _op_keys(r.register_fn) for r in registrations}
    by_fn = {r.register_fn: r.op for r in registrations}
    special = [(rx, by_fn[fn]) for rx, fn in _LIBRARY_OWNERS if fn in by_fn]
    owner: list[str | None] = []
    for sym in symbols:
        library_owner = next((op for rx, op in special if rx.search(sym.name)), None)
        if library_owner is not None:
            owner.append(library_owner)
        elif _EXCLUDE.search(sym.name):
            owner.append(EXCLUDED)
        elif _CORE.search(sym.name):
            owner.append(CORE)
        else:
            owner.append(_match_op(sym, keys))
    resolved = list(owner)
    for i, who in enumerate(owner):
        if who is not None:
            continue
        prev = next((j for j in range(i - 1, -1, -1) if owner[j] is not None), None)
        nxt = next((j for j in range(i + 1, len(owner)) if owner[j] is not None), None)
        candidates = [j for j in (prev, nxt) if j is not None]
        if not candidates:
            resolved[i] = EXCLUDED
            continue
        j = min(candidates, key=lambda k: abs(symbols[k].address - symbols[i].address))
        resolved[i] = owner[j]
    sizes: dict[str, int] = defaultdict(int)
    for sym, who in zip(symbols, resolved, strict=True):
        assert who is not None
        sizes[who] += sym.size
    return dict(sizes)


def calibrate_thumb2(x86: dict[str, int]) -> Decimal:
    """Thumb-2 code bytes per x86-64 code byte, from the published 22 KB figure."""
    measured = x86[CORE] + sum(x86.get(op, 0) for op in CALIBRATION_OPS)
    return (Decimal(CALIBRATION_TOTAL_BYTES) / Decimal(measured)).quantize(Decimal("0.001"))


def family_factors(thumb2: Decimal) -> dict[str, Decimal]:
    """ISA density factor (target bytes per x86-64 byte) per core family."""
    factors = {key: thumb2 * rel for key, rel in _RELATIVE_TO_THUMB2.items()}
    factors["other"] = Decimal("1.00")  # conservative: no denser than x86-64
    return factors


# ---------------------------------------------------------------------------
# RAM outside the arena
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RamOverhead:
    """RAM the runtime needs outside the tensor arena, from the x86-64 build.

    Attributes:
        interpreter: ``sizeof(MicroInterpreter)`` (the binding's ``operator new``).
        resolver: A ``MicroMutableOpResolver<RESOLVER_SLOTS>`` object.
        resolver_per_slot: Bytes per resolver slot.
        stack: Stack frames of ``Invoke`` → ``InvokeSubgraph`` → kernel ``Eval`` →
            one reference-kernel callee (the two largest kernel frames).

    """

    interpreter: int
    resolver: int
    resolver_per_slot: int
    stack: int

    @property
    def total(self) -> int:
        """Sum of the parts."""
        return self.interpreter + self.resolver + self.stack


_NEW_SIZE = re.compile(r"mov\s+\$0x([0-9a-f]+),%edi")
_SUB_RSP = re.compile(r"sub\s+\$0x([0-9a-f]+),%rsp")


def _frame_bytes(library: Path, symbol: Symbol) -> int:
    """Stack frame of a function: return address, pushes and ``sub rsp``."""
    frame = 8
    for line in _disassemble(library, symbol)[:40]:
        if re.search(r"\spush\s", line):
            frame += 8
        elif m := _SUB_RSP.search(line):
            frame += int(m.group(1), 16)
            break
    return frame


def ram_overhead(library: Path, symbols: list[Symbol], kernel_symbols: list[Symbol]) -> RamOverhead:
    """Measure the runtime's RAM outside the arena from the x86-64 binary."""
    wrapper = next(
        s
        for s in symbols
        if "InterpreterWrapper::InterpreterWrapper" in s.name and "[clone" not in s.name
    )
    interpreter = None
    last_imm = None
    for line in _disassemble(library, wrapper):
        if m := _NEW_SIZE.search(line):
            last_imm = int(m.group(1), 16)
        call = _CALL.search(line)
        if call and "operator new(" in call.group(2):
            interpreter_candidate = last_imm
        elif call and "MicroInterpreter::MicroInterpreter" in call.group(2):
            interpreter = interpreter_candidate
            break
    if interpreter is None:
        raise RuntimeError("sizeof(MicroInterpreter) not found in the binding")

    ctor = next(s for s in symbols if s.name == "tflite::PythonOpsResolver::PythonOpsResolver()")
    text = "\n".join(_disassemble(library, ctor))
    strides = Counter(re.findall(r"add\s+\$0x([0-9a-f]+),%rax", text))
    stride = int(strides.most_common(1)[0][0], 16)
    capacity = int(re.search(r"cmp\s+\$0x([0-9a-f]+),%ecx", text).group(1), 16)  # type: ignore[union-attr]
    offsets = [int(o, 16) for o in re.findall(r"0x([0-9a-f]+)\(%rbx\)", text)]
    full_size = max(offsets) + 4
    # a slot holds the registration, its BuiltinOperator (4) and parser pointer (8)
    per_slot = stride + 4 + 8
    fixed = full_size - capacity * per_slot
    resolver = fixed + RESOLVER_SLOTS * per_slot

    by_name = {s.name: s for s in symbols}
    chain = [
        by_name["tflite::micro::MicroInterpreter::Invoke()"],
        by_name["tflite::micro::MicroInterpreterGraph::InvokeSubgraph(int)"],
    ]
    stack = sum(_frame_bytes(library, s) for s in chain)
    frames = sorted((_frame_bytes(library, s) for s in kernel_symbols), reverse=True)
    stack += sum(frames[:2])
    return RamOverhead(interpreter, resolver, per_slot, stack)


# ---------------------------------------------------------------------------
# Graphs
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RuntimeFacts:
    """Everything measured from the wheel."""

    version: str
    registrations: list[Registration]
    x86_bytes: dict[str, int]
    thumb2_factor: Decimal
    ram: RamOverhead


def measure() -> RuntimeFacts:
    """Read the installed wheel and derive the runtime facts."""
    library = runtime_library()
    symbols = text_symbols(library)
    registrations = resolver_registrations(library, symbols)
    x86 = attribute_code(symbols, registrations)
    ops = {r.op for r in registrations if not r.is_custom}
    keys = {r.op: _op_keys(r.register_fn) for r in registrations}
    kernel_syms = [
        s
        for s in symbols
        if not _EXCLUDE.search(s.name) and not _CORE.search(s.name) and _match_op(s, keys) in ops
    ]
    ram = ram_overhead(library, symbols, kernel_syms)
    return RuntimeFacts(wheel_version(), registrations, x86, calibrate_thumb2(x86), ram)


POOLS = "AVERAGE_POOL_2D + MAX_POOL_2D"
#: Linker-map groups counted as the interpreter core on a target (``tr:hasCoreCodeSize``).
TARGET_CORE_GROUPS = ("TFLM framework", "CMSIS-NN support")
_OPERATOR_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class TargetCode:
    """Code sizes measured from the linker map of the firmware agent for one core family.

    Attributes:
        family: The core family.
        by_operator: Bytes per operator kernel (TFLM kernel plus the CMSIS-NN functions it
            calls). AVERAGE_POOL_2D and MAX_POOL_2D share one object file: each carries the
            shared figure (an upper bound for either alone).
        core_bytes: The TFLM framework (interpreter, allocator, flatbuffer parsing) plus the
            CMSIS-NN support functions every kernel shares.
        source: How it was measured: target, compiler, flags, TFLM commit, date.

    """

    family: str
    by_operator: dict[str, int]
    core_bytes: int
    source: str


def measured_code_sizes(path: Path = MEASUREMENTS) -> dict[str, TargetCode]:
    """Measured code sizes per core family from ``target-measurements.json``.

    Args:
        path: The measurements file ``scripts/measure_targets.py`` writes.

    Returns:
        One :class:`TargetCode` per measured core family (none when the file is absent).

    """
    if not path.is_file():
        return {}
    document = json.loads(path.read_text())
    prov = document["provenance"]
    out: dict[str, TargetCode] = {}
    for target, facts in sorted(document["targets"].items()):
        groups: dict[str, int] = facts["code_bytes_by_operator"]
        by_operator: dict[str, int] = {}
        for key, size in groups.items():
            if key == POOLS:
                by_operator["AVERAGE_POOL_2D"] = by_operator["MAX_POOL_2D"] = size
            elif _OPERATOR_KEY.match(key):
                by_operator[key] = size
        source = (
            f"measured: linker map of the firmware agent for {target} ({facts['cpu']}), "
            f"{prov['toolchain']}, {facts['compiler_flags']}, TFLM {prov['tflm_commit']}, "
            f"{prov['kernels']}, {prov['measured_at']} (scripts/measure_targets.py)"
        )
        core = sum(groups.get(k, 0) for k in TARGET_CORE_GROUPS)
        out[facts["family"]] = TargetCode(facts["family"], by_operator, core, source)
    return out


def _bind(g: Graph) -> None:
    g.bind("tr", TR)
    g.bind("op", OP)
    g.bind("rdfs", RDFS)
    g.bind("xsd", XSD)


def build_runtime_graph(facts: RuntimeFacts | None = None) -> Graph:
    """The ``tflite-micro.ttl`` graph for the installed wheel.

    Args:
        facts: Pre-computed measurements; measured from the wheel when omitted.

    Returns:
        An rdflib graph with the runtime node, its operators, RAM overhead
        and code sizes per core family.

    """
    facts = facts or measure()
    g = Graph()
    _bind(g)
    rt = URIRef(RUNTIME_BASE + facts.version)
    g.add((rt, RDF.type, TR.Runtime))
    g.add((rt, TR.runtimeName, Literal(RUNTIME_NAME)))
    g.add((rt, TR.runtimeVersion, Literal(facts.version)))
    g.add((rt, RDFS.label, Literal(f"{RUNTIME_NAME} {facts.version}")))
    g.add((rt, TR.ramOverheadBytes, Literal(facts.ram.total, datatype=XSD.integer)))
    for reg in sorted(facts.registrations, key=lambda r: r.op):
        node = BNode()
        g.add((rt, TR.supportsOperator, node))
        g.add((node, RDF.type, TR.OperatorCode))
        g.add((node, TR.operatorType, OP[reg.op]))
        if reg.is_custom:
            g.add((node, TR.isCustom, Literal(True)))
    factors = family_factors(facts.thumb2_factor)
    measured = measured_code_sizes()
    for family in FAMILY_KEYS:
        factor = factors[family]
        on_target = measured.get(family)
        estimate = f"estimate: x86-64 bytes of the wheel x {factor} (kg_data/runtimes/README.md)"
        entries: list[tuple[str | None, int]] = [(None, facts.x86_bytes[CORE])]
        entries += [(r.op, facts.x86_bytes.get(r.op, 0)) for r in facts.registrations]
        for op, x86 in entries:
            node = BNode()
            g.add((rt, TR.hasCodeSize if op is not None else TR.hasCoreCodeSize, node))
            g.add((node, RDF.type, TR.CodeSize))
            g.add((node, TR.coreFamily, Literal(family)))
            if op is not None:
                g.add((node, TR.operatorType, OP[op]))
            code = max(1, int((Decimal(x86) * factor).to_integral_value()))
            source = estimate
            if on_target is not None:
                found = on_target.core_bytes if op is None else on_target.by_operator.get(op)
                if found is not None:
                    code, source = found, on_target.source
            g.add((node, TR.codeBytes, Literal(code, datatype=XSD.integer)))
            g.add((node, TR.figureSource, Literal(source)))
    return g


def _decimal(value: Decimal) -> Literal:
    """An ``xsd:decimal`` literal in canonical lexical form (always with a point)."""
    text = format(value, "f")
    return Literal(text if "." in text else f"{text}.0", datatype=XSD.decimal)


@dataclass(frozen=True)
class CalibratedCycles:
    """Cycles per MAC of a core family derived from measured instruction counts.

    Attributes:
        int8_simd: Cycles per int8 MAC with CMSIS-NN (instructions per MAC × CPI).
        float_hw: Cycles per float MAC with the FPU (instructions per MAC × CPI).
        source: Where the figures come from, in one line.
        error_band: Median |estimate / measurement − 1| on held-out board measurements,
            ``None`` where no board measurement could test it.

    """

    int8_simd: Decimal
    float_hw: Decimal
    source: str
    error_band: Decimal | None


def calibrated_cycles(cal: Calibration) -> dict[str, CalibratedCycles]:
    """Cycles per MAC for every core family with measured instruction counts.

    A family with a board model (:class:`~tinyreg.kg_data.latency_calibration.BoardModel`)
    uses its cycles per instruction; one without uses 1 cycle per instruction, a lower
    bound for a single-issue core with code and data in zero-wait-state memory.
    """
    out: dict[str, CalibratedCycles] = {}
    families = sorted({family for family, _ in cal.instruction_models})
    prov = cal.provenance
    for family in families:
        int8 = cal.instruction_models.get((family, "int8"))
        flt = cal.instruction_models.get((family, "float"))
        if int8 is None or flt is None:
            continue
        board = cal.board_for(family)
        cpi = board.cycles_per_instruction if board is not None else 1.0
        measured = (
            f"instructions per MAC fitted on QEMU counts (firmware agent, TFLM "
            f"{prov['tflm_commit'][:7]}, CMSIS-NN, {prov['toolchain']}; {prov['measured_at']}): "
            f"int8 {int8.per_mac_overall}, float {flt.per_mac_overall}"
        )
        if board is not None:
            error = board.median_error
            source = (
                f"calibrated: {measured}; x {cpi} cycles per instruction of the {board.board} "
                f"at {board.clock_hz // 1_000_000} MHz fitted on published MLPerf Tiny "
                f"latencies ({board.runtime}; kg_data/runtimes/README.md)"
            )
            band = Decimal(str(round(error, 3))) if error is not None else None
        else:
            source = (
                f"measured instructions: {measured}; x 1 cycle per instruction, a lower bound "
                "(no published board latency used; error unknown)"
            )
            band = None
        out[family] = CalibratedCycles(
            Decimal(str(round(int8.per_mac_overall * cpi, 2))),
            Decimal(str(round(flt.per_mac_overall * cpi, 2))),
            source,
            band,
        )
    return out


def build_cores_graph(calibration: Calibration | None = None) -> Graph:
    """The ``cores.ttl`` graph: cycles per MAC for each core family.

    Args:
        calibration: The latency calibration; computed from the committed measurements
            when omitted. Families it covers get calibrated int8-SIMD and float figures.

    Returns:
        An rdflib graph with one ``tr:CoreFamily`` per family.

    """
    calibrated = calibrated_cycles(calibration or calibrate())
    g = Graph()
    _bind(g)
    for fam in CORE_FAMILIES:
        node = URIRef(CORE_BASE + fam.key)
        g.add((node, RDF.type, TR.CoreFamily))
        g.add((node, TR.coreFamily, Literal(fam.key)))
        g.add((node, RDFS.label, Literal(fam.label)))
        cal = calibrated.get(fam.key)
        int8_simd = cal.int8_simd if cal is not None else fam.int8_simd
        float_hw = cal.float_hw if cal is not None else fam.float_hw
        for prop, value in (
            (TR.cyclesPerMacInt8, fam.int8),
            (TR.cyclesPerMacInt8Simd, int8_simd),
            (TR.cyclesPerMacFloat, float_hw),
            (TR.cyclesPerMacFloatSoft, fam.float_soft),
        ):
            g.add((node, prop, _decimal(value)))
        if cal is None:
            source = f"estimate: {fam.basis} (kg_data/runtimes/README.md)"
        else:
            source = (
                f"int8 SIMD and float: {cal.source}; int8 reference kernels and soft float: "
                f"estimate ({fam.basis})"
            )
        g.add((node, TR.figureSource, Literal(source)))
        if cal is not None and cal.error_band is not None:
            g.add((node, TR.latencyErrorBand, _decimal(cal.error_band)))
    return g


def write(out_dir: Path = OUT_DIR) -> RuntimeFacts:
    """Regenerate both Turtle files in ``out_dir`` and return the measurements."""
    out_dir.mkdir(parents=True, exist_ok=True)
    facts = measure()
    build_runtime_graph(facts).serialize(out_dir / "tflite-micro.ttl", format="turtle")
    build_cores_graph().serialize(out_dir / "cores.ttl", format="turtle")
    return facts


def _report(facts: RuntimeFacts) -> None:
    """Print the figures the README quotes."""
    ram = facts.ram
    print(
        f"tflite-micro {facts.version}: {len(facts.registrations)} operators "
        f"({sum(r.is_custom for r in facts.registrations)} custom)"
    )
    print(
        f"RAM outside arena: interpreter {ram.interpreter} + resolver<{RESOLVER_SLOTS}> "
        f"{ram.resolver} ({ram.resolver_per_slot}/slot) + stack {ram.stack} = {ram.total}"
    )
    print(f"Thumb-2 factor {facts.thumb2_factor} (x86-64 core {facts.x86_bytes[CORE]} B)")
    factors = family_factors(facts.thumb2_factor)
    for op in (None, "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX"):
        x86 = facts.x86_bytes[op or CORE]
        m4 = int((Decimal(x86) * factors["cortex-m4"]).to_integral_value())
        print(f"  {op or 'interpreter core':20s} x86-64 {x86:7d} B  cortex-m4 {m4:6d} B")


if __name__ == "__main__":
    _report(write())
    sys.exit(0)
