"""SHACL validation of model and device descriptions (pySHACL).

Every description is checked against ``ontology/shapes.ttl`` with the ontology mixed in
(so that sensor classes resolve through ``rdfs:subClassOf``) before it reaches a store.
A violation refuses the description: :func:`validate` raises
:class:`~tinyreg.core.errors.ValidationError` whose violations name the focus node,
the property path and the reason.
"""

from __future__ import annotations

import threading

from pyshacl import validate as shacl_validate
from rdflib import RDF, Graph, Namespace
from rdflib.term import BNode, Node

from tinyreg.core.errors import ValidationError, Violation
from tinyreg.core.namespaces import PREFIXES
from tinyreg.ontology import ontology_graph, shapes_graph

__all__ = ["check", "validate"]

SH = Namespace("http://www.w3.org/ns/shacl#")
_SHACL = threading.Lock()
"""pySHACL parses SPARQL-based constraints with rdflib's pyparsing grammar, which is not
thread-safe: two validations at once in one process (concurrent writes to the REST app)
failed with ``TypeError: Param.postParse2()``. One validation runs at a time."""


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
    with _SHACL:
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
        violations.append(
            Violation(
                focus=_short(report.value(result, SH.focusNode), data) or "?",
                path=_short(report.value(result, SH.resultPath), data),
                message=str(message) if message is not None else "constraint violated",
                value=None if value is None or isinstance(value, BNode) else _short(value, data),
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
