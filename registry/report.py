"""Benchmark reports: what fits where, how much room is left, how fast, how deployments went.

:func:`write_report` reads the registry and writes, into one folder:

* ``report.html``: one self-contained page (CSS inline, plots as base64 PNG ``data:`` URIs,
  no script, nothing fetched from the network);
* ``report.md`` with the plots beside it in ``plots/*.png``;
* the raw figures: ``report.json`` (every figure shown, by key) and ``data/*.csv``.

Every figure comes from the graph, read the way the rest of tinyreg reads it: models and
devices as :meth:`Registry.list_models` / :meth:`Registry.list_devices` give them, verdicts,
requirements, capacities and estimated latencies from :meth:`Matchmaker.pairs` (every pair,
``all_verdicts=True``, the same numbers ``tinyreg explain`` prints), operator use from
``queries/report_operators.rq``, host measurements from :mod:`tinyreg.registry.bench`, and
deployments from :meth:`Registry.list_deployments`. Nothing is recomputed differently.

In the HTML every figure in a table carries its key and exact value
(``data-fig="model|hello-world|arena_bytes" data-value="1936"``), the same pairs as the
``figures`` object of ``report.json``, so a reader (or a test) can check each one.

Plots are drawn with matplotlib's object API (:class:`matplotlib.figure.Figure`, Agg
rendering), never ``pyplot``, so no global state or GUI backend is touched. Their size grows
with the number of models and boards so that names stay legible at 100 % zoom.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from tinyreg.core.namespaces import DEVICE_PREFIX
from tinyreg.core.queries import load_query
from tinyreg.matchmaker import Match, Matchmaker
from tinyreg.registry.bench import HostBenchmark, list_benchmarks
from tinyreg.registry.catalogue import Catalogue as Registry
from tinyreg.registry.catalogue import DeviceRecord, ModelRecord
from tinyreg.registry.deployments import DeploymentRecord

__all__ = [
    "REPORT_STEPS",
    "ReportData",
    "ReportFiles",
    "collect",
    "device_label",
    "write_report",
]

REPORT_STEPS = 10
"""How many times :func:`write_report` calls its ``progress`` callback."""

# Verdict categories of the compatibility matrix: the first failing constraint in this
# order colours the cell; every failing one is named in it.
_FAIL_ORDER = ("runtime", "ram", "flash", "sensors", "operators", "latency")
_ABBREV = {
    "runtime": "RT",
    "ram": "R",
    "flash": "F",
    "sensors": "S",
    "operators": "O",
    "latency": "L",
}
_CATEGORY_COLOURS = {
    "fits": "#1b7837",
    "runtime": "#762a83",
    "ram": "#b2182b",
    "flash": "#f4a582",
    "sensors": "#4393c3",
    "operators": "#e6c229",
    "latency": "#999999",
}
_CATEGORY_LABELS = {
    "fits": "fits",
    "runtime": "RT: runtime refuses the model",
    "ram": "R: not enough RAM",
    "flash": "F: not enough flash",
    "sensors": "S: a sensor type is missing",
    "operators": "O: operators not offered",
    "latency": "L: too slow",
}
_DPI = 100
_FONT = 9


def device_label(device: str) -> str:
    """A device's short name for plots and tables (its id without ``urn:tinyreg:device:``).

    >>> device_label("urn:tinyreg:device:esp-eye")
    'esp-eye'
    """
    return device.removeprefix(DEVICE_PREFIX)


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

    """

    generated_at: datetime
    models: list[ModelRecord]
    devices: list[DeviceRecord]
    matches: list[Match]
    operators: dict[str, list[dict[str, Any]]]
    benchmarks: list[HostBenchmark]
    deployments: list[DeploymentRecord]

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


@dataclass
class ReportFiles:
    """What :func:`write_report` wrote.

    Attributes:
        folder: The output folder.
        html: The self-contained HTML report.
        markdown: The Markdown report (plots in ``plots/``).
        json: Every figure of the report, by key, plus the raw records.
        csv: The raw tables.
        plots: The PNG plots.
        figures: Every figure shown, by key (the ``data-fig`` keys of the HTML).

    """

    folder: Path
    html: Path
    markdown: Path
    json: Path
    csv: list[Path] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- collecting


def collect(registry: Registry) -> ReportData:
    """Read every figure a report shows from the registry."""
    operators: dict[str, list[dict[str, Any]]] = {}
    for row in registry.store.select_values(load_query("tinyreg.registry", "report_operators")):
        operators.setdefault(str(row["model"]), []).append(
            {
                "operator": str(row["operator"]),
                "version": int(row["version"]),
                "uses": int(row["uses"]) if row.get("uses") is not None else None,
            }
        )
    return ReportData(
        generated_at=datetime.now(UTC),
        models=registry.list_models(),
        devices=registry.list_devices(),
        matches=Matchmaker(registry).pairs(all_verdicts=True),
        operators=operators,
        benchmarks=list_benchmarks(registry.store),
        deployments=registry.list_deployments(),
    )


# --------------------------------------------------------------------------- figures


def _constraint(match: Match, name: str) -> dict[str, Any] | None:
    for c in match.verdict.constraints:
        if c.name == name:
            return c.to_dict()
    return None


def _verdict_text(match: Match) -> str:
    failed = match.verdict.failed
    return "fits" if not failed else "fails: " + ", ".join(failed)


def _category(match: Match) -> str:
    failed = match.verdict.failed
    for name in _FAIL_ORDER:
        if name in failed:
            return name
    return "fits" if match.fits else (failed[0] if failed else "fits")


def _deployment_stats(records: Sequence[DeploymentRecord]) -> list[dict[str, Any]]:
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


# --------------------------------------------------------------------------- formatting


def _fmt(value: Any) -> str:
    """A figure as shown: integers with thousands separators, milliseconds to 3-4 decimals."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1 else f"{value:,.3f}"
    return str(value)


def _short_ms(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


class _Figures:
    """The figures of one report: key → exact value, rendered into HTML cells."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def cell(self, key: str, value: Any, *, numeric: bool = True) -> str:
        """One ``<td>`` carrying the figure's key and exact value."""
        self.values[key] = value
        null = ""
        if value is None:
            exact, null = "", ' data-null="1"'
        elif isinstance(value, str):
            exact = value
        else:
            exact = json.dumps(value)
        cls = ' class="num"' if numeric else ""
        return (
            f'<td{cls} data-fig="{html.escape(key)}" data-value="{html.escape(exact)}"{null}>'
            f"{html.escape(_fmt(value))}</td>"
        )


# --------------------------------------------------------------------------- plots


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight")
    return buffer.getvalue()


def _heatmap_size(rows: int, cols: int) -> tuple[float, float]:
    return (max(6.0, 3.2 + 0.6 * cols), max(3.5, 2.0 + 0.3 * rows))


def _heatmap(data: ReportData) -> tuple[list[str], list[str], Any, Figure, Any]:
    """Model IRIs (rows), device ids (columns), an empty grid, and a figure sized for them."""
    models = [m.iri for m in data.models]
    devices = [d.id for d in data.devices]
    grid = np.full((len(models), len(devices)), np.nan)
    fig = Figure(figsize=_heatmap_size(len(models), len(devices)))
    return models, devices, grid, fig, fig.add_subplot()


def _plot_matrix(data: ReportData) -> bytes:
    models, devices, grid, fig, ax = _heatmap(data)
    categories = list(_CATEGORY_COLOURS)
    texts: list[tuple[int, int, str, str]] = []
    for i, model in enumerate(models):
        for j, device in enumerate(devices):
            match = data.match(model, device)
            if match is None:
                continue
            category = _category(match)
            grid[i, j] = categories.index(category)
            label = "✓" if match.fits else " ".join(_ABBREV[f] for f in match.verdict.failed)
            colour = "black" if category in ("flash", "operators", "latency") else "white"
            texts.append((i, j, label, colour))
    cmap = ListedColormap([_CATEGORY_COLOURS[c] for c in categories]).with_extremes(bad="#ffffff")
    norm = BoundaryNorm(np.arange(len(categories) + 1) - 0.5, cmap.N)
    ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=norm, aspect="auto")
    for i, j, label, colour in texts:
        ax.text(j, i, label, ha="center", va="center", fontsize=_FONT - 1, color=colour)
    _grid_axes(ax, [m.id for m in data.models], [device_label(d) for d in devices])
    ax.set_xlabel("device (board)")
    ax.set_ylabel("model")
    ax.set_title("Compatibility: verdict of each model on each board (failing constraints named)")
    used = sorted({int(v) for v in grid[~np.isnan(grid)]})
    handles = [
        Patch(facecolor=_CATEGORY_COLOURS[categories[k]], label=_CATEGORY_LABELS[categories[k]])
        for k in used
    ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=_FONT,
        title="colour: first failing constraint",
        title_fontsize=_FONT,
    )
    return _png(fig)


def _grid_axes(ax: Any, rows: Sequence[str], cols: Sequence[str]) -> None:
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels(cols, rotation=45, ha="right", fontsize=_FONT)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows, fontsize=_FONT)
    ax.set_xticks(np.arange(len(cols)) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(rows)) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1)
    ax.tick_params(which="minor", length=0)


def _plot_memory_use(data: ReportData, name: str, what: str) -> bytes:
    """Heatmap of need ÷ free memory (%) per pair, from the matchmaker's constraint figures."""
    models, devices, grid, fig, ax = _heatmap(data)
    for i, model in enumerate(models):
        for j, device in enumerate(devices):
            match = data.match(model, device)
            c = _constraint(match, name) if match else None
            if c is None:
                continue
            if c["required"] is None or not c["available"]:
                ax.text(j, i, "?", ha="center", va="center", fontsize=_FONT - 1)
                continue
            percent = 100.0 * c["required"] / c["available"]
            grid[i, j] = percent
            label = f"{percent:.0f}" if percent < 1000 else ">999"
            colour = "white" if percent >= 100 or percent < 25 else "black"
            ax.text(j, i, label, ha="center", va="center", fontsize=_FONT - 1, color=colour)
    bounds = [0, 25, 50, 75, 90, 100, 200, 1e9]
    colours = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027", "#67001f"]
    cmap = ListedColormap(colours).with_extremes(bad="#eeeeee")
    norm = BoundaryNorm(bounds, cmap.N)
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=norm, aspect="auto")
    _grid_axes(ax, [m.id for m in data.models], [device_label(d) for d in devices])
    ax.set_xlabel("device (board)")
    ax.set_ylabel("model")
    ax.set_title(
        f"{what}: model's need as % of the board's free {what} (≥ 100 % does not fit; ? unknown)"
    )
    bar = fig.colorbar(image, ax=ax, ticks=bounds[:-1], fraction=0.03, pad=0.02)
    bar.ax.set_yticklabels([f"{b:g} %" for b in bounds[:-1]], fontsize=_FONT)
    bar.set_label(f"need ÷ free {what} (%)", fontsize=_FONT)
    return _png(fig)


def _bar_size(rows: int) -> tuple[float, float]:
    return (12.0, max(3.0, 1.5 + 0.28 * rows))


def _plot_models(data: ReportData) -> bytes:
    """Arena and model size, MACs and parameters per model (log scales)."""
    models = data.models
    names = [m.id for m in models]
    y = np.arange(len(models))
    fig = Figure(figsize=(14.0, max(3.0, 2.0 + 0.28 * len(models))), layout="constrained")
    panels: tuple[tuple[str, list[int | None]], ...] = (
        ("tensor arena (RAM), bytes", [m.arena_bytes for m in models]),
        ("model size (flash), bytes", [m.model_bytes for m in models]),
        ("MACs per inference", [m.macs for m in models]),
        ("parameters", [m.parameters for m in models]),
    )
    quants = sorted({m.quantization or "unknown" for m in models})
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    colour = {q: palette[k % len(palette)] for k, q in enumerate(quants)}
    bar_colours = [colour[m.quantization or "unknown"] for m in models]
    axes = fig.subplots(1, len(panels), sharey=True)
    for ax, (label, values) in zip(axes, panels, strict=True):
        ax.barh(y, [v if v else np.nan for v in values], color=bar_colours)
        ax.set_xscale("log")
        ax.set_xlabel(label, fontsize=_FONT)
        ax.tick_params(axis="x", labelsize=_FONT)
        ax.grid(axis="x", which="major", alpha=0.3)
        for k, v in enumerate(values):
            if not v:
                ax.text(
                    0.01,
                    k,
                    "none (not runnable)" if v is None else "0",
                    va="center",
                    fontsize=_FONT - 1,
                    transform=ax.get_yaxis_transform(),
                )
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(names, fontsize=_FONT)
    axes[0].invert_yaxis()
    axes[0].set_ylabel("model")
    fig.legend(
        handles=[Patch(facecolor=colour[q], label=q) for q in quants],
        title="quantization",
        loc="outside lower center",
        ncol=len(quants),
        fontsize=_FONT,
        title_fontsize=_FONT,
    )
    fig.suptitle("Models: memory and size of the computation (log scales)")
    return _png(fig)


def _plot_host_latency(data: ReportData) -> bytes:
    benches = data.benchmarks
    names = [_model_id(data, b.model) for b in benches]
    y = np.arange(len(benches))
    fig = Figure(figsize=_bar_size(len(benches)), layout="constrained")
    ax_invoke, ax_load = fig.subplots(1, 2, sharey=True)
    medians = np.array([b.invoke_median_ms for b in benches])
    low = medians - np.array([b.invoke_min_ms for b in benches])
    high = np.array([b.invoke_max_ms for b in benches]) - medians
    ax_invoke.barh(y, medians, color="#4393c3", label="median")
    ax_invoke.errorbar(
        medians, y, xerr=[low, high], fmt="none", ecolor="black", capsize=3, label="fastest–slowest"
    )
    ax_invoke.set_xscale("log")
    ax_invoke.set_xlabel("inference (Invoke) time on the host, ms (log scale)")
    fig.legend(*ax_invoke.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    ax_load.barh(y, [b.load_ms for b in benches], color="#f4a582")
    ax_load.set_xlabel("load time (interpreter + arena) on the host, ms")
    for ax in (ax_invoke, ax_load):
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(axis="x", labelsize=_FONT)
    ax_invoke.set_yticks(y)
    ax_invoke.set_yticklabels(names, fontsize=_FONT)
    ax_invoke.invert_yaxis()
    ax_invoke.set_ylabel("model")
    runtime = f"{benches[0].runtime_name} {benches[0].runtime_version}" if benches else ""
    fig.suptitle(f"Measured on the host with the TFLite Micro runtime ({runtime})")
    return _png(fig)


def _plot_estimated_latency(data: ReportData) -> bytes:
    models, devices, grid, fig, ax = _heatmap(data)
    for i, model in enumerate(models):
        for j, device in enumerate(devices):
            match = data.match(model, device)
            if match is None:
                continue
            latency = match.verdict.estimated_latency_ms
            if not match.fits:
                ax.text(j, i, "×", ha="center", va="center", fontsize=_FONT, color="#777777")
            elif latency is None:
                ax.text(j, i, "?", ha="center", va="center", fontsize=_FONT)
            else:
                grid[i, j] = max(latency, 1e-3)
    cmap = ListedColormap(
        ["#f7fcf5", "#c7e9c0", "#74c476", "#fdd49e", "#fc8d59", "#d7301f", "#b30000"]
    ).with_extremes(bad="#eeeeee")
    finite = grid[~np.isnan(grid)]
    low = float(finite.min()) if finite.size else 1e-3
    high = float(finite.max()) if finite.size else 1.0
    norm = LogNorm(vmin=low, vmax=max(high, low * 10))
    for i, j in zip(*np.nonzero(~np.isnan(grid)), strict=True):
        value = float(grid[i, j])
        colour = "white" if norm(value) > 0.7 else "black"
        ax.text(j, i, _short_ms(value), ha="center", va="center", fontsize=_FONT - 1, color=colour)
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=norm, aspect="auto")
    _grid_axes(ax, [m.id for m in data.models], [device_label(d) for d in devices])
    ax.set_xlabel("device (board)")
    ax.set_ylabel("model")
    ax.set_title(
        "Estimated inference latency on each board, ms (MACs × cycles/MAC ÷ clock); "
        "× does not fit, ? no cycles figure"
    )
    bar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02)
    bar.set_label("estimated latency, ms (log scale)", fontsize=_FONT)
    return _png(fig)


def _plot_deployments(data: ReportData) -> bytes:
    records = data.deployments
    fig = Figure(figsize=(14.0, 5.0))
    axes = fig.subplots(1, 3)
    panels = (
        ("deploy_ms", "deployment (transfer → verified image), ms"),
        ("load_ms", "loading (interpreter + arena) on the device, ms"),
        ("inference_ms", "inference (median self-test) on the device, ms"),
    )
    models = sorted({r.model for r in records})
    rng = np.random.default_rng(0)
    for ax, (name, label) in zip(axes, panels, strict=True):
        series = [
            [getattr(r, name) for r in records if r.model == m and getattr(r, name) is not None]
            for m in models
        ]
        shown = [(m, s) for m, s in zip(models, series, strict=True) if s]
        if shown:
            ax.boxplot([s for _, s in shown], orientation="horizontal", widths=0.6)
            for k, (_, values) in enumerate(shown, start=1):
                jitter = rng.uniform(-0.15, 0.15, len(values))
                ax.scatter(values, k + jitter, s=12, color="#2166ac", alpha=0.7, zorder=3)
            ax.set_yticks(range(1, len(shown) + 1))
            ax.set_yticklabels([m for m, _ in shown], fontsize=_FONT)
        else:
            ax.text(0.5, 0.5, "no figures recorded", ha="center", transform=ax.transAxes)
            ax.set_yticks([])
        ax.set_xlabel(label, fontsize=_FONT)
        ax.tick_params(axis="x", labelsize=_FONT)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_ylabel("model")
    fig.suptitle(
        f"Recorded deployments: latency distributions ({len(records)} deployments; "
        "box: quartiles and median, dots: each deployment)"
    )
    fig.tight_layout()
    return _png(fig)


def _model_id(data: ReportData, iri: str) -> str:
    for m in data.models:
        if m.iri == iri:
            return m.id
    return iri


# --------------------------------------------------------------------------- writing


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "\n".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"


def _td(text: Any) -> str:
    return f"<td>{html.escape('' if text is None else str(text))}</td>"


def _md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        return _fmt(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


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


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem;
       color: #222; max-width: 100%; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.85rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; vertical-align: top; }
th { background: #f3f3f3; position: sticky; top: 0; }
td:first-child { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.fits { background: #d9f0d3; } td.fails { background: #fddbc7; }
figure { margin: 1rem 0; } figure img { max-width: none; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #555; }
.note { color: #555; font-size: 0.9rem; }
details summary { cursor: pointer; font-weight: 600; }
"""


def write_report(
    registry: Registry,
    out: Path,
    *,
    progress: Callable[[str], None] | None = None,
    data: ReportData | None = None,
) -> ReportFiles:
    """Write the HTML, Markdown, JSON and CSV report of a registry into a folder.

    Args:
        registry: The registry to report on.
        out: The folder (created if missing; files of an earlier report are replaced).
        progress: Called with the name of each step once it is done
            (:data:`REPORT_STEPS` calls).
        data: Figures already read with :func:`collect` (read now when ``None``).

    Returns:
        The files written and every figure shown, by key.

    """

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    if data is None:
        data = collect(registry)
    step("read the graph")
    out.mkdir(parents=True, exist_ok=True)
    (out / "plots").mkdir(exist_ok=True)
    (out / "data").mkdir(exist_ok=True)
    figs = _Figures()
    files = ReportFiles(out, out / "report.html", out / "report.md", out / "report.json")

    plots: dict[str, tuple[bytes, str]] = {}

    def plot(name: str, png: bytes, caption: str) -> None:
        path = out / "plots" / f"{name}.png"
        path.write_bytes(png)
        files.plots.append(path)
        plots[name] = (png, caption)

    # plots need something to show: an empty registry gets the tables and notes only
    pairs = bool(data.models and data.devices)
    if pairs:
        plot("compatibility", _plot_matrix(data), "Compatibility matrix: models × boards.")
    step("compatibility matrix")
    if pairs:
        plot("ram_use", _plot_memory_use(data, "ram", "RAM"), "RAM need against free RAM.")
        plot(
            "flash_use", _plot_memory_use(data, "flash", "flash"), "Flash need against free flash."
        )
    step("memory against capacity")
    if data.models:
        plot("models", _plot_models(data), "Per model: arena, size, MACs, parameters.")
    step("models")
    if data.benchmarks:
        plot("host_latency", _plot_host_latency(data), "Host latency (TFLite Micro runtime).")
    if pairs:
        plot(
            "estimated_latency",
            _plot_estimated_latency(data),
            "Estimated inference latency per board.",
        )
    step("latency")
    if data.deployments:
        plot("deployments", _plot_deployments(data), "Deployment latency distributions.")
    step("deployments")

    sections_html, sections_md = _sections(data, figs, plots)
    step("tables")

    files.figures = figs.values
    files.html.write_text(_html_page(data, sections_html), encoding="utf-8")
    step("HTML")
    files.markdown.write_text(_markdown_page(data, sections_md), encoding="utf-8")
    step("Markdown")
    files.csv = _write_data(data, out / "data")
    files.json.write_text(
        json.dumps(
            {
                "generated_at": data.generated_at.isoformat(),
                "figures": figs.values,
                "models": [m.to_dict() for m in data.models],
                "devices": [d.to_dict() for d in data.devices],
                "pairs": [_pair_row(m) for m in data.matches],
                "benchmarks": [b.to_dict() for b in data.benchmarks],
                "deployments": [r.to_dict() for r in data.deployments],
            },
            indent=1,
            default=str,
        ),
        encoding="utf-8",
    )
    step("CSV and JSON")
    return files


def _pair_row(match: Match) -> dict[str, Any]:
    ram = _constraint(match, "ram") or {}
    flash = _constraint(match, "flash") or {}
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
        "flags": list(match.verdict.flags),
    }


def _write_data(data: ReportData, folder: Path) -> list[Path]:
    models = [m.to_dict() for m in data.models]
    devices = [d.to_dict() for d in data.devices]
    pairs = [_pair_row(m) for m in data.matches]
    benches = [b.to_dict() for b in data.benchmarks]
    deployments = [r.to_dict() for r in data.deployments]
    written = [
        _write_csv(folder / "models.csv", models, list(models[0]) if models else ["id"]),
        _write_csv(folder / "devices.csv", devices, list(devices[0]) if devices else ["id"]),
        _write_csv(folder / "pairs.csv", pairs, list(pairs[0]) if pairs else ["model"]),
        _write_csv(
            folder / "host_benchmarks.csv", benches, list(benches[0]) if benches else ["model"]
        ),
        _write_csv(
            folder / "deployments.csv",
            deployments,
            list(deployments[0]) if deployments else ["id"],
        ),
    ]
    return written


def _img(png: bytes, caption: str, name: str) -> str:
    encoded = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img id="plot-{name}" alt="{html.escape(caption)}" '
        f'src="data:image/png;base64,{encoded}"><figcaption>{html.escape(caption)}'
        "</figcaption></figure>"
    )


def _sections(
    data: ReportData, figs: _Figures, plots: Mapping[str, tuple[bytes, str]]
) -> tuple[list[str], list[str]]:
    """The report's sections, as HTML and as Markdown."""
    h: list[str] = []
    md: list[str] = []

    def both_plot(name: str) -> None:
        if name in plots:
            png, caption = plots[name]
            h.append(_img(png, caption, name))
            md.append(f"![{caption}](plots/{name}.png)\n")

    # --- inventory
    fitting = sum(1 for m in data.matches if m.fits)
    summary = [
        ("models", len(data.models)),
        ("devices", len(data.devices)),
        ("model–device pairs", len(data.matches)),
        ("fitting pairs", fitting),
        ("host benchmarks", len(data.benchmarks)),
        ("deployments", len(data.deployments)),
    ]
    h.append("<h2 id='inventory'>Fleet and model inventory</h2>")
    h.append(
        _table(
            ["", "count"],
            [[_td(k), figs.cell(f"summary|{k}", v)] for k, v in summary],
        )
    )
    md.append("## Fleet and model inventory\n")
    md.append(_md_table(["", "count"], summary) + "\n")

    device_headers = [
        "device",
        "title",
        "core",
        "clock (Hz)",
        "RAM (B)",
        "RAM reserved (B)",
        "flash (B)",
        "flash reserved (B)",
        "sensors",
        "runtime",
    ]
    device_rows = []
    md_devices = []
    for d in data.devices:
        key = f"device|{d.id}|"
        runtime = f"{d.runtime or ''} {d.runtime_version or ''}".strip()
        device_rows.append(
            [
                _td(device_label(d.id)),
                _td(d.title),
                _td(d.core),
                figs.cell(key + "clock_hz", d.clock_hz),
                figs.cell(key + "ram_bytes", d.ram_bytes),
                figs.cell(key + "reserved_ram_bytes", d.reserved_ram_bytes),
                figs.cell(key + "flash_bytes", d.flash_bytes),
                figs.cell(key + "reserved_flash_bytes", d.reserved_flash_bytes),
                _td(", ".join(d.sensors)),
                _td(runtime),
            ]
        )
        md_devices.append(
            [
                device_label(d.id),
                d.title,
                d.core,
                d.clock_hz,
                d.ram_bytes,
                d.reserved_ram_bytes,
                d.flash_bytes,
                d.reserved_flash_bytes,
                ", ".join(d.sensors),
                runtime,
            ]
        )
    h.append("<h3>Devices</h3>")
    h.append(_table(device_headers, device_rows))
    md.append("### Devices\n")
    md.append(_md_table(device_headers, md_devices) + "\n")

    model_headers = [
        "model",
        "name",
        "task",
        "quantization",
        "model size (B)",
        "arena (B)",
        "arena 32-bit est. (B)",
        "MACs",
        "parameters",
        "operator codes",
        "runnable",
    ]
    model_rows = []
    md_models = []
    for m in data.models:
        key = f"model|{m.id}|"
        model_rows.append(
            [
                _td(m.id),
                _td(m.name),
                _td(m.task),
                figs.cell(key + "quantization", m.quantization, numeric=False),
                figs.cell(key + "model_bytes", m.model_bytes),
                figs.cell(key + "arena_bytes", m.arena_bytes),
                figs.cell(key + "arena_bytes_32bit_estimate", m.arena_bytes_32bit_estimate),
                figs.cell(key + "macs", m.macs),
                figs.cell(key + "parameters", m.parameters),
                figs.cell(key + "operator_codes", len(data.operators.get(m.iri, []))),
                _td("yes" if m.runnable else f"no: {m.reason}"),
            ]
        )
        md_models.append(
            [
                m.id,
                m.name,
                m.task,
                m.quantization,
                m.model_bytes,
                m.arena_bytes,
                m.arena_bytes_32bit_estimate,
                m.macs,
                m.parameters,
                len(data.operators.get(m.iri, [])),
                "yes" if m.runnable else f"no: {m.reason}",
            ]
        )
    h.append("<h3>Models</h3>")
    h.append(_table(model_headers, model_rows))
    md.append("### Models\n")
    md.append(_md_table(model_headers, md_models) + "\n")

    # --- compatibility
    h.append("<h2 id='compatibility'>Compatibility matrix</h2>")
    h.append(
        "<p class='note'>Each cell is the matchmaker's verdict on the pair; a failing pair "
        "names every constraint it fails (RT runtime, R RAM, F flash, S sensors, O operators). "
        "The table below gives each pair's verdict and the failing constraint's figures.</p>"
    )
    md.append("## Compatibility matrix\n")
    md.append(
        "Each cell is the matchmaker's verdict; a failing pair names every constraint it fails "
        "(RT runtime, R RAM, F flash, S sensors, O operators). Every pair with its figures: "
        "`data/pairs.csv`.\n"
    )
    both_plot("compatibility")
    pair_headers = [
        "model",
        "device",
        "verdict",
        "RAM need (B)",
        "RAM free (B)",
        "flash need (B)",
        "flash free (B)",
        "est. latency (ms)",
        "why not",
    ]
    pair_rows = []
    md_fit: list[list[Any]] = []
    for match in data.matches:
        key = f"pair|{_model_id(data, match.model)}|{match.device}|"
        ram = _constraint(match, "ram") or {}
        flash = _constraint(match, "flash") or {}
        verdict = figs.cell(key + "verdict", _verdict_text(match), numeric=False)
        verdict = verdict.replace("<td", f"<td class='{'fits' if match.fits else 'fails'}'", 1)
        pair_rows.append(
            [
                _td(_model_id(data, match.model)),
                _td(device_label(match.device)),
                verdict,
                figs.cell(key + "ram_required", ram.get("required")),
                figs.cell(key + "ram_available", ram.get("available")),
                figs.cell(key + "flash_required", flash.get("required")),
                figs.cell(key + "flash_available", flash.get("available")),
                figs.cell(key + "estimated_latency_ms", match.verdict.estimated_latency_ms),
                _td("; ".join(c.detail for c in match.verdict.constraints if not c.passed)),
            ]
        )
    for m in data.models:
        boards = [device_label(x.device) for x in data.matches if x.model == m.iri and x.fits]
        md_fit.append([m.id, len(boards), ", ".join(boards)])
    h.append(
        "<details><summary>Every pair: verdict, memory figures, estimated latency, why not "
        f"({len(data.matches)} pairs)</summary>"
    )
    h.append(_table(pair_headers, pair_rows))
    h.append("</details>")
    md.append(_md_table(["model", "fitting boards", "boards"], md_fit) + "\n")

    # --- memory
    h.append("<h2 id='memory'>Memory against capacity</h2>")
    note = (
        "RAM need is the measured tensor arena plus the runtime's own RAM; flash need is the "
        "model plus the runtime code of its operators for the board's core; free memory is "
        "capacity minus what the application reserves (figures of the matchmaker)."
    )
    h.append(f"<p class='note'>{html.escape(note)}</p>")
    md.append("## Memory against capacity\n")
    md.append(note + "\n")
    both_plot("ram_use")
    both_plot("flash_use")

    # --- per model
    h.append("<h2 id='models'>Per model: operators, MACs, parameters, quantization</h2>")
    md.append("## Per model: operators, MACs, parameters, quantization\n")
    both_plot("models")
    op_rows = []
    md_ops = []
    for m in data.models:
        ops = data.operators.get(m.iri, [])
        text = ", ".join(
            f"{o['operator']} v{o['version']}" + (f" ×{o['uses']}" if o["uses"] else "")
            for o in ops
        )
        op_rows.append([_td(m.id), _td(m.quantization), _td(text)])
        md_ops.append([m.id, m.quantization, text])
    h.append(_table(["model", "quantization", "operators (version × uses)"], op_rows))
    md.append(_md_table(["model", "quantization", "operators (version × uses)"], md_ops) + "\n")

    # --- latency
    h.append("<h2 id='latency'>Latency: measured on the host, estimated per board</h2>")
    md.append("## Latency: measured on the host, estimated per board\n")
    if data.benchmarks:
        first = data.benchmarks[0]
        note = (
            f"Host figures: the real TFLite Micro runtime ({first.runtime_name} "
            f"{first.runtime_version}) on {first.host_machine}, minimal arena, median of the "
            "timed inferences with random inputs (tinyreg bench). A host is much faster than "
            "a microcontroller: the per-board figures are the estimates below."
        )
        h.append(f"<p class='note'>{html.escape(note)}</p>")
        md.append(note + "\n")
        both_plot("host_latency")
        bench_headers = [
            "model",
            "arena (B)",
            "load (ms)",
            "invoke median (ms)",
            "fastest (ms)",
            "slowest (ms)",
            "runs",
            "measured at",
        ]
        bench_rows = []
        md_bench = []
        for b in data.benchmarks:
            ident = _model_id(data, b.model)
            key = f"bench|{ident}|"
            bench_rows.append(
                [
                    _td(ident),
                    figs.cell(key + "arena_bytes", b.arena_bytes),
                    figs.cell(key + "load_ms", b.load_ms),
                    figs.cell(key + "invoke_median_ms", b.invoke_median_ms),
                    figs.cell(key + "invoke_min_ms", b.invoke_min_ms),
                    figs.cell(key + "invoke_max_ms", b.invoke_max_ms),
                    figs.cell(key + "runs", b.runs),
                    _td(b.measured_at.isoformat(timespec="seconds")),
                ]
            )
            md_bench.append(
                [
                    ident,
                    b.arena_bytes,
                    b.load_ms,
                    b.invoke_median_ms,
                    b.invoke_min_ms,
                    b.invoke_max_ms,
                    b.runs,
                    b.measured_at.isoformat(timespec="seconds"),
                ]
            )
        h.append(_table(bench_headers, bench_rows))
        md.append(_md_table(bench_headers, md_bench) + "\n")
    else:
        text = "No host benchmark recorded yet: run `tinyreg bench MODEL` (or `--all`)."
        h.append(f"<p class='note'>{html.escape(text)}</p>")
        md.append(text + "\n")
    both_plot("estimated_latency")

    # --- deployments
    h.append("<h2 id='deployments'>Deployments</h2>")
    md.append("## Deployments\n")
    if not data.deployments:
        text = "No deployment recorded."
        h.append(f"<p class='note'>{text}</p>")
        md.append(text + "\n")
    else:
        both_plot("deployments")
        stat_headers = [
            "model",
            "device",
            "deployments",
            "committed",
            "deploy median (ms)",
            "load median (ms)",
            "inference median (ms)",
        ]
        stat_rows = []
        md_stats = []
        for row in _deployment_stats(data.deployments):
            key = f"deployments|{row['model']}|{row['device']}|"
            stat_rows.append(
                [
                    _td(row["model"]),
                    _td(device_label(row["device"])),
                    figs.cell(key + "count", row["deployments"]),
                    figs.cell(key + "committed", row["committed"]),
                    figs.cell(key + "deploy_ms_median", row["deploy_ms_median"]),
                    figs.cell(key + "load_ms_median", row["load_ms_median"]),
                    figs.cell(key + "inference_ms_median", row["inference_ms_median"]),
                ]
            )
            md_stats.append(
                [
                    row["model"],
                    device_label(row["device"]),
                    row["deployments"],
                    row["committed"],
                    row["deploy_ms_median"],
                    row["load_ms_median"],
                    row["inference_ms_median"],
                ]
            )
        h.append(_table(stat_headers, stat_rows))
        md.append(_md_table(stat_headers, md_stats) + "\n")
        record_headers = [
            "started",
            "model",
            "version",
            "device",
            "outcome",
            "deploy (ms)",
            "load (ms)",
            "inference (ms)",
            "arena used (B)",
            "reason",
        ]
        record_rows = []
        for r in data.deployments:
            key = f"deployment|{r.id}|"
            record_rows.append(
                [
                    _td(r.started.isoformat(timespec="seconds")),
                    _td(r.model),
                    _td(r.model_version),
                    _td(device_label(r.device)),
                    figs.cell(key + "outcome", r.outcome, numeric=False),
                    figs.cell(key + "deploy_ms", r.deploy_ms),
                    figs.cell(key + "load_ms", r.load_ms),
                    figs.cell(key + "inference_ms", r.inference_ms),
                    figs.cell(key + "arena_used_bytes", r.arena_used_bytes),
                    _td(r.reason or ""),
                ]
            )
        h.append(
            f"<details><summary>Every deployment ({len(data.deployments)})</summary>"
            + _table(record_headers, record_rows)
            + "</details>"
        )
        md.append("Every deployment: `data/deployments.csv`.\n")
    return h, md


def _html_page(data: ReportData, sections: list[str]) -> str:
    when = data.generated_at.isoformat(timespec="seconds")
    toc = (
        "<nav><a href='#inventory'>Inventory</a> · <a href='#compatibility'>Compatibility</a> · "
        "<a href='#memory'>Memory</a> · <a href='#models'>Models</a> · "
        "<a href='#latency'>Latency</a> · <a href='#deployments'>Deployments</a></nav>"
    )
    body = "\n".join(sections)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>tinyreg report</title><style>{_CSS}</style></head><body>"
        f"<h1>tinyreg report</h1><p class='note'>Generated {html.escape(when)} from the "
        "registry's knowledge graph. Raw figures: report.json and data/*.csv beside this "
        f"file.</p>{toc}\n{body}\n</body></html>\n"
    )


def _markdown_page(data: ReportData, sections: list[str]) -> str:
    when = data.generated_at.isoformat(timespec="seconds")
    head = (
        f"# tinyreg report\n\nGenerated {when} from the registry's knowledge graph. Raw "
        "figures: `report.json` and `data/*.csv`; plots in `plots/`.\n"
    )
    return head + "\n" + "\n".join(sections)
