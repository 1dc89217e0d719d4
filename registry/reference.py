"""The reference graphs every registry holds: the ontology and the runtime tables.

The runtime and core tables (``kg_data/runtimes/*.ttl``) say what each runtime release
supports and costs (operators, kernel code size, RAM outside the arena, instructions per
MAC); each is stored in its own graph named ``REFERENCE_PREFIX`` + file stem.

>>> runtime_ram_overhead("no-such-runtime", "1")
0
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from rdflib import Graph, Literal

from tinyreg.core.namespaces import TR, runtime_iri
from tinyreg.ontology import read_text

__all__ = [
    "ONTOLOGY_IRI",
    "REFERENCE_FOLDER",
    "REFERENCE_PREFIX",
    "reference_texts",
    "runtime_ram_overhead",
    "runtime_tables",
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


@cache
def runtime_tables() -> Graph:
    """The runtime and core tables as one graph (parsed once)."""
    graph = Graph()
    for name, text in reference_texts().items():
        if name.startswith(REFERENCE_PREFIX):
            graph.parse(data=text, format="turtle")
    return graph


def runtime_ram_overhead(name: str, version: str) -> int:
    """RAM the runtime takes outside the tensor arena (``kg_data/runtimes``), or 0 if unknown."""
    value = runtime_tables().value(runtime_iri(name, version), TR.ramOverheadBytes)
    return int(value.toPython()) if isinstance(value, Literal) else 0
