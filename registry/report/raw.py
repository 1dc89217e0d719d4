"""The report's raw figures: ``report.json`` (every figure shown, by key) and ``data/*.csv``."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tinyreg.registry.report.data import ReportData, pair_row

__all__ = ["report_json", "write_data"]


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: Sequence[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    k: json.dumps(v) if isinstance(v, list | dict) else ("" if v is None else v)
                    for k, v in row.items()
                }
            )
    return path


def _records(data: ReportData) -> dict[str, list[dict[str, Any]]]:
    """The raw records by table name: models, devices, pairs, benchmarks, deployments."""
    return {
        "models": [m.to_dict() for m in data.models],
        "devices": [d.to_dict() for d in data.devices],
        "pairs": [pair_row(m) for m in data.matches],
        "host_benchmarks": [b.to_dict() for b in data.benchmarks],
        "deployments": [r.to_dict() for r in data.deployments],
    }


# the first column of an empty table
_EMPTY_COLUMN = {"pairs": "model", "host_benchmarks": "model"}


def write_data(data: ReportData, folder: Path) -> list[Path]:
    """One CSV file per table of raw records, columns as the records' keys."""
    return [
        _write_csv(
            folder / f"{name}.csv", rows, list(rows[0]) if rows else [_EMPTY_COLUMN.get(name, "id")]
        )
        for name, rows in _records(data).items()
    ]


def report_json(data: ReportData, figures: dict[str, Any]) -> str:
    """``report.json``: every figure shown, by key, and the raw records."""
    records = _records(data)
    document = {
        "generated_at": data.generated_at.isoformat(),
        "figures": figures,
        "models": records["models"],
        "devices": records["devices"],
        "pairs": records["pairs"],
        "benchmarks": records["host_benchmarks"],
        "deployments": records["deployments"],
    }
    return json.dumps(document, indent=1, default=str)
