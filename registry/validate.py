"""SHACL validation of model and device descriptions (pySHACL).

Every description is checked against ``ontology/shapes.ttl`` with the ontology mixed in
(so that sensor classes resolve through ``rdfs:subClassOf``) before it reaches a store.
A violation refuses the description: :func:`validate` raises
:class:`~tinyreg.core.errors.ValidationError` whose violations name the focus node,
the property path and the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from pyshacl import validate as shacl_validate
from rdflib import RDF, Graph, Literal, Namespace
from rdflib.graph import ModificationException, ReadOnlyGraphAggregate
from rdflib.term import BNode, Node

from tinyreg.core.errors import ValidationError, Violation
from tinyreg.core.namespaces import PREFIXES
from tinyreg.ontology import ontology_graph, shapes_graph

__all__ = ["check", "validate", "validate_many"]

SH = Namespace("http://www.w3.org/ns/shacl#")


def _trail(
    focus: Node | None, path: Node | None, data: Graph
) -> tuple[str | None, tuple[str, ...]]:
    """The named node above ``focus`` and the predicates from it down to the violation."""
    # a result path is an IRI, or a blank node for a complex path (then no step)
    steps: list[str] = [str(path)] if path is not None and not isinstance(path, BNode) else []
    node = focus
    seen: set[Node] = set()
    while isinstance(node, BNode) and node not in seen and len(seen) < 16:
        seen.add(node)
        parents = list(data.subject_predicates(node))
        if len(parents) != 1:
            return None, ()
        node, predicate = parents[0]
        steps.insert(0, str(predicate))
    if node is None or isinstance(node, BNode):
        return None, ()
    return str(node), tuple(steps)


def _short(term: Node | None, data: Graph) -> str | None:
    """Compact an IRI with the project's prefixes; label a blank node by its parent."""
    if term is None:
        return None
    if isinstance(term, BNode):
        parents = list(data.subject_predicates(term))
        if parents:
            subject, predicate = parents[0]
            return f"[{_short(predicate, data)} of {_short(subject, data)}]"
        return "[blank node]"
    text = str(term)
    for prefix, namespace in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if text.startswith(namespace):
            return f"{prefix}:{text[len(namespace) :]}"
    return text


_SHACL_LOCK = threading.Lock()
"""pySHACL parses SPARQL (the shapes' constraints, its own queries) with rdflib's parser,
whose pyparsing grammar is not thread-safe: two checks at once (two ``PUT /things`` served
together) failed with ``TypeError: Param.postParse2()``. One check runs at a time."""


def check(data: Graph, *, inplace: bool = False) -> list[Violation]:
    """Run the shapes over a graph and return every violation (empty when it conforms).

    Args:
        data: The graph to check; it is not modified unless ``inplace``.
        inplace: Mix the ontology into ``data`` itself instead of into a copy (for a
            graph made only to be checked, which saves copying it).

    Returns:
        The violations, sorted by focus node and path.

    """
    with _SHACL_LOCK:
        conforms, report, _ = shacl_validate(
            data,
            shacl_graph=shapes_graph(),
            ont_graph=ontology_graph(),
            inference="none",
            abort_on_first=False,
            allow_warnings=True,
            advanced=True,
            inplace=inplace,
        )
    if conforms:
        return []
    assert isinstance(report, Graph)
    violations = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        if report.value(result, SH.resultSeverity) != SH.Violation:
            continue
        message = report.value(result, SH.resultMessage)
        value = report.value(result, SH.value)
        focus, path = report.value(result, SH.focusNode), report.value(result, SH.resultPath)
        root, steps = _trail(focus, path, data)
        violations.append(
            Violation(
                focus=_short(focus, data) or "?",
                path=_short(path, data),
                message=str(message) if message is not None else "constraint violated",
                value=None if value is None or isinstance(value, BNode) else _short(value, data),
                root=root,
                steps=steps,
            )
        )
    return sorted(set(violations), key=lambda v: (v.focus, v.path or "", v.message))


def _conforms(data: Graph) -> bool:
    """Whether ``data``, which holds the ontology already, conforms to the shapes."""
    with _SHACL_LOCK:
        conforms, _, _ = shacl_validate(
            data,
            shacl_graph=shapes_graph(),
            ont_graph=None,
            inference="none",
            abort_on_first=False,
            allow_warnings=True,
            advanced=True,
            inplace=True,
        )
    return bool(conforms)


def validate(data: Graph, subject: str) -> None:
    """Refuse a description that violates the shapes.

    Args:
        data: The description of one model or device.
        subject: Its IRI, used in the error message.

    Raises:
        ValidationError: If any shape is violated.

    """
    violations = check(data)
    if violations:
        raise ValidationError(subject, violations)


def _independent(graphs: Sequence[Graph]) -> bool:
    """Whether every node two graphs mention is described identically by both.

    A shape only follows triples from its focus node (through the description and the
    ontology). When each node mentioned by several descriptions (an operator type such
    as ``op:CONV_2D``) has the same triples in each, every node a description reaches
    in the union has exactly the triples that description gives it, so checking the
    union finds exactly the violations of checking each description alone.
    """
    mentioned: dict[Node, list[int]] = {}
    for index, graph in enumerate(graphs):
        for s, _, o in graph:
            for node in (s, o):
                if isinstance(node, Literal):
                    continue
                where = mentioned.setdefault(node, [index])
                if where[-1] != index:
                    where.append(index)
    for node, where in mentioned.items():
        if len(where) > 1:
            first = set(graphs[where[0]].predicate_objects(node))
            if any(set(graphs[i].predicate_objects(node)) != first for i in where[1:]):
                return False
    return True


def validate_many(items: Sequence[tuple[str, Graph]]) -> list[ValidationError | None]:
    """Check several descriptions at once; the outcome of :func:`validate` for each.

    One pySHACL run over a read-only view of the ontology and independent descriptions
    (see :func:`_independent`; nothing is copied, where :func:`check` copies the
    description to mix the ontology in) costs far less than one run per description,
    so a bulk import checks its models together. When the union has a violation, or the
    descriptions are not independent, each is checked on its own so every refusal names
    its own violations.

    Args:
        items: ``(subject IRI, description)`` pairs; the graphs are not modified.

    Returns:
        For each item in order, ``None`` when it conforms, else the
        :class:`~tinyreg.core.errors.ValidationError` :func:`validate` would raise.

    """
    graphs = [graph for _, graph in items]
    if len(items) > 1 and _independent(graphs):
        # a read-only view of the ontology and the descriptions, nothing copied: pySHACL
        # checks a graph of several graphs as their union, and the ontology is in it
        union = ReadOnlyGraphAggregate([ontology_graph(), *graphs])
        try:
            conforms = _conforms(union)
        except ModificationException:  # pragma: no cover - pySHACL wrote to the view
            copy = Graph()
            copy.addN((s, p, o, copy) for graph in graphs for s, p, o in graph)
            conforms = not check(copy, inplace=True)
        if conforms:
            return [None] * len(items)
    outcomes: list[ValidationError | None] = []
    for subject, graph in items:
        violations = check(graph)
        outcomes.append(ValidationError(subject, violations) if violations else None)
    return outcomes
