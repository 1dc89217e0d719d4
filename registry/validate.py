"""SHACL validation of model and device descriptions (pySHACL).

Every description is checked against ``ontology/shapes.ttl`` with the ontology mixed in
(so that sensor classes resolve through ``rdfs:subClassOf``) before it reaches a store.
A violation refuses the description: :func:`validate` raises
:class:`~tinyreg.core.errors.ValidationError` whose violations name the focus node,
the property path and the reason.
"""

from __future__ import annotations

from pyshacl import validate as shacl_validate
from rdflib import RDF, Graph, Namespace
from rdflib.term import BNode, Node

from tinyreg.core.errors import ValidationError, Violation
from tinyreg.core.namespaces import PREFIXES
from tinyreg.ontology import ontology_graph, shapes_graph

__all__ = ["check", "validate"]

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


def check(data: Graph) -> list[Violation]:
    """Run the shapes over a graph and return every violation (empty when it conforms).

    Args:
        data: The graph to check; it is not modified.

    Returns:
        The violations, sorted by focus node and path.

    """
    conforms, report, _ = shacl_validate(
        data,
        shacl_graph=shapes_graph(),
        ont_graph=ontology_graph(),
        inference="none",
        abort_on_first=False,
        allow_warnings=True,
        advanced=True,
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
