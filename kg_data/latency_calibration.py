"""Latency calibration: instructions per MAC measured on the emulated cores, cycles from boards.

Two steps turn a model's multiply-accumulates (MACs) into a latency on a board:

1. **Instructions** (measured, fitted). ``kg_data/runtimes/target-measurements.json`` holds the
   guest instructions of one inference of every runnable seed and ``kg_data`` model on each
   emulated core (QEMU ``-icount shift=0``, the firmware agent with TFLM and CMSIS-NN; written
   by ``scripts/measure_targets.py``). Per core family and quantisation (int8 / float) an
   :class:`InstructionModel` is fitted: instructions = Σ (MACs of an operator type × its
   instructions per MAC) + operators × instructions per operator. The fit is a non-negative
   least squares on *relative* error (each model's row divided by its measurement), on half
   of the models: :func:`split` orders the distinct models (by SHA-256 of their bytes) by
   that hash and puts every other one into the fit set; the rest are held out and give the
   error of the instruction estimate. A model with the same layer shapes (the same MACs per
   operator type) as a board reference model is kept out of both sets, so that no reference
   is fitted on in disguise (the seed's ``ARM_DS_CNN_Small_`` is MLPerf Tiny's DS-CNN).
2. **Cycles** (published board measurements). QEMU counts instructions, not cycles: what the
   core and the board add (2-cycle loads, taken branches refilling the pipeline, flash wait
   states, caches) is one factor, cycles per instruction (CPI) of a board, fitted on
   published real-board latencies of the MLPerf Tiny reference models (:data:`PUBLISHED`),
   whose instructions the firmware measured under QEMU. Half of the references are held
   out (:func:`reference_split`), and the error reported as ``median_latency_estimate_error``
   is the median of |estimate / measurement − 1| over them, with the estimate computed from
   the MACs alone (step 1 then step 2), as the matchmaker does.

:func:`calibrate` does both and returns a :class:`Calibration`; ``kg_data/runtime_tables.py``
writes its cycles per MAC into ``cores.ttl`` with their provenance and error band.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MEASUREMENTS",
    "PUBLISHED",
    "BoardModel",
    "BoardReference",
    "Calibration",
    "InstructionModel",
    "Measured",
    "calibrate",
    "load_measured",
    "reference_split",
    "split",
]

MEASUREMENTS = Path(__file__).resolve().parent / "runtimes" / "target-measurements.json"

#: Operator types with their own instructions-per-MAC figure; other MACs share ``other``.
INT8_TERMS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "other")
#: Float models are few (seven), so convolutions share one figure and the rest another.
FLOAT_TERMS = ("conv", "other")
_CONV = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D"})


@dataclass(frozen=True)
class BoardReference:
    """One published latency of a real board.

    Attributes:
        benchmark: The MLPerf Tiny benchmark (``ad``, ``ic``, ``kws``, ``vww``).
        model: The reference model file the firmware measured (same name as published).
        board: The board.
        family: Its core family.
        clock_hz: The core clock of the measurement.
        latency_ms: The published latency (1000 / median throughput in inferences/s).
        runtime: The inference runtime of the measurement.
        source: Where the figure is published (repository, commit, file).

    """

    benchmark: str
    model: str
    board: str
    family: str
    clock_hz: int
    latency_ms: float
    runtime: str
    source: str


_V05 = (
    "github.com/mlcommons/tiny_results_v0.5 @ f7e06dd/7de1e28, "
    "closed/reference/results/Nucleo-L4R5ZI/{b}/performance/results.txt "
    "(median throughput {t} inf./s)"
)
_V10 = (
    "github.com/mlcommons/tiny_results_v1.0 @ cc81fd5, "
    "closed/OctoML/results/microtvm_cmsis_nn/NUCLEO_L4R5ZI/{b}/performance/results.txt "
    "(median throughput {t} inf./s)"
)


def _ref(benchmark: str, model: str, throughput: float, *, tflm: bool) -> BoardReference:
    source = (_V05 if tflm else _V10).format(b=benchmark, t=throughput)
    runtime = "tflite-micro 2.3.1 + CMSIS-NN, Mbed OS" if tflm else "microTVM + CMSIS-NN, Zephyr"
    latency = round(1000.0 / throughput, 3)
    return BoardReference(
        benchmark, model, "NUCLEO-L4R5ZI", "cortex-m4", 120_000_000, latency, runtime, source
    )


#: Published latencies of the MLPerf Tiny reference models on an STM32L4R5 (Cortex-M4F,
#: 120 MHz). The MLPerf Tiny v0.5 reference submission runs TFLM (the runtime this estimate is
#: for): these calibrate and test. The v1.0 OctoML submission runs microTVM on the same board:
#: another runtime, shown as a cross-check only, never used to calibrate.
PUBLISHED: tuple[BoardReference, ...] = (
    _ref("ad", "ad01_int8.tflite", 99.487, tflm=True),
    _ref("kws", "kws_ref_model.tflite", 5.497, tflm=True),
    _ref("vww", "vww_96_int8.tflite", 1.665, tflm=True),
    _ref("ic", "pretrainedResnet_quant.tflite", 1.420, tflm=True),
    _ref("ad", "ad01_int8.tflite", 116.212, tflm=False),
    _ref("kws", "kws_ref_model.tflite", 10.019, tflm=False),
    _ref("vww", "vww_96_int8.tflite", 3.320, tflm=False),
    _ref("ic", "pretrainedResnet_quant.tflite", 2.567, tflm=False),
)


@dataclass(frozen=True)
class Measured:
    """One model measured on one emulated core.

    Attributes:
        model: File name.
        source: ``seed``, ``kg_data`` or ``mlperf-tiny``.
        sha256: SHA-256 of the model's bytes.
        quantization: ``int8`` or ``float32`` (the parser's figure).
        macs_by_operator: MACs per operator type.
        operators: Number of operators.
        instructions: Guest instructions of one inference.

    """

    model: str
    source: str
    sha256: str
    quantization: str
    macs_by_operator: Mapping[str, int]
    operators: int
    instructions: int

    @property
    def macs(self) -> int:
        """Total MACs."""
        return sum(self.macs_by_operator.values())


def load_measured(document: Mapping[str, Any], target: str) -> list[Measured]:
    """The models measured on ``target`` in a ``target-measurements.json`` document."""
    out = []
    for m in document["models"]:
        result = m["results"].get(target, {})
        if "inference_instructions" not in result:
            continue
        out.append(
            Measured(
                m["model"],
                m["source"],
                m["sha256"],
                m["quantization"],
                dict(m["macs_by_operator"]),
                int(m["operators"]),
                int(result["inference_instructions"]),
            )
        )
    return out


def _quant_kind(quantization: str) -> str:
    return "int8" if quantization in ("int8", "uint8", "int16x8") else "float"


def _terms(kind: str, macs_by_operator: Mapping[str, int]) -> dict[str, float]:
    terms = dict.fromkeys(INT8_TERMS if kind == "int8" else FLOAT_TERMS, 0.0)
    for op, macs in macs_by_operator.items():
        if kind == "int8":
            key = op if op in terms else "other"
        else:
            key = "conv" if op in _CONV else "other"
        terms[key] += macs
    return terms


@dataclass(frozen=True)
class InstructionModel:
    """Instructions of one inference from a model's MACs, for one core family and quantisation.

    Attributes:
        family: Core family (``cortex-m4``, ``cortex-m55``).
        kind: ``int8`` or ``float``.
        per_mac: Instructions per MAC by term (operator type, or ``other``/``conv``).
        per_operator: Instructions per operator (invocation and element-wise work).
        per_mac_overall: One figure for all MACs (least squares on absolute instructions
            over the fit set, so the large models dominate): what ``cores.ttl`` carries,
            since the matchmaker knows a model's total MACs.
        fit_models: Models the figures were fitted on.
        held_out: Models kept out, with (estimate, measured) instructions.

    """

    family: str
    kind: str
    per_mac: Mapping[str, float]
    per_operator: float
    per_mac_overall: float
    fit_models: tuple[str, ...]
    held_out: Mapping[str, tuple[float, int]] = field(default_factory=dict)

    def instructions(self, macs_by_operator: Mapping[str, int], operators: int) -> float:
        """Estimated instructions of one inference."""
        terms = _terms(self.kind, macs_by_operator)
        return sum(self.per_mac[k] * v for k, v in terms.items()) + self.per_operator * operators

    @property
    def held_out_error(self) -> float | None:
        """Median |estimate / measured − 1| over the held-out models (``None`` without any)."""
        errors = [abs(est / meas - 1) for est, meas in self.held_out.values()]
        return statistics.median(errors) if errors else None


def _nnls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Non-negative least squares by elimination: drop the most negative term and refit."""
    active = list(range(a.shape[1]))
    x = np.zeros(a.shape[1])
    while active:
        sol, *_ = np.linalg.lstsq(a[:, active], b, rcond=None)
        if (sol >= 0).all():
            x[:] = 0
            x[active] = sol
            return x
        active.pop(int(np.argmin(sol)))
    return x


def split(models: Iterable[Measured]) -> tuple[list[Measured], list[Measured]]:
    """Fit set and held-out set: distinct models by SHA-256, every other one in hash order.

    Returns:
        ``(fit, held_out)``; a model whose bytes repeat another's appears once.

    """
    distinct = {m.sha256: m for m in models}
    ordered = [distinct[h] for h in sorted(distinct)]
    return ordered[0::2], ordered[1::2]


def fit_instruction_model(
    family: str, kind: str, fit: Sequence[Measured], held_out: Sequence[Measured]
) -> InstructionModel:
    """Fit one :class:`InstructionModel` (see the module docstring)."""
    names = INT8_TERMS if kind == "int8" else FLOAT_TERMS
    rows = [[*_terms(kind, m.macs_by_operator).values(), m.operators] for m in fit]
    a = np.array(rows, dtype=float)
    b = np.array([m.instructions for m in fit], dtype=float)
    weights = 1.0 / b
    coef = _nnls(a * weights[:, None], b * weights)
    macs = np.array([m.macs for m in fit], dtype=float)
    overall = float(macs @ b / (macs @ macs)) if macs.any() else 0.0
    model = InstructionModel(
        family,
        kind,
        {n: round(float(c), 4) for n, c in zip(names, coef[:-1], strict=True)},
        round(float(coef[-1]), 1),
        round(overall, 4),
        tuple(sorted(m.model for m in fit)),
    )
    scored = {
        m.model: (round(model.instructions(m.macs_by_operator, m.operators)), m.instructions)
        for m in held_out
    }
    return InstructionModel(
        model.family,
        model.kind,
        model.per_mac,
        model.per_operator,
        model.per_mac_overall,
        model.fit_models,
        scored,
    )


def reference_split(
    references: Sequence[BoardReference], macs: Mapping[str, int]
) -> tuple[list[BoardReference], list[BoardReference]]:
    """Calibration and test references of one board and runtime.

    The references are ordered by their model's MACs; the first, third, ... calibrate, the
    others are the test set (at least half of them).
    """
    ordered = sorted(references, key=lambda r: (macs[r.model], r.model))
    return ordered[0::2], ordered[1::2]


@dataclass(frozen=True)
class BoardModel:
    """Cycles per instruction of a board, fitted on published latencies.

    Attributes:
        board: The board.
        family: Its core family.
        runtime: The runtime of the published measurements.
        clock_hz: Its core clock.
        cycles_per_instruction: Geometric mean over the calibration references of measured
            cycles (latency × clock) ÷ instructions measured under QEMU.
        calibration: The calibration references, with their own CPI.
        test: Held-out references: (estimate ms from MACs, estimate ms from the measured
            instructions, published ms).
        test_total_macs: Held-out references: estimate ms from the total MACs alone times the
            family's one cycles-per-MAC figure (what the matchmaker computes from
            ``cores.ttl``).

    """

    board: str
    family: str
    runtime: str
    clock_hz: int
    cycles_per_instruction: float
    calibration: Mapping[str, float]
    test: Mapping[str, tuple[float, float, float]]
    test_total_macs: Mapping[str, float] = field(default_factory=dict)

    @property
    def median_error(self) -> float | None:
        """Median |estimate / measurement − 1| over the held-out references (MACs → ms)."""
        errors = [abs(est / meas - 1) for est, _, meas in self.test.values()]
        return statistics.median(errors) if errors else None

    @property
    def median_error_total_macs(self) -> float | None:
        """The same median for the matchmaker's estimate (total MACs × cycles per MAC)."""
        errors = [abs(est / self.test[m][2] - 1) for m, est in self.test_total_macs.items()]
        return statistics.median(errors) if errors else None


@dataclass(frozen=True)
class Calibration:
    """Everything :func:`calibrate` derives.

    Attributes:
        provenance: How the instruction counts were measured (from the measurements file).
        instruction_models: Keyed by (family, ``int8``/``float``).
        boards: Keyed by (family, runtime); the TFLM one calibrates the tables.
        cross_checks: Other runtimes' published latencies against the TFLM estimate
            (estimate ms, published ms), never used to calibrate.

    """

    provenance: Mapping[str, str]
    instruction_models: Mapping[tuple[str, str], InstructionModel]
    boards: Mapping[str, BoardModel]
    cross_checks: Mapping[str, tuple[float, float]]

    def board_for(self, family: str) -> BoardModel | None:
        """The TFLM board model of a core family, if one was calibrated."""
        return self.boards.get(family)


def _shape(m: Measured) -> tuple[tuple[str, int], ...]:
    """A model's layer shapes as far as the estimate sees them: MACs per operator type."""
    return tuple(sorted(m.macs_by_operator.items()))


def _estimate_ms(model: InstructionModel, m: Measured, cpi: float, clock_hz: int) -> float:
    """Estimated latency from the MACs alone: instruction model, then cycles per instruction."""
    return model.instructions(m.macs_by_operator, m.operators) * cpi / clock_hz * 1e3


def calibrate(document: Mapping[str, Any] | None = None) -> Calibration:
    """Fit the instruction models and the board model from the measurements file.

    Args:
        document: A parsed ``target-measurements.json``; read from :data:`MEASUREMENTS`
            when omitted.

    Returns:
        The :class:`Calibration`.

    """
    if document is None:
        document = json.loads(MEASUREMENTS.read_text())
    models: dict[tuple[str, str], InstructionModel] = {}
    boards: dict[str, BoardModel] = {}
    checks: dict[str, tuple[float, float]] = {}
    for target, facts in sorted(document["targets"].items()):
        family = facts["family"]
        measured = load_measured(document, target)
        references = {m.model: m for m in measured if m.source == "mlperf-tiny"}
        tflm_refs = [r for r in PUBLISHED if r.family == family and r.runtime.startswith("tflite")]
        ref_macs = {name: m.macs for name, m in references.items()}
        have = [r for r in tflm_refs if r.model in references]
        calib_refs, test_refs = reference_split(have, ref_macs) if have else ([], [])
        reference_shapes = {_shape(m) for m in references.values()}
        pool = [
            m for m in measured if m.source != "mlperf-tiny" and _shape(m) not in reference_shapes
        ]
        for kind in ("int8", "float"):
            of_kind = [m for m in pool if _quant_kind(m.quantization) == kind]
            if len(of_kind) < 4:
                continue
            fit, held = split(of_kind)
            models[(family, kind)] = fit_instruction_model(family, kind, fit, held)
        int8 = models.get((family, "int8"))
        if not calib_refs or int8 is None:
            continue
        cpis = {
            r.model: r.latency_ms * 1e-3 * r.clock_hz / references[r.model].instructions
            for r in calib_refs
        }
        cpi = math.exp(statistics.fmean(math.log(v) for v in cpis.values()))

        test = {
            r.model: (
                round(_estimate_ms(int8, references[r.model], cpi, r.clock_hz), 3),
                round(references[r.model].instructions * cpi / r.clock_hz * 1e3, 3),
                r.latency_ms,
            )
            for r in test_refs
        }
        total_macs = {
            r.model: round(
                references[r.model].macs * int8.per_mac_overall * round(cpi, 4) / r.clock_hz * 1e3,
                3,
            )
            for r in test_refs
        }
        board = calib_refs[0]
        boards[family] = BoardModel(
            board.board,
            family,
            board.runtime,
            board.clock_hz,
            round(cpi, 4),
            {k: round(v, 4) for k, v in cpis.items()},
            test,
            total_macs,
        )
        for r in PUBLISHED:
            if r.family == family and not r.runtime.startswith("tflite") and r.model in references:
                key = f"{r.model} ({r.runtime})"
                estimate = _estimate_ms(int8, references[r.model], cpi, r.clock_hz)
                checks[key] = (round(estimate, 3), r.latency_ms)
    return Calibration(dict(document["provenance"]), models, boards, checks)
