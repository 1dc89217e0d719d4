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

The package's modules, in the order a report is made: ``data`` (the figures read from the
registry), ``plots`` (matplotlib), ``blocks`` (a section described as data: notes, tables,
figure cells, plots), ``sections`` (one function per section), ``render`` (the HTML and
Markdown writers of any section description) and ``raw`` (``report.json``, ``data/*.csv``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyreg.registry.catalogue import Catalogue as Registry
from tinyreg.registry.report.blocks import figures
from tinyreg.registry.report.data import ReportData, collect, device_label
from tinyreg.registry.report.plots import draw_plots
from tinyreg.registry.report.raw import report_json, write_data
from tinyreg.registry.report.render import html_page, markdown_page
from tinyreg.registry.report.sections import sections

__all__ = [
    "REPORT_STEPS",
    "ReportData",
    "ReportFiles",
    "collect",
    "device_label",
    "write_report",
]

REPORT_STEPS = 11
"""How many times :func:`write_report` calls its ``progress`` callback."""


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


def _no_progress(name: str) -> None:
    """Progress that nobody follows."""


def write_report(
    registry: Registry,
    out: Path,
    *,
    progress: Callable[[str], None] | None = None,
    data: ReportData | None = None,
    loop_folder: Path | None = None,
) -> ReportFiles:
    """Write the HTML, Markdown, JSON and CSV report of a registry into a folder.

    Args:
        registry: The registry to report on.
        out: The folder (created if missing; files of an earlier report are replaced).
        progress: Called with the name of each step once it is done
            (:data:`REPORT_STEPS` calls).
        data: Figures already read with :func:`collect` (read now when ``None``).
        loop_folder: Where the loop keeps telemetry and rollouts (its section's figures).

    Returns:
        The files written and every figure shown, by key.

    """
    step = progress or _no_progress
    if data is None:
        data = collect(registry, loop_folder)
    step("read the graph")
    for folder in (out, out / "plots", out / "data"):
        folder.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(out, out / "report.html", out / "report.md", out / "report.json")
    plots = draw_plots(data, out / "plots", step)
    files.plots = list(plots.values())
    described = sections(data)
    files.figures = figures(described)
    step("tables")
    pngs = {name: path.read_bytes() for name, path in plots.items()}
    files.html.write_text(html_page(data.generated_at, described, pngs), encoding="utf-8")
    step("HTML")
    files.markdown.write_text(markdown_page(data.generated_at, described, plots), encoding="utf-8")
    step("Markdown")
    files.csv = write_data(data, out / "data")
    files.json.write_text(report_json(data, files.figures), encoding="utf-8")
    step("CSV and JSON")
    return files
