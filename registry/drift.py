"""Drift detection per device and model version, against the version's training reference.

The test (``docs/loop.md``), on a device's latest ``window`` windows of one model version:

* **input drift**: the population stability index (PSI) of each drift statistic
  (:data:`~tinyreg.registry.versions.DRIFT_FEATURES`) over the reference's deciles; the
  input has drifted when the largest PSI exceeds ``psi_threshold`` (0.25, the usual "major
  shift");
* **score drift**: the two-sample Kolmogorov-Smirnov statistic between the recent scores
  and the reference's training scores; drift when D exceeds ``ks_threshold`` (0.3) and its
  asymptotic p-value is below 0.01;
* **fault evidence**: bearing defects are impulsive, so the median envelope energy at the
  defect frequencies (``envelope_defect``) above ``fault_factor`` times the reference's
  99th percentile is a fault, whatever else moved. Operating conditions (speed, load,
  mounting, noise) move the band energies and the scores but leave the envelope at the
  defect frequencies near its reference.

The verdict's ``kind`` is ``fault`` (fault evidence), ``operating-conditions`` (input or
score drift without fault evidence: retraining may help), or ``none``; ``reason`` says which
figures decided. Each assessment is a ``tr:DriftAssessment`` observation in the graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import XSD

from tinyreg.core.namespaces import SOSA, TR, model_iri
from tinyreg.core.protocol import device_key
from tinyreg.core.stores import GraphStore
from tinyreg.registry.telemetry import TelemetryRecord
from tinyreg.registry.versions import DRIFT_FEATURES, drift_vector

__all__ = ["DriftResult", "DriftTest", "ks_statistic", "psi", "record_drift"]


def psi(reference_edges: list[float], values: np.ndarray, reference_share: float = 0.1) -> float:
    """Population stability index of ``values`` over decile bins of the reference."""
    counts = np.bincount(
        np.searchsorted(reference_edges, values), minlength=len(reference_edges) + 1
    )
    actual = np.clip(counts / max(1, len(values)), 1e-4, None)
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
class DriftResult:
    """One drift test of a device's model version."""

    device: str
    model: str
    version: str
    windows: int
    kind: str
    reason: str
    max_psi: float
    psi_by_feature: dict[str, float]
    ks: float
    ks_p: float
    envelope_ratio: float
    alarm_rate: float
    first_window: int | None
    last_window: int | None

    @property
    def drifted(self) -> bool:
        """Whether anything drifted."""
        return self.kind != "none"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {**self.__dict__, "drifted": self.drifted}


@dataclass(frozen=True)
class DriftTest:
    """The test's thresholds."""

    window: int = 30
    min_windows: int = 15
    psi_threshold: float = 0.25
    ks_threshold: float = 0.3
    ks_p: float = 0.01
    fault_factor: float = 2.0

    def check(
        self,
        device: str,
        records: list[TelemetryRecord],
        model: str,
        version: str,
        reference: dict[str, Any],
        threshold: float | None,
    ) -> DriftResult | None:
        """Test a device's latest windows of one version; ``None`` with too few windows."""
        rows = [
            r for r in records if r.model == model and r.version == version and r.score is not None
        ]
        rows = rows[-self.window :]
        if len(rows) < self.min_windows:
            return None
        vectors = np.stack([drift_vector(r.stats, r.input) for r in rows])
        psis = {
            name: round(psi(reference["edges"][name], vectors[:, i]), 4)
            for i, name in enumerate(DRIFT_FEATURES)
        }
        scores = np.array([r.score for r in rows], dtype=np.float64)
        d, p = ks_statistic(scores, np.asarray(reference["scores"], dtype=np.float64))
        env_index = DRIFT_FEATURES.index("envelope_defect")
        env_ratio = float(
            np.median(vectors[:, env_index]) / max(1e-9, reference["q99"]["envelope_defect"])
        )
        alarms = float(np.mean(scores > threshold)) if threshold is not None else float("nan")
        top = max(psis, key=lambda k: psis[k])
        input_drift = psis[top] > self.psi_threshold
        score_drift = d > self.ks_threshold and p < self.ks_p
        if env_ratio > self.fault_factor:
            kind = "fault"
            reason = (
                f"impulsive content: median envelope energy at the bearing-defect frequencies is "
                f"{env_ratio:.1f}x the reference's 99th percentile (limit {self.fault_factor})"
            )
        elif input_drift or score_drift:
            kind = "operating-conditions"
            reason = (
                f"input PSI {psis[top]:.2f} on {top} (limit {self.psi_threshold}), score KS "
                f"D={d:.2f} p={p:.1e} (limit {self.ks_threshold}), envelope at defect frequencies "
                f"{env_ratio:.1f}x reference: conditions moved, no bearing fault evidence"
            )
        else:
            kind = "none"
            reason = f"largest PSI {psis[top]:.2f} ({top}), KS D={d:.2f}: within limits"
        return DriftResult(
            device=device,
            model=model,
            version=version,
            windows=len(rows),
            kind=kind,
            reason=reason,
            max_psi=psis[top],
            psi_by_feature=psis,
            ks=round(d, 4),
            ks_p=p,
            envelope_ratio=round(env_ratio, 3),
            alarm_rate=round(alarms, 4),
            first_window=rows[0].window,
            last_window=rows[-1].window,
        )


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
