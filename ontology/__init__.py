"""tinyreg's ontology, SHACL shapes and JSON-LD contexts, shipped as package data.

Files are read with :mod:`importlib.resources`, so an installed wheel works outside the
checkout. Parsed graphs are cached: callers must not modify them (copy first). rdflib is
loaded when a graph is first parsed, not with the package (the command line's read path
reads the files' text only).

>>> from tinyreg.ontology import ontology_graph
>>> len(ontology_graph()) > 100
True
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rdflib import Graph

__all__ = [
    "CONTEXT_FILES",
    "TD_CONTEXT_URL",
    "TINYREG_CONTEXT_URL",
    "context_document",
    "ontology_graph",
    "read_text",
    "shapes_graph",
]

TD_CONTEXT_URL = "https://www.w3.org/2022/wot/td/v1.1"
"""The W3C WoT TD 1.1 context IRI; resolved offline to an equivalent subset we ship."""

TINYREG_CONTEXT_URL = "https://w3id.org/tinyreg/td/v1"
"""tinyreg's TD context extension (MCU, memories, sensors, runtime)."""

CONTEXT_FILES: dict[str, str] = {
    TD_CONTEXT_URL: "td-context-offline.jsonld",
    "https://www.w3.org/2019/wot/td/v1": "td-context-offline.jsonld",
    TINYREG_CONTEXT_URL: "tinyreg-td-context.jsonld",
}


def read_text(name: str) -> str:
    """Return the text of a file shipped in this package."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


@cache
def ontology_graph() -> Graph:
    """The tinyreg OWL ontology (``tinyreg.ttl``), parsed once."""
    from rdflib import Graph

    return Graph().parse(data=read_text("tinyreg.ttl"), format="turtle")


@cache
def shapes_graph() -> Graph:
    """The SHACL shapes (``shapes.ttl``), parsed once."""
    from rdflib import Graph

    return Graph().parse(data=read_text("shapes.ttl"), format="turtle")


@cache
def _context(name: str) -> str:
    return read_text(name)


def context_document(url: str) -> dict[str, Any] | None:
    """Return the JSON-LD context document for a known context IRI, or ``None``."""
    name = CONTEXT_FILES.get(url.rstrip("/"))
    if name is None:
        return None
    document: dict[str, Any] = json.loads(_context(name))
    return document
