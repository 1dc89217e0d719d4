"""Model versions of a family, their training reference, their lineage and the gate.

**Naming** (``docs/loop.md``). A model family is named by the id of its first version (the
card id of the model ``kg_data`` ships, e.g. ``vibration-ae-int8``); a model whose card has
no ``version`` is version 1 of the family it names. Version ``N`` (N >= 2) is registered as
its own model, id ``<family>-v<N>``, card ``version: "N"``, and in the graph
``tr:modelFamily "<family>"`` and ``tr:versionNumber N``. ``<family>@<N>`` names version N
wherever a model is named (``resolve_version``); the family's id alone, in ``deploy``, takes
the latest version that passed its gate (version 1 when none did). Devices are sent the
version number as the OTA version, so a later version is an upgrade and going back is the
signed rollback.

**Reference.** Each version keeps, in the graph, its operating threshold
(``tr:anomalyThreshold``: 1.25 times the 99th percentile of its scores on its training
windows, the margin for windows it was not fitted to) and a
training reference (``tr:trainingReference``, JSON): the decile edges of the drift test's
input statistics and a sample of its training scores.

**Lineage** (PROV-O). Version N ``prov:wasDerivedFrom`` version N-1 and
``prov:wasGeneratedBy`` a ``tr:TrainingActivity`` that ``prov:used`` a ``tr:DataSnapshot``
(the training windows, by SHA-256) and the previous version, with its hyperparameters and
training loss. The gate's figures are a ``tr:GateAssessment`` of the version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import XSD

from tinyreg.core.errors import InputError, NotFoundError
from tinyreg.core.namespaces import PREFIXES, TR, model_iri
from tinyreg.core.queries import load_query
from tinyreg.firmware.sensing import reconstruction_score
from tinyreg.firmware.vibration import features, statistics
from tinyreg.registry.catalogue import Catalogue, model_id

__all__ = [
    "DRIFT_FEATURES",
    "GateResult",
    "VersionInfo",
    "drift_vector",
    "host_scores",
    "lineage_graph_name",
    "make_reference",
    "resolve_version",
    "roc_auc",
    "version_id",
    "version_info",
    "write_version_record",
]

PROV = PREFIXES["prov"]
DRIFT_FEATURES = (
    "rms",
    "kurtosis",
    "envelope_defect",
    *(f"input_{i}" for i in range(8)),
)
"""The input statistics the drift test compares: three of the window's statistics and the
model input (64 log band energies) averaged in 8 groups of 8 bands."""
THRESHOLD_QUANTILE = 0.99
THRESHOLD_MARGIN = 1.25


def lineage_graph_name(ident: str) -> str:
    """The named graph that holds a version's record (threshold, reference, lineage)."""
    return f"urn:tinyreg:lineage:{ident}"


def version_id(family: str, number: int) -> str:
    """The id of version ``number`` of a family (``family`` itself for version 1)."""
    return family if number <= 1 else f"{family}-v{number}"


def drift_vector(stats: dict[str, float], model_input: Sequence[float]) -> np.ndarray:
    """The drift test's statistics of one window (:data:`DRIFT_FEATURES` order)."""
    groups = np.asarray(model_input, dtype=np.float64).reshape(8, -1).mean(axis=1)
    head = [stats.get("rms", 0.0), stats.get("kurtosis", 0.0), stats.get("envelope_defect", 0.0)]
    return np.concatenate([np.asarray(head, dtype=np.float64), groups])


def host_scores(data: bytes, x: np.ndarray) -> np.ndarray:
    """Anomaly scores of windows' model inputs, by the TFLite Micro interpreter on the host."""
    from tflite_micro import runtime

    from tinyreg.core.arena import RUNTIME_LOCK

    with RUNTIME_LOCK:
        interpreter = runtime.Interpreter.from_bytes(data)
    inp = interpreter.get_input_details(0)
    out = interpreter.get_output_details(0)
    scores = np.empty(len(x))
    for i, row in enumerate(np.asarray(x, dtype=np.float32)):
        value: np.ndarray = row.reshape(inp["shape"])
        if np.issubdtype(inp["dtype"], np.integer):
            q = inp["quantization_parameters"]
            value = np.clip(
                np.round(value / q["scales"][0]) + q["zero_points"][0], -128, 127
            ).astype(inp["dtype"])
        interpreter.set_input(value, 0)  # set before every invoke
        interpreter.invoke()
        y = np.asarray(interpreter.get_output(0))
        if np.issubdtype(y.dtype, np.integer):
            q = out["quantization_parameters"]
            y = (y.astype(np.float32) - q["zero_points"][0]) * q["scales"][0]
        scores[i] = reconstruction_score(row, y.ravel())
    return scores


def make_reference(
    data: bytes,
    signals: np.ndarray | None = None,
    *,
    inputs: np.ndarray | None = None,
    vectors: np.ndarray | None = None,
) -> dict[str, Any]:
    """A version's training reference and threshold, from its training windows.

    Args:
        data: The version's ``.tflite``.
        signals: Raw training windows (N, 4096); or give ``inputs`` and ``vectors``.
        inputs: The model inputs of the training windows (N, 64).
        vectors: Their drift vectors (N, 11).

    Returns:
        ``threshold``, ``scores`` (a sorted sample), ``edges`` (deciles per drift
        feature), ``q99`` per drift feature and ``windows``.

    """
    if signals is not None:
        inputs = features(signals)
        vectors = np.stack(
            [drift_vector(statistics(s), f) for s, f in zip(signals, inputs, strict=True)]
        )
    if inputs is None or vectors is None:
        raise InputError("a reference needs training windows")
    scores = host_scores(data, inputs)
    sample = np.sort(scores)[:: max(1, len(scores) // 400)]
    return {
        "threshold": float(np.quantile(scores, THRESHOLD_QUANTILE) * THRESHOLD_MARGIN),
        "scores": [round(float(s), 6) for s in sample],
        "edges": {
            name: [float(v) for v in np.quantile(vectors[:, i], np.linspace(0.1, 0.9, 9))]
            for i, name in enumerate(DRIFT_FEATURES)
        },
        "q99": {
            name: float(np.quantile(vectors[:, i], 0.99)) for i, name in enumerate(DRIFT_FEATURES)
        },
        "windows": len(scores),
    }


@dataclass(frozen=True)
class VersionInfo:
    """What the graph says of one model version."""

    model: str
    family: str
    number: int
    threshold: float | None
    reference: dict[str, Any] | None


def version_info(catalogue: Catalogue, model: str) -> VersionInfo | None:
    """A model's version record, or ``None`` when it has none yet."""
    iri = catalogue.resolve("model", model)
    rows = catalogue.store.select(
        load_query("tinyreg.registry", "model_version_info"), {"model": URIRef(iri)}
    )
    if not rows:
        return None
    row = rows[0]
    reference = row.get("reference")
    return VersionInfo(
        model=model_id(iri),
        family=str(row["family"]),
        number=int(str(row["number"])),
        threshold=float(str(row["threshold"])) if row.get("threshold") is not None else None,
        reference=json.loads(str(reference)) if reference is not None else None,
    )


def family_versions(catalogue: Catalogue, family: str) -> list[tuple[str, int, bool]]:
    """(model id, number, gate passed) of a family's versions, lowest first."""
    rows = catalogue.store.select(
        load_query("tinyreg.registry", "model_versions"), {"family": Literal(family)}
    )
    found: dict[str, tuple[str, int, bool]] = {}
    for r in rows:
        ident = model_id(str(r["model"]))
        passed = str(r["passed"]) == "true" if r.get("passed") is not None else False
        number = int(str(r["number"]))
        old = found.get(ident)
        found[ident] = (ident, number, passed or (old[2] if old else False))
    return sorted(found.values(), key=lambda v: v[1])


def resolve_version(catalogue: Catalogue, ref: str, *, gated: bool = True) -> str:
    """The model id a reference names: ``family@N``, a family, or any model id.

    A family alone names its latest gated version (with ``gated``), else itself.

    Raises:
        NotFoundError: If ``family@N`` names no registered version.

    """
    m = re.fullmatch(r"(.+)@(\d+)", ref)
    if m:
        family, number = m.group(1), int(m.group(2))
        for ident, n, _ in family_versions(catalogue, family):
            if n == number:
                return ident
        if number == 1:
            return family
        raise NotFoundError("model", ref)
    if gated:
        passed = [v for v in family_versions(catalogue, ref) if v[1] > 1 and v[2]]
        if passed:
            return passed[-1][0]
    return ref


@dataclass(frozen=True)
class GateResult:
    """The gate's verdict on a candidate against the running version."""

    candidate: str
    baseline: str
    passed: bool
    reasons: list[str]
    fits: list[str]
    roc_auc: float
    false_alarm_rate: float
    baseline_roc_auc: float
    baseline_false_alarm_rate: float
    normal_windows: int
    faulty_windows: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return dict(self.__dict__)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """ROC AUC by the rank statistic (ties count a half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def write_version_record(
    catalogue: Catalogue,
    ident: str,
    *,
    family: str,
    number: int,
    reference: dict[str, Any],
    previous: str | None = None,
    activity: dict[str, Any] | None = None,
    snapshot: dict[str, Any] | None = None,
    gate: GateResult | None = None,
) -> None:
    """Write (replace) a version's record: threshold, reference, lineage and gate."""
    g = Graph()
    model = model_iri(ident)
    prov = {
        name: URIRef(PROV + name)
        for name in (
            "wasDerivedFrom",
            "wasGeneratedBy",
            "used",
            "Activity",
            "Entity",
            "startedAtTime",
            "endedAtTime",
            "generatedAtTime",
        )
    }
    g.add((model, TR.modelFamily, Literal(family)))
    g.add((model, TR.versionNumber, Literal(number)))
    g.add((model, TR.anomalyThreshold, Literal(float(reference["threshold"]))))
    g.add((model, TR.trainingReference, Literal(json.dumps(reference))))
    if previous is not None:
        g.add((model, prov["wasDerivedFrom"], model_iri(previous)))
    if activity is not None and snapshot is not None:
        act = URIRef(f"urn:tinyreg:training:{ident}")
        snap = URIRef(f"urn:tinyreg:snapshot:{snapshot['sha256']}")
        g.add((model, prov["wasGeneratedBy"], act))
        g.add((act, RDF.type, prov["Activity"]))
        g.add((act, RDF.type, TR.TrainingActivity))
        g.add((act, prov["used"], snap))
        if previous is not None:
            g.add((act, prov["used"], model_iri(previous)))
        g.add((act, TR.hyperparameters, Literal(json.dumps(activity["parameters"]))))
        g.add((act, TR.trainLoss, Literal(float(activity["loss"]))))
        for key in ("startedAtTime", "endedAtTime"):
            g.add((act, prov[key], Literal(activity[key], datatype=XSD.dateTime)))
        g.add((snap, RDF.type, prov["Entity"]))
        g.add((snap, RDF.type, TR.DataSnapshot))
        g.add((snap, TR.sha256, Literal(snapshot["sha256"])))
        g.add((snap, TR.windowCount, Literal(int(snapshot["windows"]))))
        for device in snapshot.get("devices", []):
            g.add((snap, TR.assessedDevice, URIRef(device)))
        g.add((snap, prov["generatedAtTime"], Literal(datetime.now(UTC), datatype=XSD.dateTime)))
    if gate is not None:
        node = URIRef(f"urn:tinyreg:gate:{ident}")
        g.add((node, RDF.type, TR.GateAssessment))
        g.add((node, TR.assessedModel, model))
        g.add((node, TR.baselineModel, model_iri(gate.baseline)))
        g.add((node, TR.gatePassed, Literal(gate.passed)))
        g.add((node, TR.rocAuc, Literal(gate.roc_auc)))
        g.add((node, TR.falseAlarmRate, Literal(gate.false_alarm_rate)))
        g.add((node, TR.baselineRocAuc, Literal(gate.baseline_roc_auc)))
        g.add((node, TR.baselineFalseAlarmRate, Literal(gate.baseline_false_alarm_rate)))
        g.add((node, TR.windowCount, Literal(gate.normal_windows + gate.faulty_windows)))
    catalogue.store.replace_graph(lineage_graph_name(ident), g)
