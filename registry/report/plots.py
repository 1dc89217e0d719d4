"""The report's plots, drawn with matplotlib's object API.

Plots use :class:`matplotlib.figure.Figure` with Agg rendering, never ``pyplot``, so no
global state or GUI backend is touched. Heatmaps grow by 0.6 in per board and 0.3 in per
model at 100 dpi, so that names stay legible at 100 % zoom. :func:`draw_plots` draws every
plot the registry has figures for, as PNG files.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from tinyreg.registry.deployments import DeploymentRecord
from tinyreg.registry.report.data import (
    ReportData,
    category,
    constraint_figures,
    device_label,
    model_id,
)
from tinyreg.registry.report.loop import plot_loop

__all__ = ["BOX_MIN", "PLOT_STEPS", "PlotSpec", "deployment_rows", "draw_plots"]

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
_WIDTH = 11.0
"""Width (in, at 100 dpi) of the plots whose size does not grow with the fleet: 1,100 px
fit a laptop's window beside the page margins; heatmaps grow per board and scroll."""
BOX_MIN = 5
"""Deployments of one model on one board before its box (quartiles) is drawn."""


def _short_ms(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


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
            kind = category(match)
            grid[i, j] = categories.index(kind)
            label = "✓" if match.fits else " ".join(_ABBREV[f] for f in match.verdict.failed)
            colour = "black" if kind in ("flash", "operators", "latency") else "white"
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
            c = constraint_figures(match, name) if match else None
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
    return (_WIDTH, max(3.0, 1.5 + 0.28 * rows))


def _plot_models(data: ReportData) -> bytes:
    """Arena and model size, MACs and parameters per model (log scales)."""
    models = data.models
    names = [m.id for m in models]
    y = np.arange(len(models))
    fig = Figure(figsize=(_WIDTH, max(3.0, 2.0 + 0.28 * len(models))), layout="constrained")
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
    names = [model_id(data, b.model) for b in benches]
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


_DEPLOYMENT_PANELS = (
    ("deploy_ms", "deployment (transfer → verified), ms"),
    ("load_ms", "loading on the device, ms"),
    ("inference_ms", "inference (self-test median), ms"),
)


def deployment_rows(
    records: Sequence[DeploymentRecord],
) -> list[tuple[str, dict[str, list[float]]]]:
    """The rows of the deployments plot: one per model and board, in that order.

    Each row is its label (``model on board (n=deployments)``) and, per latency
    (``deploy_ms``, ``load_ms``, ``inference_ms``), the figures of its deployments that
    recorded one.
    """
    pairs = sorted({(r.model, r.device) for r in records})
    rows = []
    for model, device in pairs:
        mine = [r for r in records if (r.model, r.device) == (model, device)]
        values = {
            name: [float(v) for r in mine if (v := getattr(r, name)) is not None]
            for name, _ in _DEPLOYMENT_PANELS
        }
        rows.append((f"{model} on {device_label(device)} (n={len(mine)})", values))
    return rows


def _plot_deployments(data: ReportData) -> bytes:
    """One row per model and board: every deployment a dot, a box once there are enough."""
    records = data.deployments
    rows = deployment_rows(records)
    fig = Figure(figsize=(_WIDTH, max(3.5, 2.0 + 0.32 * len(rows))), layout="constrained")
    axes = fig.subplots(1, len(_DEPLOYMENT_PANELS), sharey=True)
    rng = np.random.default_rng(0)
    for ax, (name, label) in zip(axes, _DEPLOYMENT_PANELS, strict=True):
        for k, (_, series) in enumerate(rows, start=1):
            values = series[name]
            if len(values) >= BOX_MIN:
                ax.boxplot([values], positions=[k], orientation="horizontal", widths=0.6)
            if values:
                jitter = rng.uniform(-0.15, 0.15, len(values))
                ax.scatter(values, k + jitter, s=12, color="#2166ac", alpha=0.7, zorder=3)
        ax.set_xlabel(label, fontsize=_FONT)
        ax.tick_params(axis="x", labelsize=_FONT)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(1, len(rows) + 1))
    axes[0].set_yticklabels([label for label, _ in rows], fontsize=_FONT)
    axes[0].set_ylim(len(rows) + 0.5, 0.5)
    axes[0].set_ylabel("model on board (deployments)")
    fig.suptitle(
        f"Recorded deployments per model and board ({len(records)} deployments; dots: each "
        f"deployment, box: quartiles and median once a pair has {BOX_MIN} or more)",
        fontsize=_FONT + 1,
    )
    return _png(fig)


def _pairs(data: ReportData) -> bool:
    """Whether there are pairs to plot (an empty registry gets tables and notes only)."""
    return bool(data.models and data.devices)


@dataclass(frozen=True)
class PlotSpec:
    """One plot: its file name, how it is drawn and whether the figures allow it.

    Attributes:
        name: The file stem in ``plots/`` (and the id of its image in the HTML).
        draw: Draws the plot as PNG bytes.
        shown: Whether the report's figures give the plot something to show.

    """

    name: str
    draw: Callable[[ReportData], bytes]
    shown: Callable[[ReportData], bool]


PLOT_STEPS: tuple[tuple[str, tuple[PlotSpec, ...]], ...] = (
    ("compatibility matrix", (PlotSpec("compatibility", _plot_matrix, _pairs),)),
    (
        "memory against capacity",
        (
            PlotSpec("ram_use", lambda data: _plot_memory_use(data, "ram", "RAM"), _pairs),
            PlotSpec("flash_use", lambda data: _plot_memory_use(data, "flash", "flash"), _pairs),
        ),
    ),
    ("models", (PlotSpec("models", _plot_models, lambda data: bool(data.models)),)),
    (
        "latency",
        (
            PlotSpec("host_latency", _plot_host_latency, lambda data: bool(data.benchmarks)),
            PlotSpec("estimated_latency", _plot_estimated_latency, _pairs),
        ),
    ),
    (
        "deployments",
        (PlotSpec("deployments", _plot_deployments, lambda data: bool(data.deployments)),),
    ),
    (
        "loop",
        (
            PlotSpec(
                "loop_scores",
                lambda data: plot_loop(data.loop) if data.loop else b"",
                lambda data: data.loop is not None and any(s.ts for s in data.loop.devices),
            ),
        ),
    ),
)
"""The plots, grouped by the progress step that draws them."""


def draw_plots(data: ReportData, folder: Path, step: Callable[[str], None]) -> dict[str, Path]:
    """Draw every plot the figures allow into ``folder/NAME.png``.

    Args:
        data: The report's figures.
        folder: Where the PNG files go.
        step: Called with the name of each step of :data:`PLOT_STEPS` once it is done.

    Returns:
        The files written, by plot name, in drawing order.

    """
    written: dict[str, Path] = {}
    for name, specs in PLOT_STEPS:
        for spec in specs:
            if spec.shown(data):
                path = folder / f"{spec.name}.png"
                path.write_bytes(spec.draw(data))
                written[spec.name] = path
        step(name)
    return written
