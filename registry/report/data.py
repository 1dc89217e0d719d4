"""The figures a report shows, read from the registry, and the few views sections share.

Every figure comes from the graph, read the way the rest of tinyreg reads it (see the
package's docstring); the helpers here only pick figures out of those records (a pair's
RAM constraint, a model's id, the medians of a pair's deployments), never recompute them.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tinyreg.core.namespaces import DEVICE_PREFIX
from tinyreg.core.queries import load_query
from tinyreg.matchmaker import Match, Matchmaker
from tinyreg.registry.bench import HostBenchmark, list_benchmarks
from tinyreg.registry.catalogue import Catalogue as Registry
from tinyreg.registry.catalogue import DeviceRecord, ModelRecord
from tinyreg.registry.deployments import DeploymentRecord
from tinyreg.registry.report.loop import LoopData, collect_loop

__all__ = [
    "BEST_BOARDS",
    "FAIL_ORDER",
    "ReportData",
    "category",
    "collect",
    "constraint_figures",
    "deployment_stats",
    "device_label",
    "model_id",
    "pair_row",
    "verdict_text",
]

FAIL_ORDER = ("runtime", "ram", "flash", "sensors", "operators", "latency")
"""Verdict categories of the compatibility matrix: the first failing constraint in this
order colours a cell; every failing one is named in it."""


def device_label(device: str) -> str:
    """A device's short name for plots and tables (its id without ``urn:tinyreg:device:``).

    >>> device_label("urn:tinyreg:device:esp-eye")
    'esp-eye'
    """
    return device.removeprefix(DEVICE_PREFIX)


BEST_BOARDS = 3
"""How many boards the report's "best boards per model" table names for each model."""


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, as read from the registry.

    Attributes:
        generated_at: When the figures were read (UTC).
        models: Every registered model.
        devices: Every registered device.
        matches: Every model–device pair with its verdict (fitting or not).
        operators: Per model IRI, its operator codes (``operator``, ``version``, ``uses``).
        benchmarks: Host measurements of the models (current bytes only).
        deployments: Recorded deployments, by start time.
        loop: The loop's telemetry, drift, versions and rollouts (``None`` without any).
        best: Per model IRI, its best fitting boards (at most :data:`BEST_BOARDS`), ranked
            as ``tinyreg match --model`` ranks them.

    """

    generated_at: datetime
    models: list[ModelRecord]
    devices: list[DeviceRecord]
    matches: list[Match]
    operators: dict[str, list[dict[str, Any]]]
    benchmarks: list[HostBenchmark]
    deployments: list[DeploymentRecord]
    loop: LoopData | None = None
    best: dict[str, list[Match]] = field(default_factory=dict)

    def match(self, model_iri: str, device_iri: str) -> Match | None:
        """The verdict on one pair, or ``None``."""
        return self._pairs.get((model_iri, device_iri))

    @property
    def _pairs(self) -> dict[tuple[str, str], Match]:
        cached: dict[tuple[str, str], Match] | None = self.__dict__.get("_pair_index")
        if cached is None:
            cached = {(m.model, m.device): m for m in self.matches}
            object.__setattr__(self, "_pair_index", cached)
        return cached


def collect(registry: Registry, loop_folder: Path | None = None) -> ReportData:
    """Read every figure a report shows from the registry.

    Args:
        registry: The registry.
        loop_folder: Where the loop keeps telemetry and rollouts, if anywhere.

    """
    operators: dict[str, list[dict[str, Any]]] = {}
    for row in registry.store.select_values(load_query("tinyreg.registry", "report_operators")):
        operators.setdefault(str(row["model"]), []).append(
            {
                "operator": str(row["operator"]),
                "version": int(row["version"]),
                "uses": int(row["uses"]) if row.get("uses") is not None else None,
            }
        )
    matches = Matchmaker(registry).pairs(all_verdicts=True)
    # the pairs come in the matchmaker's ranking, so a model's first fitting ones are the
    # boards `tinyreg match --model` puts first (no query per model)
    best: dict[str, list[Match]] = {}
    for match in matches:
        if match.fits and len(ranked := best.setdefault(match.model, [])) < BEST_BOARDS:
            ranked.append(match)
    return ReportData(
        generated_at=datetime.now(UTC),
        models=registry.list_models(),
        devices=registry.list_devices(),
        matches=matches,
        operators=operators,
        benchmarks=list_benchmarks(registry.store),
        deployments=registry.list_deployments(),
        loop=collect_loop(registry, loop_folder),
        best=best,
    )


def model_id(data: ReportData, iri: str) -> str:
    """The id of the model with this IRI (the IRI itself if it is not registered)."""
    for m in data.models:
        if m.iri == iri:
            return m.id
    return iri


def constraint_figures(match: Match, name: str) -> dict[str, Any] | None:
    """One constraint of a pair's verdict as data, or ``None``."""
    for c in match.verdict.constraints:
        if c.name == name:
            return c.to_dict()
    return None


def verdict_text(match: Match) -> str:
    """``fits`` or ``fails: ram, flash``."""
    failed = match.verdict.failed
    return "fits" if not failed else "fails: " + ", ".join(failed)


def category(match: Match) -> str:
    """The pair's colour in the compatibility matrix: ``fits`` or its first failing check."""
    failed = match.verdict.failed
    for name in FAIL_ORDER:
        if name in failed:
            return name
    return "fits" if match.fits else (failed[0] if failed else "fits")


def pair_row(match: Match) -> dict[str, Any]:
    """One pair's verdict and memory figures, as a row of ``pairs.csv`` and ``report.json``."""
    ram = constraint_figures(match, "ram") or {}
    flash = constraint_figures(match, "flash") or {}
    return {
        "model": match.model,
        "device": match.device,
        "fits": match.fits,
        "failed": match.verdict.failed,
        "failing_details": [c.detail for c in match.verdict.constraints if not c.passed],
        "ram_required_bytes": ram.get("required"),
        "ram_free_bytes": ram.get("available"),
        "flash_required_bytes": flash.get("required"),
        "flash_free_bytes": flash.get("available"),
        "estimated_latency_ms": match.verdict.estimated_latency_ms,
        "latency_error_band": match.verdict.latency_error_band,
        "latency_basis": match.verdict.latency_basis,
        "flags": list(match.verdict.flags),
    }


def deployment_stats(records: Sequence[DeploymentRecord]) -> list[dict[str, Any]]:
    """Per model and device: count, outcomes and the median of each latency."""
    groups: dict[tuple[str, str], list[DeploymentRecord]] = {}
    for record in records:
        groups.setdefault((record.model, record.device), []).append(record)
    rows = []
    for (model, device), group in sorted(groups.items()):
        row: dict[str, Any] = {
            "model": model,
            "device": device,
            "deployments": len(group),
            "committed": sum(1 for r in group if r.outcome == "committed"),
        }
        for name in ("deploy_ms", "load_ms", "inference_ms"):
            values = [getattr(r, name) for r in group if getattr(r, name) is not None]
            row[f"{name}_median"] = statistics.median(values) if values else None
        rows.append(row)
    return rows
