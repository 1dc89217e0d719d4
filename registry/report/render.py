"""The two writers: any section description as HTML or as Markdown.

The HTML page is self-contained (CSS inline, plots as base64 PNG ``data:`` URIs, no
script); every figure cell carries its key and exact value (``data-fig``, ``data-value``).
The Markdown page links the plots in ``plots/`` and shows the same figures as text.

>>> from tinyreg.registry.report.blocks import Figure, Table, Text
>>> print(markdown_block(Table(["model", "arena (B)"], [[Text("hello"), Figure("k", 1936)]]), {}))
| model | arena (B) |
|---|---|
| hello | 1,936 |
<BLANKLINE>
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tinyreg.registry.report.blocks import (
    Block,
    Cell,
    Collapsed,
    Figure,
    Note,
    Plot,
    Section,
    Subheading,
    Table,
)

__all__ = ["html_block", "html_page", "markdown_block", "markdown_page", "shown"]


def shown(value: Any) -> str:
    """A figure as shown: integers with thousands separators, milliseconds to 3-4 decimals.

    >>> shown(1936), shown(0.12345), shown(1234.5), shown(None)
    ('1,936', '0.1235', '1,234.500', '–')
    """
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1 else f"{value:,.3f}"
    return str(value)


# --------------------------------------------------------------------------- HTML

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
figure { margin: 1rem 0; max-width: 100%; overflow-x: auto; }
figure img { max-width: none; border: 1px solid #eee; }
.wide { max-width: 100%; overflow-x: auto; }
figcaption { font-size: 0.85rem; color: #555; }
.note { color: #555; font-size: 0.9rem; }
details summary { cursor: pointer; font-weight: 600; }
"""


def _html_cell(cell: Cell) -> str:
    if not isinstance(cell, Figure):
        return f"<td>{html.escape('' if cell.value is None else str(cell.value))}</td>"
    null = ""
    if cell.value is None:
        exact, null = "", ' data-null="1"'
    elif isinstance(cell.value, str):
        exact = cell.value
    else:
        exact = json.dumps(cell.value)
    css = cell.css or ("num" if cell.numeric else "")
    klass = f' class="{css}"' if css else ""
    return (
        f'<td{klass} data-fig="{html.escape(cell.key)}" data-value="{html.escape(exact)}"{null}>'
        f"{html.escape(shown(cell.value))}</td>"
    )


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    body = "\n".join(
        "<tr>" + "".join(_html_cell(cell) for cell in row) + "</tr>" for row in table.rows
    )
    table_html = f"<table><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"
    return f'<div class="wide">{table_html}</div>'


def _html_plot(plot: Plot, png: bytes) -> str:
    encoded = base64.b64encode(png).decode("ascii")
    caption = html.escape(plot.caption)
    return (
        f'<figure><img id="plot-{plot.name}" alt="{caption}" '
        f'src="data:image/png;base64,{encoded}"><figcaption>{caption}</figcaption></figure>'
    )


def html_block(block: Block, plots: Mapping[str, bytes]) -> str | None:
    """One block as HTML; ``None`` for a block the page does not show."""
    if isinstance(block, Subheading):
        return f"<h3>{html.escape(block.text)}</h3>"
    if isinstance(block, Note):
        return f"<p class='note'>{html.escape(block.text)}</p>"
    if isinstance(block, Plot):
        return _html_plot(block, plots[block.name]) if block.name in plots else None
    if isinstance(block, Collapsed):
        summary = html.escape(block.summary)
        table = _html_table(block.table)
        return f"<details><summary>{summary}</summary>{table}</details>"
    return _html_table(block) if block.only is None else None


def html_page(
    generated_at: datetime, sections: Sequence[Section], plots: Mapping[str, bytes]
) -> str:
    """The whole report as one self-contained HTML page.

    Args:
        generated_at: When the figures were read.
        sections: The sections, described.
        plots: The PNG bytes of every plot drawn, by name.

    """
    parts: list[str] = []
    for section in sections:
        parts.append(f"<h2 id='{section.anchor}'>{html.escape(section.title)}</h2>")
        parts += [text for b in section.blocks if (text := html_block(b, plots)) is not None]
    toc = " · ".join(f"<a href='#{s.anchor}'>{html.escape(s.short)}</a>" for s in sections)
    when = html.escape(generated_at.isoformat(timespec="seconds"))
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>tinyreg report</title><style>{_CSS}</style></head><body>"
        f"<h1>tinyreg report</h1><p class='note'>Generated {when} from the "
        "registry's knowledge graph. Raw figures: report.json and data/*.csv beside this "
        f"file.</p><nav>{toc}</nav>\n{body}\n</body></html>\n"
    )


# --------------------------------------------------------------------------- Markdown


def _markdown_table(table: Table) -> str:
    def cell(value: Any) -> str:
        return shown(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(table.headers) + " |", "|" + "---|" * len(table.headers)]
    lines += ["| " + " | ".join(cell(c.value) for c in row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"


def markdown_block(block: Block, plots: Mapping[str, object]) -> str | None:
    """One block as Markdown; ``None`` for a block the page does not show."""
    if isinstance(block, Subheading):
        return f"### {block.text}\n"
    if isinstance(block, Note):
        return block.text + "\n"
    if isinstance(block, Plot):
        return f"![{block.caption}](plots/{block.name}.png)\n" if block.name in plots else None
    if isinstance(block, Collapsed):
        return f"{block.summary}: `{block.data_file}`.\n"
    return _markdown_table(block)


def markdown_page(
    generated_at: datetime, sections: Sequence[Section], plots: Mapping[str, object]
) -> str:
    """The whole report as Markdown, linking the plots in ``plots/``.

    Args:
        generated_at: When the figures were read.
        sections: The sections, described.
        plots: The plots drawn, by name (a plot not drawn is not linked).

    """
    parts: list[str] = []
    for section in sections:
        parts.append(f"## {section.title}\n")
        parts += [text for b in section.blocks if (text := markdown_block(b, plots)) is not None]
    when = generated_at.isoformat(timespec="seconds")
    head = (
        f"# tinyreg report\n\nGenerated {when} from the registry's knowledge graph. Raw "
        "figures: `report.json` and `data/*.csv`; plots in `plots/`.\n"
    )
    return head + "\n" + "\n".join(parts)
