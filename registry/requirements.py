"""What a model needs from a runtime release, derived once when it is registered.

The matchmaker compares a model with thousands of device profiles, or a device with
thousands of models, in one SPARQL query. Sums and set tests over a model's operators
would make that query aggregate per pair; they depend only on the model and the runtime
release tables (``kg_data/runtimes``), so they are computed here, at registration, and
stored in the model's graph:

* ``tr:operatorsOfferedBy <release>``: every builtin operator of the model (type and
  version) is offered by the release;
* one ``tr:kernelCodeTable`` literal per release: the release IRI, then per core family
  ``;<family>=<kernel bytes>/<operators with a size>/<operators>``, e.g.
  ``https://w3id.org/tinyreg/runtime/tflite-micro/X ;cortex-m4=9697/4/4;...;``. A
  literal read with ``STRAFTER`` is one index lookup per model; the equivalent nodes,
  joined on family and release, made Oxigraph scan every model's nodes (measured: 0.9 s
  against 0.07 s for ``models_for`` over 1,000 models);
* ``tr:customOperator`` for each custom operator, which only a device that declares it
  can run.

When the reference tables change, :meth:`tinyreg.registry.Registry.refresh_requirements`
derives them again for every model.

>>> ops = [OperatorUse("FULLY_CONNECTED", 1, False)]
>>> sizes = {("cortex-m4", "FULLY_CONNECTED"): 900}
>>> table = ReleaseTable("urn:r", {"FULLY_CONNECTED": None}, sizes)
>>> sorted(str(o) for o in requirements_graph("urn:m", ops, [table]).objects())
['urn:r', 'urn:r ;cortex-m4=900/1/1;']
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from tinyreg.core.namespaces import OP, TR

__all__ = [
    "OperatorUse",
    "ReleaseTable",
    "release_tables",
    "requirements_graph",
    "requirements_triples",
]

TABLES_QUERY = """
PREFIX tr: <https://w3id.org/tinyreg#>
SELECT ?release ?kind ?operator ?family ?bytes ?maxVersion WHERE {
  ?release a tr:Runtime .
  FILTER NOT EXISTS { ?release tr:runtimeRelease ?base }
  {
    ?release tr:supportsOperator ?offer . ?offer tr:operatorType ?operator .
    OPTIONAL { ?offer tr:maxVersion ?maxVersion }
    BIND("offer" AS ?kind)
  } UNION {
    ?release tr:hasCodeSize ?size .
    ?size tr:operatorType ?operator ; tr:coreFamily ?family ; tr:codeBytes ?bytes .
    BIND("size" AS ?kind)
  }
}
"""
"""Runtime releases (not firmware builds), their offers and kernel sizes."""


@dataclass
class ReleaseTable:
    """What a runtime release offers: operators (with a version cap, if any) and sizes.

    Attributes:
        iri: The release IRI.
        offers: Operator name → highest version offered (``None``: any version).
        kernel_bytes: ``(core family, operator name)`` → code bytes.

    """

    iri: str
    offers: dict[str, int | None] = field(default_factory=dict)
    kernel_bytes: dict[tuple[str, str], int] = field(default_factory=dict)

    @functools.cached_property
    def families(self) -> list[str]:
        """The core families with code sizes, sorted (read once: fill the table first)."""
        return sorted({family for family, _ in self.kernel_bytes})


@dataclass(frozen=True)
class OperatorUse:
    """One operator code of a model.

    Attributes:
        name: Builtin operator name, or the custom code.
        version: Operator version.
        custom: Whether it is a custom operator.

    """

    name: str
    version: int
    custom: bool


def release_tables(rows: Iterable[Mapping[str, object]]) -> list[ReleaseTable]:
    """Build the release tables from the rows of :data:`TABLES_QUERY`."""
    tables: dict[str, ReleaseTable] = {}
    for row in rows:
        release = str(row["release"])
        table = tables.setdefault(release, ReleaseTable(release))
        operator = str(row["operator"]).removeprefix(str(OP))
        if str(row["kind"]) == "offer":
            cap = row.get("maxVersion")
            table.offers[operator] = int(str(cap)) if cap is not None else None
        else:
            table.kernel_bytes[(str(row["family"]), operator)] = int(str(row["bytes"]))
    return [tables[k] for k in sorted(tables)]


def requirements_graph(
    model: str, operators: Iterable[OperatorUse], tables: Iterable[ReleaseTable]
) -> Graph:
    """The derived triples of a model (see the module docstring), as a graph.

    Args:
        model: The model IRI.
        operators: The model's operator codes.
        tables: The runtime release tables in the store.

    Returns:
        A graph to add to the model's graph.

    """
    graph = Graph()
    for triple in requirements_triples(model, operators, tables):
        graph.add(triple)
    return graph


def requirements_triples(
    model: str, operators: Iterable[OperatorUse], tables: Iterable[ReleaseTable]
) -> list[tuple[URIRef, URIRef, Node]]:
    """The derived triples of a model (see the module docstring), without a graph.

    An import derives them for every model it registers; an rdflib graph for three
    triples cost more than deriving them.

    Args:
        model: The model IRI.
        operators: The model's operator codes.
        tables: The runtime release tables in the store.

    Returns:
        The triples, custom operators first, then per release its offer and its table.

    """
    ops = list(operators)
    builtin = [op for op in ops if not op.custom]
    names = sorted({op.name for op in ops})
    subject = URIRef(model)
    triples: list[tuple[URIRef, URIRef, Node]] = [
        (subject, TR.customOperator, OP[op.name]) for op in ops if op.custom
    ]
    for table in tables:
        offered = all(
            op.name in table.offers
            and (table.offers[op.name] is None or op.version <= (table.offers[op.name] or 0))
            for op in builtin
        )
        if offered:
            triples.append((subject, TR.operatorsOfferedBy, URIRef(table.iri)))
        entries = []
        for family in table.families:
            sizes = [table.kernel_bytes.get((family, name)) for name in names]
            known = [size for size in sizes if size is not None]
            entries.append(f"{family}={sum(known)}/{len(known)}/{len(names)};")
        triples.append((subject, TR.kernelCodeTable, Literal(f"{table.iri} ;{''.join(entries)}")))
    return triples
