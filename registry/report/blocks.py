"""A report section as data: its title, notes, tables and plots, written once.

The sections (:mod:`tinyreg.registry.report.sections`) describe what they show with these
blocks, and the writers (:mod:`tinyreg.registry.report.render`) turn any description into
HTML or Markdown. A figure cell keeps its key and exact value, so the HTML can carry both
(``data-fig``, ``data-value``) and ``report.json`` lists the same pairs.

>>> table = Table(["model", "arena (B)"], [[Text("hello"), Figure("model|hello|arena", 1936)]])
>>> [cell.key for cell in table.figures()]
['model|hello|arena']
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Block",
    "Cell",
    "Collapsed",
    "Figure",
    "Note",
    "Plot",
    "Section",
    "Subheading",
    "Table",
    "Text",
    "figures",
]


@dataclass(frozen=True)
class Text:
    """A table cell of plain text (``None`` shows as nothing in HTML, ``–`` in Markdown)."""

    value: Any


@dataclass(frozen=True)
class Figure:
    """A table cell showing one figure of the report, with its key and exact value.

    Attributes:
        key: The figure's key, e.g. ``model|hello-world|arena_bytes``.
        value: The exact value (a number, text or ``None``).
        numeric: Whether it is a number (right-aligned).
        css: A class for the cell instead (``fits``, ``fails``), if any.

    """

    key: str
    value: Any
    numeric: bool = True
    css: str | None = None


Cell = Text | Figure


@dataclass(frozen=True)
class Table:
    """A table: column headers and rows of cells.

    Attributes:
        headers: The column headers.
        rows: The rows, one cell per column.
        only: ``markdown`` for a table only the Markdown page shows (a digest of what the
            HTML shows in full), else ``None``.

    """

    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    only: Literal["markdown"] | None = None

    def figures(self) -> Iterator[Figure]:
        """The figure cells, row by row."""
        for row in self.rows:
            yield from (cell for cell in row if isinstance(cell, Figure))


@dataclass(frozen=True)
class Subheading:
    """A heading inside a section."""

    text: str


@dataclass(frozen=True)
class Note:
    """A paragraph of explanation."""

    text: str


@dataclass(frozen=True)
class Plot:
    """A plot drawn into ``plots/NAME.png``; shown only when it was drawn.

    Attributes:
        name: The plot's name (see :data:`tinyreg.registry.report.plots.PLOT_STEPS`).
        caption: What it shows, in a few words.

    """

    name: str
    caption: str


@dataclass(frozen=True)
class Collapsed:
    """A long table: folded away in the HTML, a pointer to its CSV file in Markdown.

    Attributes:
        summary: What the table holds (the fold's label).
        table: The table.
        data_file: The CSV file with the same rows, relative to the report.

    """

    summary: str
    table: Table
    data_file: str


Block = Subheading | Note | Table | Plot | Collapsed


@dataclass(frozen=True)
class Section:
    """One section of the report.

    Attributes:
        anchor: The section's id in the HTML page.
        title: Its heading.
        short: Its name in the page's table of contents.
        blocks: What it shows, in order.

    """

    anchor: str
    title: str
    short: str
    blocks: list[Block] = field(default_factory=list)


def figures(sections: Sequence[Section]) -> dict[str, Any]:
    """Every figure the sections show, by key, in the order they are shown."""
    found: dict[str, Any] = {}
    for section in sections:
        for block in section.blocks:
            table = block.table if isinstance(block, Collapsed) else block
            if isinstance(table, Table):
                found.update((cell.key, cell.value) for cell in table.figures())
    return found
