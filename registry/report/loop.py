"""The loop's section: what devices sensed, when drift was found, retrained and rolled out.

Figures come from where the loop keeps them (``docs/loop.md``): the devices' windows from
the bounded telemetry store (each window's anomaly score, model version and on-device
inference time, as the device reported them), drift assessments, version records, gate
figures and deployments from the graph, rollouts from their state files. Nothing is
recomputed here but counts, medians and rates over those records.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tinyreg.core.queries import load_query
from tinyreg.registry.catalogue import Catalogue
from tinyreg.registry.deployments import DeploymentRecord

__all__ = ["DeviceSeries", "LoopData", "collect_loop", "plot_loop"]

MAX_PLOTTED_DEVICES = 12
"""Devices drawn in the score plot (the table lists every device)."""


@dataclass
class DeviceSeries:
    """One device's windows and the loop's events on it (times in UNIX seconds)."""

    device: str
    ts: list[float] = field(default_factory=list)
    window: list[int] = field(default_factory=list)
    score: list[float | None] = field(default_factory=list)
    model: list[str | None] = field(default_factory=list)
    inference_ms: list[float | None] = field(default_factory=list)
    drifted_truth: list[bool | None] = field(default_factory=list)
    faulty_truth: list[bool | None] = field(default_factory=list)
    detections: list[tuple[float, str]] = field(default_factory=list)  # (time, kind)
    rollouts: list[tuple[float, str]] = field(default_factory=list)  # (time, what)

    def onset(self) -> float | None:
        """The first drifted window's time, when the windows carry the simulation's truth."""
        for t, drifted in zip(self.ts, self.drifted_truth, strict=True):
            if drifted:
                return t
        return None


@dataclass
class LoopData:
    """The loop's figures for the report."""

    devices: list[DeviceSeries]
    thresholds: dict[str, float]  # model id -> the version's threshold
    versions: list[dict[str, Any]]  # model, family, number, trained (time), gate figures
    rollouts: list[dict[str, Any]]

    def deployments_of(
        self, device: str, records: Sequence[DeploymentRecord]
    ) -> list[DeploymentRecord]:
        """The device's committed deployments of a loop model, oldest first."""
        models = set(self.thresholds)
        return [
            r
            for r in records
            if r.device == device and r.model in models and r.outcome == "committed"
        ]


def _seconds(value: Any) -> float | None:
    """UNIX seconds of an ``xsd:dateTime`` lexical form (``None`` if it is not one)."""
    try:
        return datetime.fromisoformat(str(value)).timestamp() if value is not None else None
    except ValueError:
        return None


def collect_loop(registry: Catalogue, folder: Path | None) -> LoopData | None:
    """The loop's figures, or ``None`` when the registry has no telemetry and no rollout.

    Args:
        registry: The registry.
        folder: Where the loop keeps telemetry and rollouts (``Registry.loop_folder``).

    """
    if folder is None:
        return None
    windows_file = folder / "telemetry" / "windows.sqlite3"
    rollout_files = sorted((folder / "rollouts").glob("*.json"))
    if not windows_file.is_file() and not rollout_files:
        return None
    from tinyreg.registry.telemetry import TelemetryStore

    series: dict[str, DeviceSeries] = {}
    if windows_file.is_file():
        store = TelemetryStore(folder / "telemetry")
        try:
            for device in store.devices():
                s = series[device] = DeviceSeries(device)
                for r in store.recent(device):
                    s.ts.append(r.ts)
                    s.window.append(r.window)
                    s.score.append(r.score)
                    s.model.append(r.model)
                    s.inference_ms.append(r.inference_ms)
                    truth = r.truth or {}
                    s.drifted_truth.append(truth.get("drifted"))
                    fault = truth.get("fault")
                    s.faulty_truth.append(None if fault is None else fault != "none")
        finally:
            store.close()
    for row in registry.store.select_values(load_query("tinyreg.registry", "report_drift")):
        device = str(row["device"])
        at = _seconds(row.get("time"))
        if device in series and at is not None:
            series[device].detections.append((at, str(row["kind"])))
    rollouts = []
    for path in rollout_files:  # the rollouts' state files (``registry/loop.py``)
        try:
            state = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(state, dict) and isinstance(state.get("events"), list):
            rollouts.append(state)
    for state in rollouts:
        for event in state["events"]:
            what = event["event"]
            if what == "deploying":
                targets = event.get("devices", [])
                label = f"{state['model']} ({event.get('label', 'wave')})"
            elif what == "rolled back":
                targets, label = event.get("devices", []), f"rolled back from {state['model']}"
            else:
                continue
            for device in targets:
                if device in series:
                    series[device].rollouts.append((float(event["at"]), label))
    thresholds: dict[str, float] = {}
    versions: list[dict[str, Any]] = []
    for row in registry.store.select_values(load_query("tinyreg.registry", "report_versions")):
        model = str(row["model"]).rsplit("/", 1)[-1]
        if row.get("threshold") is not None:
            thresholds[model] = float(row["threshold"])
        versions.append(
            {
                "model": model,
                "family": str(row["family"]),
                "number": int(row["number"]),
                "trained": _seconds(row.get("ended")),
                "gate_passed": None if row.get("passed") is None else bool(row["passed"]),
                "roc_auc": _float(row.get("auc")),
                "false_alarm_rate": _float(row.get("far")),
                "baseline_roc_auc": _float(row.get("baseAuc")),
                "baseline_false_alarm_rate": _float(row.get("baseFar")),
            }
        )
    for s in series.values():
        s.detections.sort()
        s.rollouts.sort()
    return LoopData(sorted(series.values(), key=lambda s: s.device), thresholds, versions, rollouts)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def alarm_rates(data: LoopData) -> list[dict[str, Any]]:
    """Per model version, its alarm rate on the windows it scored after drift was found.

    Only windows after the device's first drift detection count (the drifted conditions),
    and, when the windows carry the simulation's truth, only those without a fault: the
    share of those a version calls anomalous is its false alarm rate on the devices.
    """
    counts: dict[str, list[int]] = {}
    for s in data.devices:
        if not s.detections:
            continue
        found = s.detections[0][0]
        for t, score, model, faulty in zip(s.ts, s.score, s.model, s.faulty_truth, strict=True):
            threshold = data.thresholds.get(model or "")
            if t < found or score is None or threshold is None or faulty:
                continue
            c = counts.setdefault(model or "", [0, 0])
            c[0] += 1
            c[1] += score > threshold
    return [
        {"model": m, "windows": n, "alarms": a, "rate": round(a / n, 4)}
        for m, (n, a) in sorted(counts.items())
    ]


def device_rows(data: LoopData, records: Sequence[DeploymentRecord]) -> list[dict[str, Any]]:
    """Per device: windows, detection, and deploy / load / inference latency per version."""
    rows = []
    for s in data.devices:
        by_model: dict[str, list[float]] = {}
        for model, ms in zip(s.model, s.inference_ms, strict=True):
            if model is not None and ms is not None:
                by_model.setdefault(model, []).append(ms)
        # the latest transfer of each version (a rollback's record has no deployment time)
        deployed = {
            r.model: r for r in data.deployments_of(s.device, records) if r.deploy_ms is not None
        }
        for model in sorted(set(by_model) | set(deployed)):
            record = deployed.get(model)
            rows.append(
                {
                    "device": s.device,
                    "model": model,
                    "windows": len(by_model.get(model, [])),
                    "drift_found": s.detections[0][1] if s.detections else None,
                    "deploy_ms": record.deploy_ms if record else None,
                    "load_ms": record.load_ms if record else None,
                    "inference_ms_median": (
                        round(statistics.median(by_model[model]), 4) if model in by_model else None
                    ),
                }
            )
    return rows


_COLOURS = ("#2166ac", "#1b7837", "#b2182b", "#762a83", "#e08214", "#4d4d4d")


def plot_loop(data: LoopData) -> bytes:
    """Anomaly score over time per device, with onset, detection, retraining and rollout."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from tinyreg.registry.report.plots import _png as png

    shown = [s for s in data.devices if s.ts][:MAX_PLOTTED_DEVICES]
    rows = max(1, len(shown))
    fig = Figure(figsize=(12.0, 1.9 * rows + 1.2))
    axes = fig.subplots(rows, 1, squeeze=False, sharex=True)[:, 0]
    start = min((s.ts[0] for s in shown), default=0.0)
    models = sorted({m for s in shown for m in s.model if m})
    colour = {m: _COLOURS[i % len(_COLOURS)] for i, m in enumerate(models)}
    trained = [(v["trained"], v["model"]) for v in data.versions if v["trained"]]
    for ax, s in zip(axes, shown, strict=False):
        for m in models:
            points = [
                (t - start, sc)
                for t, sc, mm in zip(s.ts, s.score, s.model, strict=True)
                if mm == m and sc is not None and sc > 0
            ]
            if points:
                ax.scatter(*zip(*points, strict=True), s=6, color=colour[m], zorder=3)
                if m in data.thresholds:
                    ax.axhline(data.thresholds[m], color=colour[m], lw=0.8, ls=":")
        if (onset := s.onset()) is not None:
            ax.axvline(onset - start, color="#999999", lw=1.5, ls="--")
        for t, _ in s.detections[:1]:
            ax.axvline(t - start, color="#e08214", lw=1.5)
        for t, _ in trained:
            ax.axvline(t - start, color="#762a83", lw=1.2, ls="-.")
        for t, what in s.rollouts:
            ax.axvline(t - start, color="#b2182b" if "rolled" in what else "#1b7837", lw=1.2)
        ax.set_yscale("log")
        ax.set_ylabel(s.device.rsplit(":", 1)[-1], fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("seconds since the first window shown")
    handles = [Line2D([], [], marker="o", ls="", color=colour[m], label=m) for m in models] + [
        Line2D([], [], color="#999999", ls="--", label="drift onset (simulation truth)"),
        Line2D([], [], color="#e08214", label="drift detected"),
        Line2D([], [], color="#762a83", ls="-.", label="retraining finished"),
        Line2D([], [], color="#1b7837", label="rollout reached the device"),
        Line2D([], [], color="#b2182b", label="rolled back"),
    ]
    height = 1.9 * rows + 1.2
    fig.legend(
        handles=handles,
        loc="upper center",
        ncol=4,
        fontsize=8,
        title=(
            "Anomaly score per window (log scale; dotted: each version's threshold), "
            f"{len(shown)} of {len(data.devices)} devices"
        ),
        title_fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 1.0 / height))
    return png(fig)
