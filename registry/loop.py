"""One turn of the loop: reference, drift check, retraining, registration, gate, rollout.

Functions of a :class:`~tinyreg.registry.catalogue.Catalogue` and the bounded telemetry
store; :class:`~tinyreg.registry.service.Registry` exposes them as its methods. The staged
rollout is a JSON state file (``rollouts/<id>.json`` beside the store) that
:func:`run_rollout` advances and resumes: a record, not a loop in memory (``docs/loop.md``).
"""

from __future__ import annotations

import json
import re
import statistics as stats_module
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinyreg.core.errors import InputError, NotFoundError
from tinyreg.firmware.vibration import (
    Conditions,
    MachineSource,
    Scenario,
    features,
    inject_fault,
    statistics,
)
from tinyreg.registry.cards import ModelCard, load_card
from tinyreg.registry.catalogue import Catalogue, model_id
from tinyreg.registry.drift import BaselineStore, DriftResult, DriftTest, record_drift
from tinyreg.registry.telemetry import TelemetryRecord, TelemetryStore
from tinyreg.registry.versions import (
    GateResult,
    drift_vector,
    family_versions,
    host_scores,
    make_reference,
    roc_auc,
    version_id,
    version_info,
    write_version_record,
)

__all__ = [
    "ORIGINAL_SEED",
    "RolloutPlan",
    "baseline_store",
    "check_drift",
    "establish_version",
    "gate_candidate",
    "load_rollout",
    "original_inputs",
    "retrain_family",
    "run_rollout",
]

ORIGINAL_SEED = 10_000
"""Machines ``ORIGINAL_SEED + k`` under nominal conditions make the original data."""


def original_signals(windows: int = 300, seed: int = ORIGINAL_SEED) -> np.ndarray:
    """The original training data: healthy machines of the fleet's type near nominal conditions."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(windows):
        c = Conditions(
            speed_hz=float(rng.uniform(22, 28)),
            load=float(rng.uniform(0.35, 0.65)),
            resonance_hz=float(rng.uniform(850, 950)),
            noise_g=float(rng.uniform(0.0035, 0.0045)),
        )
        out.append(MachineSource(seed + k, Scenario(before=c)).window(0).signal)
    return np.stack(out)


def original_inputs(windows: int = 300, seed: int = ORIGINAL_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs and drift vectors of the original data."""
    signals = original_signals(windows, seed)
    inputs = features(signals)
    vectors = np.stack(
        [drift_vector(statistics(s), f) for s, f in zip(signals, inputs, strict=True)]
    )
    return inputs, vectors


def establish_version(catalogue: Catalogue, model: str, *, windows: int = 300) -> dict[str, Any]:
    """Make an unversioned model version 1 of its family: threshold and reference recorded.

    Returns:
        The reference (with ``threshold``).

    """
    ident = model_id(catalogue.resolve("model", model))
    data = catalogue.model_bytes(ident).data
    inputs, vectors = original_inputs(windows)
    reference = make_reference(data, inputs=inputs, vectors=vectors)
    write_version_record(catalogue, ident, family=ident, number=1, reference=reference)
    return reference


def baseline_store(telemetry: TelemetryStore) -> BaselineStore:
    """The devices' drift baselines, kept beside their telemetry (``baselines/``)."""
    return BaselineStore(telemetry.directory / "baselines")


def check_drift(
    catalogue: Catalogue,
    telemetry: TelemetryStore,
    devices: Sequence[str] = (),
    test: DriftTest | None = None,
    *,
    record: bool = True,
) -> list[DriftResult]:
    """Test every device with telemetry (or those given) on the model version it runs now.

    A device's first windows of the version it runs make its baseline, kept once made
    (:class:`~tinyreg.registry.drift.BaselineStore`); until then it is not tested.
    """
    test = test or DriftTest()
    baselines = baseline_store(telemetry)
    results = []
    for device in devices or telemetry.devices():
        # the latest windows suffice once the baseline is made (read all only without it)
        records = telemetry.recent(device, limit=2 * test.window + 10)
        if not records or records[-1].model is None:
            continue
        model, version = records[-1].model, records[-1].version or ""
        try:
            info = version_info(catalogue, model)
        except InputError:
            continue
        if info is None or info.reference is None:
            continue
        baseline = baselines.get(device, model, version)
        if baseline is not None:
            after = baseline.windows[-1]
            tested = [
                r
                for r in records
                if r.model == model
                and r.version == version
                and r.score is not None
                and r.window > after
            ]
            if len(tested) < test.window:  # fewer than the test reads: take every window
                records = telemetry.recent(device)
        if baseline is None:
            records = telemetry.recent(device)
            baseline = test.baseline(
                device, records, model, version, info.reference, info.threshold
            )
            if baseline is None:
                continue
            baselines.put(baseline)
        result = test.check(
            device, records, model, version, info.reference, info.threshold, baseline
        )
        if result is not None:
            results.append(result)
    if record:
        record_drift(catalogue.store, results)
    return results


@dataclass
class Candidate:
    """A retrained version, registered, and what the gate is to see."""

    model: str
    number: int
    heldout: list[TelemetryRecord]


def retrain_family(
    catalogue: Catalogue,
    telemetry: TelemetryStore,
    drifted: Sequence[DriftResult],
    snapshots: Path,
    *,
    epochs: int = 8,
    seed: int = 0,
    holdout: float = 0.3,
    original_windows: int = 300,
) -> Candidate:
    """Retrain the family of the drifted devices' model and register the new version.

    Only devices whose drift is ``operating-conditions`` contribute windows; the last
    ``holdout`` share of each device's windows is kept out of training for the gate.

    Raises:
        InputError: If no device drifted by its operating conditions.
        ConfigError: Without TensorFlow.

    """
    from tinyreg.registry.retrain import retrain

    usable = [d for d in drifted if d.kind == "operating-conditions"]
    if not usable:
        raise InputError("no device drifted by its operating conditions: nothing to retrain on")
    running = version_info(catalogue, usable[0].model)
    if running is None:
        raise InputError(f"{usable[0].model} has no version record (establish it first)")
    train_rows: list[TelemetryRecord] = []
    heldout: list[TelemetryRecord] = []
    for d in usable:
        rows = [
            r
            for r in telemetry.recent(d.device)
            if r.window >= (d.first_window or 0) and r.score is not None
        ]
        cut = int(len(rows) * (1 - holdout))
        train_rows += rows[:cut]
        heldout += rows[cut:]
    recent = np.array([r.input for r in train_rows], dtype=np.float32)
    original, original_vectors = original_inputs(original_windows)
    result = retrain(recent, original, snapshots, epochs=epochs, seed=seed)
    numbers = [n for _, n, _ in family_versions(catalogue, running.family)]
    number = max(numbers, default=1) + 1
    ident = version_id(running.family, number)
    base = load_card_of(catalogue, running.model)
    card = ModelCard(
        name=f"{base.name} v{number}" if base else ident,
        id=ident,
        description=(base.description if base else None),
        task=base.task if base else "anomaly-detection",
        input_modality=base.input_modality if base else "vibration",
        required_sensors=base.required_sensors if base else ("Accelerometer",),
        labels=base.labels if base else ("normal", "anomaly"),
        dataset=f"snapshot sha256:{result.snapshot_sha256} ({result.windows} windows)",
        creator="tinyreg loop",
        license=base.license if base else None,
        quantization="int8",
        framework="TensorFlow / TFLiteConverter (tinyreg retrain)",
        version=str(number),
    )
    catalogue.add_model(result.data, card, ident=ident, filename=f"{ident}.tflite")
    vectors = np.concatenate(
        [np.stack([drift_vector(r.stats, r.input) for r in train_rows]), original_vectors]
    )
    reference = make_reference(
        result.data, inputs=np.concatenate([recent, original]), vectors=vectors
    )
    write_version_record(
        catalogue,
        ident,
        family=running.family,
        number=number,
        reference=reference,
        previous=running.model,
        activity={
            "parameters": result.parameters,
            "loss": result.loss,
            "startedAtTime": result.started,
            "endedAtTime": result.ended,
        },
        snapshot={
            "sha256": result.snapshot_sha256,
            "windows": result.windows,
            "devices": sorted({d.device for d in usable}),
        },
    )
    return Candidate(ident, number, heldout)


def load_card_of(catalogue: Catalogue, model: str) -> ModelCard | None:
    """The card a model was registered with, when the starter set has it."""
    from importlib import resources

    path = Path(str(resources.files("tinyreg.kg_data").joinpath("models", f"{model}.yaml")))
    return load_card(path) if path.is_file() else None


def gate_candidate(
    catalogue: Catalogue,
    candidate: str,
    baseline: str,
    heldout: Sequence[TelemetryRecord],
    devices: Sequence[str],
    *,
    seed: int = 0,
    max_false_alarm_rate: float = 0.1,
) -> GateResult:
    """The gate: the candidate fits the devices and beats the running version.

    Held-out recent windows are the normal set; the same windows with bearing-fault
    impulses injected (outer, inner, ball at severities 0.2-0.8, rung at 500-1200 Hz) are
    the faulty set (windows sent raw; the others are normal only). The candidate passes
    when it fits every target device (matchmaker), its ROC AUC is at least the running
    version's minus 0.02, and its false alarm rate at its own threshold is below the
    running version's and below ``max_false_alarm_rate``. The figures are recorded.
    """
    from tinyreg.matchmaker import Matchmaker

    cand, base = version_info(catalogue, candidate), version_info(catalogue, baseline)
    if cand is None or base is None or cand.threshold is None or base.threshold is None:
        raise InputError("both versions need a version record with a threshold")
    reasons: list[str] = []
    matchmaker = Matchmaker(catalogue)
    fits = [d for d in devices if matchmaker.explain(catalogue.resolve("model", candidate), d).fits]
    if len(fits) < len(devices):
        reasons.append(f"fits {len(fits)} of {len(devices)} target devices")
    rng = np.random.default_rng(seed)
    normal = np.array([r.input for r in heldout], dtype=np.float32)
    faulty = []
    for r in heldout:
        signal = r.signal()
        if signal is None:
            continue
        fault = str(rng.choice(["bearing-outer", "bearing-inner", "bearing-ball"]))
        faulty.append(
            inject_fault(
                signal,
                rng,
                fault,
                float(rng.uniform(0.2, 0.8)),
                r.stats.get("shaft_hz", 25.0),
                float(rng.uniform(500, 1200)),
            )
        )
    if not len(normal) or not faulty:
        raise InputError("the gate needs held-out windows, some of them raw")
    x = np.concatenate([normal, features(np.stack(faulty))])
    labels = np.array([0] * len(normal) + [1] * len(faulty))
    figures = {}
    for name, info in (("candidate", cand), ("baseline", base)):
        scores = host_scores(catalogue.model_bytes(info.model).data, x)
        figures[name] = (
            roc_auc(scores, labels),
            float(np.mean(scores[labels == 0] > (info.threshold or 0.0))),
        )
    (auc, far), (base_auc, base_far) = figures["candidate"], figures["baseline"]
    if auc < base_auc - 0.02:
        reasons.append(f"ROC AUC {auc:.3f} below the running version's {base_auc:.3f}")
    if far >= base_far and far > 0:
        reasons.append(f"false alarm rate {far:.3f} not below the running version's {base_far:.3f}")
    if far > max_false_alarm_rate:
        reasons.append(f"false alarm rate {far:.3f} above {max_false_alarm_rate}")
    result = GateResult(
        candidate=candidate,
        baseline=baseline,
        passed=not reasons,
        reasons=reasons,
        fits=fits,
        roc_auc=round(auc, 4),
        false_alarm_rate=round(far, 4),
        baseline_roc_auc=round(base_auc, 4),
        baseline_false_alarm_rate=round(base_far, 4),
        normal_windows=len(normal),
        faulty_windows=len(faulty),
    )
    _add_gate(catalogue, candidate, result)
    return result


def _add_gate(catalogue: Catalogue, candidate: str, gate: GateResult) -> None:
    """Add the gate's record to the version's lineage graph."""
    from tinyreg.registry.versions import lineage_graph_name

    name = lineage_graph_name(candidate)
    graph = catalogue.store.get_graph(name)
    from rdflib import RDF, Literal, URIRef

    from tinyreg.core.namespaces import TR, model_iri

    node = URIRef(f"urn:tinyreg:gate:{candidate}")
    graph.add((node, RDF.type, TR.GateAssessment))
    graph.add((node, TR.assessedModel, model_iri(candidate)))
    graph.add((node, TR.baselineModel, model_iri(gate.baseline)))
    graph.add((node, TR.gatePassed, Literal(gate.passed)))
    graph.add((node, TR.rocAuc, Literal(gate.roc_auc)))
    graph.add((node, TR.falseAlarmRate, Literal(gate.false_alarm_rate)))
    graph.add((node, TR.baselineRocAuc, Literal(gate.baseline_roc_auc)))
    graph.add((node, TR.baselineFalseAlarmRate, Literal(gate.baseline_false_alarm_rate)))
    catalogue.store.replace_graph(name, graph)


# ---------------------------------------------------------------------------------- rollout


@dataclass(frozen=True)
class RolloutPlan:
    """A staged rollout's thresholds (hawkBit's success and error conditions)."""

    canary_share: float = 0.25
    waves: int = 2
    watch_windows: int = 5
    max_failed_updates: int = 0
    max_inference_errors: int = 0
    max_latency_factor: float = 3.0
    alarm_margin: float = 0.2


def _rollout_path(directory: Path, ident: str) -> Path:
    return directory / f"{ident}.json"


def load_rollout(directory: Path, ident: str) -> dict[str, Any]:
    """A rollout's state (``status``, ``waves``, ``next_wave``, ``touched``, ``events``).

    Raises:
        NotFoundError: If there is no such rollout.

    """
    path = _rollout_path(directory, ident)
    if not re.fullmatch(r"[0-9a-f]{12}", ident) or not path.is_file():
        raise NotFoundError("rollout", ident)
    return dict(json.loads(path.read_text("utf-8")))


def _save(directory: Path, state: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = _rollout_path(directory, state["id"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, default=str), "utf-8")
    tmp.replace(path)  # atomic: a crash leaves the old state or the new one


def new_rollout(
    directory: Path,
    model: str,
    version: str,
    devices: Sequence[str],
    plan: RolloutPlan,
    expected_alarm_rate: float,
    baseline_inference_ms: float | None,
) -> dict[str, Any]:
    """Plan a rollout (canary, then waves) and save its state."""
    devices = list(devices)
    canary = max(1, round(len(devices) * plan.canary_share))
    rest = devices[canary:]
    size = max(1, -(-len(rest) // max(1, plan.waves)))
    waves = [devices[:canary]] + [rest[i : i + size] for i in range(0, len(rest), size)]
    state = {
        "id": uuid.uuid4().hex[:12],
        "model": model,
        "version": version,
        "status": "planned",
        "plan": plan.__dict__,
        "waves": waves,
        "next_wave": 0,
        "touched": [],
        "expected_alarm_rate": expected_alarm_rate,
        "baseline_inference_ms": baseline_inference_ms,
        "events": [{"at": time.time(), "event": "planned", "waves": [len(w) for w in waves]}],
    }
    _save(directory, state)
    return state


def run_rollout(
    directory: Path,
    ident: str,
    *,
    deploy: Callable[[str, list[str], str], list[Any]],
    rollback: Callable[[list[str]], list[Any]],
    telemetry: Callable[[str], list[TelemetryRecord]],
    threshold: float,
    wait: Callable[[float], None] = time.sleep,
    window_s: float = 1.0,
) -> dict[str, Any]:
    """Advance a rollout wave by wave until done or halted; resumable from its state.

    After each wave the wave's devices are watched for ``watch_windows`` windows of the
    new version: a failed update, inference errors, a median inference time above
    ``max_latency_factor`` times the running version's, or an alarm rate above the gate's
    expectation plus ``alarm_margin`` halts the rollout, and every device it touched is
    rolled back (signed rollback).

    Args:
        directory: The rollouts' folder.
        ident: The rollout's id.
        deploy: Deploys (model, devices, version) and returns the records.
        rollback: Rolls devices back and returns the records.
        telemetry: A device's recent telemetry records.
        threshold: The new version's operating threshold.
        wait: How to wait (seconds).
        window_s: Seconds per window of the devices.

    """
    state = load_rollout(directory, ident)
    plan = RolloutPlan(**state["plan"])

    def event(name: str, **data: Any) -> None:
        state["events"].append({"at": time.time(), "event": name, **data})
        _save(directory, state)

    if state["status"] in ("done", "halted"):
        return state
    state["status"] = "running"
    while state["next_wave"] < len(state["waves"]):
        index = state["next_wave"]
        wave = state["waves"][index]
        label = "canary" if index == 0 else f"wave {index}"
        event("deploying", wave=index, label=label, devices=wave)
        state["touched"] = sorted(set(state["touched"]) | set(wave))
        records = deploy(state["model"], wave, state["version"])
        failed = [r.device for r in records if r.outcome != "committed"]
        event(
            "deployed",
            wave=index,
            deployments=[r.id for r in records],
            committed=len(records) - len(failed),
            failed=failed,
        )
        reasons = []
        if len(failed) > plan.max_failed_updates:
            reasons.append(f"{len(failed)} failed update(s): {', '.join(failed)}")
        else:
            started = time.time()
            wait(window_s * (plan.watch_windows + 1.5))
            rows = [
                r
                for d in wave
                for r in telemetry(d)
                if r.model == state["model"] and r.received >= started
            ]
            errors = sum(1 for r in rows if r.error is not None)
            scored = [r for r in rows if r.score is not None]
            alarm = (
                float(np.mean([(r.score or 0.0) > threshold for r in scored])) if scored else 0.0
            )
            latency = (
                stats_module.median([r.inference_ms for r in scored if r.inference_ms is not None])
                if scored
                else None
            )
            base = state.get("baseline_inference_ms")
            event(
                "watched",
                wave=index,
                windows=len(rows),
                errors=errors,
                alarm_rate=round(alarm, 4),
                inference_p50_ms=latency,
            )
            if not rows:
                reasons.append("no telemetry from the wave's devices on the new version")
            if errors > plan.max_inference_errors:
                reasons.append(f"{errors} inference error(s)")
            if latency is not None and base and latency > plan.max_latency_factor * base:
                reasons.append(
                    f"median inference {latency:.3f} ms > {plan.max_latency_factor}x {base:.3f} ms"
                )
            if alarm > state["expected_alarm_rate"] + plan.alarm_margin:
                reasons.append(
                    f"alarm rate {alarm:.2f} above the gate's expectation "
                    f"{state['expected_alarm_rate']:.2f} + {plan.alarm_margin}"
                )
        if reasons:
            state["status"] = "halting"
            event("halted", wave=index, reasons=reasons)
            back = rollback(list(state["touched"]))
            state["status"] = "halted"
            event(
                "rolled back",
                devices=[r.device for r in back],
                outcomes={r.device: r.outcome for r in back},
                deployments=[r.id for r in back],
            )
            return state
        state["next_wave"] = index + 1
        event("wave passed", wave=index)
    state["status"] = "done"
    event("done")
    return state


def halt_rollout(directory: Path, ident: str, reason: str = "halted by hand") -> dict[str, Any]:
    """Mark a rollout halted (it deploys no further wave; roll back with ``deploy --rollback``)."""
    state = load_rollout(directory, ident)
    state["status"] = "halted"
    state["events"].append({"at": time.time(), "event": "halted", "reasons": [reason]})
    _save(directory, state)
    return state
