"""One small piece per matchmaking constraint, each with its own explanation.

The verdict query (``matchmaker/queries/verdicts.rq``) decides every constraint of a
model–profile pair at once and returns one row with the figures on both sides. Each
function here reads that row for one constraint (RAM, flash, sensors, operators, runtime,
numerics, latency) and turns it into a :class:`Constraint` with its numbers and a sentence
in words, as pySHACL keeps one class per constraint component. The notes that do not fail
a pair (float32 without an FPU, code sizes not counted, ...) come from the constraint they
belong to. :func:`user_filters` turns the user's own limits into the values the queries
test.

>>> row = VerdictRow.of({"ramFree": 4096, "ramCapacity": 4096, "ramReserved": 0})
>>> ram(row).detail
'RAM: unknown need (no arena measured), has 4,096 B free'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rdflib import Literal
from rdflib.namespace import XSD
from rdflib.term import Node

from tinyreg.core.errors import InputError
from tinyreg.core.namespaces import RUNTIME
from tinyreg.core.vocabulary import TASK_IRIS, TASKS

__all__ = [
    "CONSTRAINTS",
    "NOTES",
    "Constraint",
    "Details",
    "VerdictRow",
    "estimated_latency",
    "flash",
    "flash_notes",
    "latency",
    "latency_notes",
    "local_name",
    "numerics",
    "numerics_notes",
    "operators",
    "ram",
    "runtime",
    "runtime_notes",
    "sensors",
    "user_filters",
]

_INTEGER_KINDS = ("int8", "uint8", "int16x8")


def local_name(iri: str) -> str:
    """The last segment of an IRI, after its last ``#`` or ``/``.

    >>> local_name("https://w3id.org/tinyreg#Accelerometer")
    'Accelerometer'
    """
    for sep in ("#", "/"):
        if sep in iri:
            iri = iri.rsplit(sep, 1)[1]
    return iri


def _bytes(value: int) -> str:
    return f"{value:,} B"


def _margin(available: int, required: int) -> str:
    margin = available - required
    return f"margin {_bytes(margin)}" if margin >= 0 else f"short by {_bytes(-margin)}"


@dataclass(frozen=True)
class Constraint:
    """One constraint of a verdict, with the figures on both sides.

    Attributes:
        name: ``ram``, ``flash``, ``sensors``, ``operators``, ``runtime``, ``numerics`` or
            ``latency``.
        passed: Whether the pair meets it.
        required: What the model needs (bytes, a list of names, ...).
        available: What the device offers.
        unit: The unit of ``required`` and ``available`` (``B``, ``ms``, ...), or ``None``.
        detail: One sentence with the numbers, e.g. ``RAM: needs 9,632 B, has 196,608 B,
            margin 186,976 B``.
        parts: How ``required`` is made up (e.g. arena and runtime overhead).

    """

    name: str
    passed: bool
    required: Any
    available: Any
    unit: str | None
    detail: str
    parts: dict[str, Any] = field(default_factory=dict)

    @property
    def margin(self) -> int | float | None:
        """``available - required`` for numeric constraints, else ``None``."""
        if isinstance(self.required, int | float) and isinstance(self.available, int | float):
            return self.available - self.required
        return None

    def to_dict(self) -> dict[str, Any]:
        """The constraint as JSON-ready data."""
        return {
            "name": self.name,
            "passed": self.passed,
            "required": self.required,
            "available": self.available,
            "unit": self.unit,
            "margin": self.margin,
            "detail": self.detail,
            "parts": dict(self.parts),
        }


@dataclass(frozen=True)
class Details:
    """Names behind one verdict, read when a pair is explained.

    Attributes:
        needs: Each sensor type the model needs, and whether the device provides it.
        operators: Each operator code (IRI, version) and whether the runtime offers it.
        hosted: The sensor types the device hosts.
        release_described: Whether the runtime release has an operator table.

    """

    needs: list[tuple[str, bool]]
    operators: list[tuple[str, int, bool]]
    hosted: list[str]
    release_described: bool = True


@dataclass(frozen=True)
class VerdictRow:
    """One row of the verdict query, with what every constraint reads besides it.

    Attributes:
        values: The row, by variable name.
        max_latency_ms: The user's latency limit, or ``None``.
        details: The names behind the verdict (``explain``), or ``None``.

    """

    values: Mapping[str, Any]
    max_latency_ms: float | None = None
    details: Details | None = None

    @classmethod
    def of(
        cls,
        row: Mapping[str, Any],
        max_latency_ms: float | None = None,
        details: Details | None = None,
    ) -> VerdictRow:
        """A verdict row read from the store's answer."""
        return cls(dict(row), max_latency_ms, details)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The value of a variable, or ``default`` when it is unbound."""
        return self.values.get(key, default)

    def number(self, key: str) -> int:
        """An integer figure, ``0`` when unbound."""
        return int(self.values.get(key) or 0)

    @property
    def release(self) -> str:
        """The IRI of the runtime release the device runs (``""`` if unknown)."""
        return str(self.values.get("release", ""))

    @property
    def runtime_label(self) -> str:
        """The release as words: ``tflite-micro 0.dev2026``."""
        release = self.release
        if release.startswith(str(RUNTIME)):
            return release.removeprefix(str(RUNTIME)).replace("/", " ")
        return local_name(release) if self.values.get("release") else "?"

    @property
    def runtime_name(self) -> str:
        """The runtime's name, without its version."""
        return self.runtime_label.split()[0]

    @property
    def where(self) -> str:
        """What offers the operators: the release, or the device's firmware build of it."""
        if str(self.values.get("runtime", "")) == self.release:
            return self.runtime_label
        return f"this firmware ({self.runtime_label} build)"


# --------------------------------------------------------------------------- constraints


def runtime(row: VerdictRow) -> Constraint:
    """Whether the device's runtime runs the model at all (its assessment of the model)."""
    runnable = bool(row.get("runnable"))
    if row.get("runnable") is None:
        detail = f"runtime: the model was never assessed on {row.runtime_name}"
    elif runnable:
        detail = f"runtime: {row.runtime_name} {row.get('assessedVersion')} builds it"
    else:
        detail = f"runtime: {row.runtime_name} refuses it: {row.get('refusal')}"
    available = "runnable" if runnable else (row.get("refusal") or "not assessed")
    return Constraint("runtime", bool(row["runsOk"]), "runnable", available, None, detail)


def ram(row: VerdictRow) -> Constraint:
    """The arena plus the runtime's own RAM against the RAM the application leaves free."""
    free = int(row["ramFree"])
    capacity, reserved = row["ramCapacity"], row["ramReserved"]
    if row.get("arena") is None:
        detail = f"RAM: unknown need (no arena measured), has {_bytes(free)} free"
        parts = {"capacity": capacity, "reserved": reserved}
        return Constraint("ram", False, None, free, "B", detail, parts)
    need, overhead = int(row["ramNeed"]), row.number("ramOverhead")
    measured = " on the target" if row.get("targetArena") is not None else ""
    detail = (
        f"RAM: needs {_bytes(need)} (arena{measured} {int(row['arena']):,} + runtime "
        f"{overhead:,}), "
        f"has {_bytes(free)} ({int(capacity):,} − {int(reserved):,} reserved), "
        f"{_margin(free, need)}"
    )
    parts = {
        "arena": row["arena"],
        "arena_measured_on": "target" if measured else "host",
        "runtime_overhead": overhead,
        "capacity": capacity,
        "reserved": reserved,
    }
    return Constraint("ram", bool(row["ramOk"]), need, free, "B", detail, parts)


def flash(row: VerdictRow) -> Constraint:
    """The model, the interpreter core and its kernels against the free flash."""
    need, free = int(row["flashNeed"]), int(row["flashFree"])
    core_code, op_code = row.number("coreCode"), row.number("opCode")
    detail = (
        f"flash: needs {_bytes(need)} (model {int(row['modelBytes']):,} + runtime core "
        f"{core_code:,} + kernels {op_code:,}), has {_bytes(free)} "
        f"({int(row['flashCapacity']):,} − {int(row['flashReserved']):,} reserved), "
        f"{_margin(free, need)}"
    )
    parts = {
        "model": row["modelBytes"],
        "runtime_core": core_code,
        "kernels": op_code,
        "capacity": row["flashCapacity"],
        "reserved": row["flashReserved"],
    }
    return Constraint("flash", bool(row["flashOk"]), need, free, "B", detail, parts)


def sensors(row: VerdictRow) -> Constraint:
    """The sensor types the model needs against those the device's sensors provide."""
    passed = bool(row["sensorOk"])
    details = row.details
    if details is None:  # the verdict query says whether, explain names which
        detail = (
            "sensors: every required type provided"
            if passed
            else "sensors: a required sensor type is missing"
        )
        return Constraint("sensors", passed, None, None, None, detail)
    needed = sorted(local_name(need) for need, _ in details.needs)
    missing = sorted(local_name(need) for need, ok in details.needs if not ok)
    hosted = sorted({local_name(h) for h in details.hosted})
    if not needed:
        detail = "sensors: the model needs none"
    elif missing:
        detail = (
            f"sensors: needs {', '.join(needed)}; missing {', '.join(missing)} "
            f"(device has {', '.join(hosted) or 'none'})"
        )
    else:
        detail = f"sensors: needs {', '.join(needed)}, device has {', '.join(hosted)}"
    return Constraint("sensors", passed, needed, hosted, None, detail, {"missing": missing})


def operators(row: VerdictRow) -> Constraint:
    """The model's operator codes against those its runtime (or firmware build) offers."""
    passed = bool(row["opOk"])
    runtime_iri = str(row.get("runtime", ""))
    details = row.details
    if details is None:
        detail = (
            f"operators: all offered by {row.where}"
            if passed
            else f"operators: not all offered by {row.where}"
        )
        used = row.number("opsUsed")
        parts: dict[str, Any] = {"runtime": runtime_iri}
        return Constraint("operators", passed, used or None, None, "operators", detail, parts)
    codes = sorted(details.operators)
    unsupported = [f"{local_name(op)} v{version}" for op, version, ok in codes if not ok]
    if not details.release_described:
        detail = f"operators: no operator table for {row.runtime_label}"
    elif unsupported:
        detail = (
            f"operators: {len(unsupported)} of {len(codes)} not offered by {row.where}: "
            f"{', '.join(unsupported)}"
        )
    else:
        detail = f"operators: all {len(codes)} offered by {row.where}"
    offered = len(codes) - len(unsupported)
    parts = {"unsupported": unsupported, "runtime": runtime_iri}
    return Constraint("operators", passed, len(codes), offered, "operators", detail, parts)


def numerics(row: VerdictRow) -> Constraint:
    """The model's number format on the core's FPU and DSP (never fails: it ranks down)."""
    quant = str(row["quant"])
    fpu, dsp = bool(row["fpu"]), bool(row["dsp"])
    if quant in _INTEGER_KINDS:
        kernels = ("SIMD-optimised" if dsp else "reference") + " int kernels"
    else:
        kernels = "hardware FPU" if fpu else "software float"
    return Constraint(
        "numerics",
        True,
        quant,
        f"FPU {'yes' if fpu else 'no'}, DSP {'yes' if dsp else 'no'}",
        None,
        f"numerics: {quant} on {row['family']} ({kernels})",
        {"cycles_per_mac": row.get("cpm")},
    )


def estimated_latency(row: VerdictRow) -> float | None:
    """The estimated latency in ms (MACs × cycles per MAC ÷ clock), if the core has figures."""
    value = row.get("latencyMs")
    return float(value) if value is not None else None


def latency(row: VerdictRow) -> Constraint | None:
    """The estimated latency against the user's limit; ``None`` without a limit."""
    limit = row.max_latency_ms
    if limit is None:
        return None
    estimate = estimated_latency(row)
    shown = f"{estimate:,.2f} ms" if estimate is not None else "unknown"
    detail = (
        f"latency: estimated {shown} "
        f"({int(row['macs']):,} MACs × {row.get('cpm')} cycles/MAC at "
        f"{int(row['clock']) / 1e6:g} MHz), limit {limit:,} ms"
    )
    band = row.get("latencyBand")
    detail += (
        f"; median error {float(band):.0%} on held-out real-board measurements"
        if band is not None
        else "; cycles per MAC not checked against a real board"
    )
    return Constraint("latency", bool(row["latencyOk"]), limit, estimate, "ms", detail)


CONSTRAINTS: tuple[Callable[[VerdictRow], Constraint | None], ...] = (
    runtime,
    ram,
    flash,
    sensors,
    operators,
    numerics,
    latency,
)
"""Every constraint, in the order a verdict lists them."""


# --------------------------------------------------------------------------- notes


def flash_notes(row: VerdictRow) -> list[str]:
    """Where the flash figure leaves runtime code out (no code-size table or figure)."""
    used, sized = row.number("opsUsed"), row.number("opsSized")
    if row.get("coreCode") is None:
        return [
            f"flash for runtime code is not counted: no code-size table for "
            f"{row.runtime_label} on {row['family']}"
        ]
    if sized < used:
        return [
            f"flash for runtime code is partial: no code-size figure for "
            f"{used - sized} operator(s) on {row['family']}"
        ]
    return []


def numerics_notes(row: VerdictRow) -> list[str]:
    """Slow number formats: float without an FPU, integers without DSP/SIMD."""
    quant = str(row["quant"])
    if quant not in _INTEGER_KINDS and not bool(row["fpu"]):
        return [f"{quant} model on a core without FPU: software floating point, slow"]
    if quant in _INTEGER_KINDS and not bool(row["dsp"]):
        return [f"{quant} model on a core without DSP/SIMD: reference kernels"]
    return []


def latency_notes(row: VerdictRow) -> list[str]:
    """A core family without a cycles-per-MAC figure: no latency estimate."""
    if estimated_latency(row) is None:
        return [f"no cycles-per-MAC figure for core family {row['family']}: latency unknown"]
    return []


def runtime_notes(row: VerdictRow) -> list[str]:
    """An arena measured on another version of the runtime than the device runs."""
    assessed = row.get("assessedVersion")
    if assessed and row.runtime_label.split()[-1] != assessed:
        return [f"arena measured on {row.runtime_name} {assessed}, device runs {row.runtime_label}"]
    return []


NOTES: tuple[Callable[[VerdictRow], list[str]], ...] = (
    flash_notes,
    numerics_notes,
    latency_notes,
    runtime_notes,
)
"""Every note, in the order a verdict lists them."""


# --------------------------------------------------------------------------- user's filters


def user_filters(
    *,
    only_fits: bool,
    task: str | None = None,
    min_metric: float | None = None,
    max_latency_ms: float | None = None,
    text: str | None = None,
    dataset: str | None = None,
) -> dict[str, Node]:
    """The user's constraints as values for the queries' FILTERs.

    They are tested with BOUND() in FILTERs, so they are written into a query as a
    VALUES block (engine-side substitution does not reach FILTERs); the pair keys
    stay bindings.

    >>> sorted(user_filters(only_fits=True, min_metric=0.9))
    ['minMetric', 'onlyFits']

    Raises:
        InputError: If the task is unknown.

    """
    filters: dict[str, Node] = {}
    if only_fits:
        filters["onlyFits"] = Literal(True)
    if task is not None:
        if task not in TASK_IRIS:
            raise InputError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
        filters["wantTask"] = TASK_IRIS[task]
    if min_metric is not None:
        filters["minMetric"] = Literal(float(min_metric), datatype=XSD.double)
    if max_latency_ms is not None:
        filters["maxLatency"] = Literal(float(max_latency_ms), datatype=XSD.double)
    if text:
        filters["text"] = Literal(text)
    if dataset:
        filters["datasetText"] = Literal(dataset)
    return filters
