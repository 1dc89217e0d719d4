"""Drift detection per device and model version, against the device's own baseline.

Every machine has its own healthy signature (harmonic mix, blade pass, mounting), so a
device is not compared with the fleet-wide training reference but with itself
(``docs/loop.md``):

* **baseline**: once a device runs a model version, its first ``baseline_windows`` (20)
  windows of that version are its baseline, kept in a :class:`BaselineStore`. The baseline
  is checked against the version's training reference for a gross mismatch only: a median
  score above ``mismatch_factor`` (5) times the version's threshold, or a median envelope
  energy at the bearing-defect frequencies above ``fault_factor`` times the reference's 99th
  percentile. A mismatched baseline is reported (``kind`` ``baseline-mismatch``), never
  taken for healthy and never used for retraining;
* **input drift**: on the device's latest ``window`` (10) windows after its baseline, the
  population stability index (PSI) of each drift statistic
  (:data:`~tinyreg.registry.versions.DRIFT_FEATURES`, 11 of them) over the baseline's
  quartiles, each bin's count raised by a half; the input has drifted when the **mean**
  PSI over the statistics exceeds ``psi_threshold`` (0.9). With so few windows one PSI is
  noisy (the largest of 11 reaches 1.9 on a stationary machine) while their mean stays
  below 0.65 (24 simulated machines, 900 tests); a change of operating conditions moves
  most statistics at once (mean PSI 1.2-1.6 eight windows after onset);
* **score drift**: the two-sample Kolmogorov-Smirnov statistic between the recent scores
  and the baseline's; drift when D exceeds ``ks_threshold`` (0.85; 0.75 at most on the
  stationary machines) and its asymptotic p-value is below 0.01;
* **fault evidence**: bearing defects are impulsive, so the median envelope energy at the
  defect frequencies (``envelope_defect``) above ``fault_factor`` (2) times the training
  reference's 99th percentile is a fault, whatever else moved. Operating conditions (speed,
  load, mounting, noise) move the band energies and the scores but leave the envelope at
  the defect frequencies near its reference.

The verdict's ``kind`` is ``fault`` (fault evidence), ``operating-conditions`` (input or
score drift without fault evidence: retraining may help), ``baseline-mismatch`` or
``none``; ``reason`` says which figures decided. Each assessment is a
``tr:DriftAssessment`` observation in the graph.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import XSD

from tinyreg.core.namespaces import SOSA, TR, model_iri
from tinyreg.core.protocol import device_key
from tinyreg.core.stores import GraphStore
from tinyreg.registry.telemetry import TelemetryRecord
from tinyreg.registry.versions import DRIFT_FEATURES, drift_vector

__all__ = [
    "Baseline",
    "BaselineStore",
    "DriftResult",
    "DriftTest",
    "ks_statistic",
    "psi",
    "record_drift",
]


def psi(
    reference_edges: list[float], values: np.ndarray, reference_share: float | None = None
) -> float:
    """Population stability index of ``values`` over the reference's quantile bins.

    Every bin's count is raised by a half (additive smoothing), so that a bin a small
    sample happens to miss does not dominate the index.

    Args:
        reference_edges: The reference's inner quantile edges (k edges, k + 1 bins).
        values: The values tested.
        reference_share: The reference's share per bin (default ``1 / (k + 1)``).

    """
    if reference_share is None:
        reference_share = 1.0 / (len(reference_edges) + 1)
    counts = np.bincount(
        np.searchsorted(reference_edges, values), minlength=len(reference_edges) + 1
    )
    # half a window added to every bin: an empty bin of a small sample is not a 1e-4 share
    actual = (counts + 0.5) / (len(values) + 0.5 * len(counts))
    expected = np.full(len(actual), reference_share)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def ks_statistic(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic D and its asymptotic p-value."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    d = float(
        np.max(
            np.abs(
                np.searchsorted(a, grid, "right") / len(a)
                - np.searchsorted(b, grid, "right") / len(b)
            )
        )
    )
    n = len(a) * len(b) / (len(a) + len(b))
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return d, float(min(1.0, max(0.0, p)))


@dataclass(frozen=True)
class Baseline:
    """A device's baseline on one model version: its first windows of that version.

    Attributes:
        device: The device.
        model: The model id.
        version: The version the device reported.
        windows: The baseline's window numbers.
        edges: Quartile edges per drift feature.
        scores: The baseline's scores.
        envelope_median: Median envelope energy at the bearing-defect frequencies.
        mismatch: Why the baseline grossly mismatches the training reference, or ``None``.

    """

    device: str
    model: str
    version: str
    windows: list[int]
    edges: dict[str, list[float]]
    scores: list[float]
    envelope_median: float
    mismatch: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return asdict(self)


class BaselineStore:
    """Baselines per device and version, one JSON file per device.

    Args:
        directory: The folder (created if absent), beside the telemetry store.

    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)

    def _path(self, device: str) -> Path:
        return self.directory / (device_key(device).replace(":", "_") + ".json")

    def _read(self, device: str) -> dict[str, Any]:
        path = self._path(device)
        return dict(json.loads(path.read_text("utf-8"))) if path.is_file() else {}

    def get(self, device: str, model: str, version: str) -> Baseline | None:
        """A device's baseline on a version, when established."""
        with self._lock:
            data = self._read(device).get(f"{model}@{version}")
        return Baseline(**data) if data else None

    def put(self, baseline: Baseline) -> None:
        """Keep a baseline (atomically replacing the device's file)."""
        with self._lock:
            data = self._read(baseline.device)
            data[f"{baseline.model}@{baseline.version}"] = baseline.to_dict()
            path = self._path(baseline.device)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data), "utf-8")
            tmp.replace(path)

    def all(self) -> list[Baseline]:
        """Every kept baseline."""
        with self._lock:
            return [
                Baseline(**b)
                for p in sorted(self.directory.glob("*.json"))
                for b in json.loads(p.read_text("utf-8")).values()
            ]


@dataclass(frozen=True)
class DriftResult:
    """One drift test of a device's model version."""

    device: str
    model: str
    version: str
    windows: int
    kind: str
    reason: str
    max_psi: float
    mean_psi: float
    psi_by_feature: dict[str, float]
    ks: float
    ks_p: float
    envelope_ratio: float
    alarm_rate: float
    first_window: int | None
    last_window: int | None
    baseline_windows: list[int] | None = None

    @property
    def drifted(self) -> bool:
        """Whether anything drifted."""
        return self.kind != "none"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {**self.__dict__, "drifted": self.drifted}


ENVELOPE = DRIFT_FEATURES.index("envelope_defect")


@dataclass(frozen=True)
class DriftTest:
    """The test's sizes and thresholds (``docs/loop.md``)."""

    baseline_windows: int = 20
    window: int = 10
    min_windows: int = 10
    bins: int = 4
    psi_threshold: float = 0.9
    ks_threshold: float = 0.85
    ks_p: float = 0.01
    fault_factor: float = 2.0
    mismatch_factor: float = 5.0

    def baseline(
        self,
        device: str,
        records: list[TelemetryRecord],
        model: str,
        version: str,
        reference: dict[str, Any],
        threshold: float | None,
    ) -> Baseline | None:
        """A device's baseline: its first windows of the version; ``None`` with too few."""
        rows = _of_version(records, model, version)[: self.baseline_windows]
        if len(rows) < self.baseline_windows:
            return None
        vectors = np.stack([drift_vector(r.stats, r.input) for r in rows])
        scores = [float(r.score or 0.0) for r in rows]
        quantiles = np.linspace(0, 1, self.bins + 1)[1:-1]
        envelope = float(np.median(vectors[:, ENVELOPE]))
        mismatch = None
        limit = self.fault_factor * max(1e-9, reference["q99"]["envelope_defect"])
        if threshold is not None and float(np.median(scores)) > self.mismatch_factor * threshold:
            mismatch = (
                f"baseline median score {np.median(scores):.4g} above {self.mismatch_factor}x "
                f"the version's threshold {threshold:.4g}"
            )
        elif envelope > limit:
            mismatch = (
                f"baseline envelope at the bearing-defect frequencies {envelope:.4g} above "
                f"{self.fault_factor}x the training reference's 99th percentile"
            )
        return Baseline(
            device=device,
            model=model,
            version=version,
            windows=[r.window for r in rows],
            edges={
                name: [float(v) for v in np.quantile(vectors[:, i], quantiles)]
                for i, name in enumerate(DRIFT_FEATURES)
            },
            scores=scores,
            envelope_median=envelope,
            mismatch=mismatch,
        )

    def check(
        self,
        device: str,
        records: list[TelemetryRecord],
        model: str,
        version: str,
        reference: dict[str, Any],
        threshold: float | None,
        baseline: Baseline | None = None,
    ) -> DriftResult | None:
        """Test a device's latest windows of one version against its baseline.

        Args:
            device: The device.
            records: Its recent windows, oldest first (the baseline's among them when
                ``baseline`` is not given).
            model: The model it runs.
            version: The version it reports.
            reference: The version's training reference.
            threshold: The version's operating threshold.
            baseline: The device's baseline on this version (made from ``records`` if absent).

        Returns:
            The result, or ``None`` while the baseline or the windows after it are too few.

        """
        baseline = baseline or self.baseline(device, records, model, version, reference, threshold)
        if baseline is None:
            return None
        after = baseline.windows[-1]
        rows = [r for r in _of_version(records, model, version) if r.window > after]
        rows = rows[-self.window :]
        if len(rows) < self.min_windows:
            return None
        vectors = np.stack([drift_vector(r.stats, r.input) for r in rows])
        psis = {
            name: round(psi(baseline.edges[name], vectors[:, i]), 4)
            for i, name in enumerate(DRIFT_FEATURES)
        }
        scores = np.array([r.score for r in rows], dtype=np.float64)
        d, p = ks_statistic(scores, np.asarray(baseline.scores, dtype=np.float64))
        env_ratio = float(
            np.median(vectors[:, ENVELOPE]) / max(1e-9, reference["q99"]["envelope_defect"])
        )
        alarms = float(np.mean(scores > threshold)) if threshold is not None else float("nan")
        top = max(psis, key=lambda k: psis[k])
        mean_psi = float(np.mean(list(psis.values())))
        input_drift = mean_psi > self.psi_threshold
        score_drift = d > self.ks_threshold and p < self.ks_p
        if env_ratio > self.fault_factor:
            kind = "fault"
            reason = (
                f"impulsive content: median envelope energy at the bearing-defect frequencies is "
                f"{env_ratio:.1f}x the reference's 99th percentile (limit {self.fault_factor})"
            )
        elif baseline.mismatch is not None:
            kind = "baseline-mismatch"
            reason = f"the device's baseline does not fit the version: {baseline.mismatch}"
        elif input_drift or score_drift:
            kind = "operating-conditions"
            reason = (
                f"mean input PSI {mean_psi:.2f} (limit {self.psi_threshold}; largest "
                f"{psis[top]:.2f} on {top}), score KS "
                f"D={d:.2f} p={p:.1e} (limit {self.ks_threshold}) against the device's "
                f"baseline, envelope at defect frequencies {env_ratio:.1f}x reference: "
                "conditions moved, no bearing fault evidence"
            )
        else:
            kind = "none"
            reason = (
                f"mean PSI {mean_psi:.2f} (largest {psis[top]:.2f} on {top}), KS D={d:.2f}: "
                "within limits"
            )
        return DriftResult(
            device=device,
            model=model,
            version=version,
            windows=len(rows),
            kind=kind,
            reason=reason,
            max_psi=psis[top],
            mean_psi=round(mean_psi, 4),
            psi_by_feature=psis,
            ks=round(d, 4),
            ks_p=p,
            envelope_ratio=round(env_ratio, 3),
            alarm_rate=round(alarms, 4),
            first_window=rows[0].window,
            last_window=rows[-1].window,
            baseline_windows=list(baseline.windows),
        )


def _of_version(records: list[TelemetryRecord], model: str, version: str) -> list[TelemetryRecord]:
    """A device's scored windows of one model version, oldest first."""
    return [r for r in records if r.model == model and r.version == version and r.score is not None]


def record_drift(store: GraphStore, results: list[DriftResult]) -> None:
    """Write drift assessments as SOSA observations (one graph per check)."""
    if not results:
        return
    now = datetime.now(UTC)
    g = Graph()
    for r in results:
        node = URIRef(f"urn:tinyreg:drift:{device_key(r.device)}:{now.strftime('%Y%m%dT%H%M%S%f')}")
        g.add((node, RDF.type, SOSA.Observation))
        g.add((node, RDF.type, TR.DriftAssessment))
        g.add((node, SOSA.madeBySensor, URIRef(r.device)))
        g.add((node, TR.assessedDevice, URIRef(r.device)))
        g.add((node, TR.assessedModel, model_iri(r.model)))
        g.add((node, TR.modelVersion, Literal(r.version)))
        g.add((node, TR.driftKind, Literal(r.kind)))
        g.add((node, TR.driftReason, Literal(r.reason)))
        g.add((node, TR.psi, Literal(r.max_psi)))
        g.add((node, TR.ksStatistic, Literal(r.ks)))
        g.add((node, TR.windowCount, Literal(r.windows)))
        g.add((node, SOSA.resultTime, Literal(now, datatype=XSD.dateTime)))
    store.replace_graph(f"urn:tinyreg:drift:{now.strftime('%Y%m%dT%H%M%S%f')}", g)
