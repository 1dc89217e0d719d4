"""The reference graphs every registry holds: the ontology and the runtime tables.

The runtime and core tables (``kg_data/runtimes/*.ttl``) say what each runtime release
supports and costs (operators, kernel code size, RAM outside the arena, instructions per
MAC); each is stored in its own graph named ``REFERENCE_PREFIX`` + file stem. Their texts
and digests come without rdflib (the command line's read path checks that a store holds
this release's tables); the parsed tables load it.

>>> runtime_ram_overhead("no-such-runtime", "1")
0
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from tinyreg.ontology import read_text

if TYPE_CHECKING:
    from rdflib import Graph

__all__ = [
    "ONTOLOGY_IRI",
    "REFERENCE_FOLDER",
    "REFERENCE_PREFIX",
    "reference_digests",
    "reference_texts",
    "runtime_ram_overhead",
    "runtime_tables",
    "text_digest",
]

ONTOLOGY_IRI = "https://w3id.org/tinyreg"
REFERENCE_PREFIX = "https://w3id.org/tinyreg/reference/"
REFERENCE_FOLDER = "runtimes"


def reference_texts() -> dict[str, str]:
    """Return the reference graphs every registry holds, by graph name.

    They are the ontology, and the runtime and core tables of ``kg_data/runtimes``
    (named ``REFERENCE_PREFIX`` + file stem).
    """
    texts = {ONTOLOGY_IRI: read_text("tinyreg.ttl")}
    folder = resources.files("tinyreg.kg_data").joinpath(REFERENCE_FOLDER)
    if folder.is_dir():
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".ttl"):
                texts[REFERENCE_PREFIX + entry.name.removesuffix(".ttl")] = entry.read_text("utf-8")
    return texts


def text_digest(text: str) -> str:
    """The digest a stored reference graph carries of the file it was read from (SHA-256)."""
    return hashlib.sha256(text.encode()).hexdigest()


def reference_digests() -> dict[str, str]:
    """The digest of each reference graph of this release, by graph name.

    A store whose reference graphs carry other digests (``tr:sha256`` of the graph) was
    last opened by another release; opening the catalogue brings them up to date.
    """
    return {name: text_digest(text) for name, text in reference_texts().items()}


@cache
def runtime_tables() -> Graph:
    """The runtime and core tables as one graph (parsed once)."""
    from rdflib import Graph

    graph = Graph()
    for name, text in reference_texts().items():
        if name.startswith(REFERENCE_PREFIX):
            graph.parse(data=text, format="turtle")
    return graph


def runtime_ram_overhead(name: str, version: str) -> int:
    """RAM the runtime takes outside the tensor arena (``kg_data/runtimes``), or 0 if unknown."""
    from rdflib import Literal

    from tinyreg.core.namespaces import TR, runtime_iri

    value = runtime_tables().value(runtime_iri(name, version), TR.ramOverheadBytes)
    return int(value.toPython()) if isinstance(value, Literal) else 0
