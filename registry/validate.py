"""SHACL validation of model and device descriptions (pySHACL).

Every description is checked against ``ontology/shapes.ttl`` with the ontology mixed in
(so that sensor classes resolve through ``rdfs:subClassOf``) before it reaches a store.
A violation refuses the description: :func:`validate` raises
:class:`~tinyreg.core.errors.ValidationError` whose violations name the focus node,
the property path and the reason.

Lean checks: a shape reads only the triples along its paths from its focus nodes, and a
model's description is mostly tensors and operators no shape reaches (a model's shapes
reach its inputs and outputs, not the tensors in between). :func:`lean_triples` keeps the
triples of every node the shapes can reach, worked out from the shapes themselves
(:func:`_reach_plan`), and :func:`validate_descriptions` checks that lean part: the same
violations for a fraction of pySHACL's time (``tests/test_lean_shacl.py`` compares both on
every seed and ``kg_data`` model and on broken descriptions that break every constraint).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pyshacl import validate as shacl_validate
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.graph import ModificationException, ReadOnlyGraphAggregate
from rdflib.term import BNode, Node

from tinyreg.core.errors import ValidationError, Violation
from tinyreg.core.namespaces import PREFIXES
from tinyreg.ontology import ontology_graph, shapes_graph
from tinyreg.registry.conformance import surely_conforms

__all__ = [
    "LeanCheck",
    "check",
    "decide",
    "lean_check",
    "lean_triples",
    "validate",
    "validate_descriptions",
    "validate_many",
]

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


# --------------------------------------------------------------------------- lean checks

Triple = tuple[str, str, str]
"""A triple as N-Triples terms (``<iri>``, ``"lexical"^^<datatype>``)."""

_ALL = "*"  # a shape that may read any triple of its focus node and beyond


@dataclass(frozen=True)
class _Plan:
    """What the shapes can read: focus classes, and the paths each shape follows."""

    focus_types: frozenset[str]  # rdf:type values (N-Triples) that make a focus node
    paths: dict[Node, dict[str, frozenset[Node]]]  # shape → predicate → value shapes
    everything: frozenset[Node]  # shapes that may read any triple reachable from a focus
    roots: dict[str, frozenset[Node]]  # focus type → shapes targeting it


_LISTS = (SH["or"], SH["and"], SH.xone)
_VALUE_SHAPES = (SH.node, SH["not"], SH.qualifiedValueShape)
_UNSUPPORTED_TARGETS = (SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)


def _members(shapes: Graph, node: Node) -> list[Node]:
    """The shapes a shape applies to its focus node as well (sh:and, sh:or, sh:xone)."""
    found: list[Node] = []
    for predicate in _LISTS:
        for head in shapes.objects(node, predicate):
            found.extend(shapes.items(head))
    return found


@functools.cache
def _reach_plan() -> _Plan | None:
    """Work out from the shapes which triples a check can read; ``None``: any.

    A shape reached with a focus node reads the focus node's triples along its
    property paths (an IRI path: the triples with that predicate; any other path, a
    SPARQL constraint or a value-type test such as ``sh:class``: anything reachable)
    and hands the values to its value shapes (``sh:node``, ``sh:not``, the members of
    ``sh:or``/``sh:and``/``sh:xone`` of a property shape). Targets other than
    ``sh:targetClass`` make the plan ``None``: the whole description is checked.
    """
    shapes = shapes_graph()
    ontology = ontology_graph()
    if any(True for p in _UNSUPPORTED_TARGETS for _ in shapes.subject_objects(p)):
        return None
    paths: dict[Node, dict[str, set[Node]]] = {}
    everything: set[Node] = set()

    def value_shapes(prop: Node) -> set[Node]:
        found = {v for p in _VALUE_SHAPES for v in shapes.objects(prop, p)}
        found.update(_members(shapes, prop))
        return found

    def collect(shape: Node, into: dict[str, set[Node]], seen: set[Node]) -> bool:
        """Add what ``shape`` reads from its focus to ``into``; False: anything."""
        if shape in seen:
            return True
        seen.add(shape)
        if (shape, SH.sparql, None) in shapes:
            return False
        path = shapes.value(shape, SH.path)
        if path is not None:  # a property shape: its values go to its value shapes
            if not isinstance(path, URIRef) or (shape, SH["class"], None) in shapes:
                return False
            into.setdefault(f"<{path}>", set()).update(value_shapes(shape))
            return True
        for prop in shapes.objects(shape, SH.property):
            if not collect(prop, into, seen):
                return False
        same_focus = [
            *_members(shapes, shape),
            *shapes.objects(shape, SH.node),
            *shapes.objects(shape, SH["not"]),
        ]
        return all(collect(member, into, seen) for member in same_focus)

    pending = list(shapes.subjects(SH.targetClass, None))
    roots: dict[str, set[Node]] = {}
    for shape in list(pending):
        for cls in shapes.objects(shape, SH.targetClass):
            # instances of subclasses (in the ontology) are focus nodes too
            for sub in ontology.transitive_subjects(RDFS.subClassOf, cls):
                roots.setdefault(f"<{sub}>", set()).add(shape)
    done: set[Node] = set()
    while pending:
        shape = pending.pop()
        if shape in done:
            continue
        done.add(shape)
        into: dict[str, set[Node]] = {}
        if not collect(shape, into, set()):
            everything.add(shape)
            continue
        paths[shape] = into
        for subs in into.values():
            pending.extend(subs)
    return _Plan(
        focus_types=frozenset(roots),
        paths={k: {p: frozenset(v) for p, v in d.items()} for k, d in paths.items()},
        everything=frozenset(everything),
        roots={k: frozenset(v) for k, v in roots.items()},
    )


_TYPE = f"<{RDF.type}>"
_SUBCLASS = f"<{RDFS.subClassOf}>"


def lean_triples(triples: Iterable[Triple]) -> list[Triple] | None:
    """The triples of a description the shapes can read (see the module docstring).

    Args:
        triples: The description, as N-Triples terms, without blank nodes.

    Returns:
        The triples of every node a shape can reach from a focus node, in their order;
        ``None`` when the shapes cannot be planned or the description declares classes
        (``rdfs:subClassOf``, which could make more focus nodes): check all of it.

    """
    plan = _reach_plan()
    if plan is None:
        return None
    by_subject: dict[str, list[Triple]] = {}
    queue: list[tuple[str, Node | None]] = []  # (node, shape); None: read everything
    for triple in triples:
        s, p, o = triple
        if p == _SUBCLASS:
            return None
        by_subject.setdefault(s, []).append(triple)
        if p == _TYPE and o in plan.focus_types:
            queue.extend((s, shape) for shape in plan.roots[o])
    reached: set[str] = set()
    visited: set[tuple[str, Node | None]] = set()
    while queue:
        item = queue.pop()
        if item in visited:
            continue
        visited.add(item)
        node, shape = item
        reached.add(node)
        own = by_subject.get(node, ())
        if shape is None or shape in plan.everything:
            queue.extend((o, None) for _, _, o in own if not o.startswith('"'))
            continue
        steps = plan.paths.get(shape, {})
        for _, p, o in own:
            subs = steps.get(p)
            if subs is not None and not o.startswith('"'):
                reached.add(o)
                queue.extend((o, sub) for sub in subs)
    return [t for s in by_subject if s in reached for t in by_subject[s]]


_UNESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_SIMPLE = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(match: re.Match[str]) -> str:
    short, long, char = match.groups()
    if char is not None:
        return _SIMPLE.get(char, char)
    return chr(int(short or long, 16))


@functools.lru_cache(maxsize=65536)
def _rdflib_term(term: str) -> Node:
    """An N-Triples IRI or literal term (as :mod:`tinyreg.registry.model_rdf` writes them)."""
    if term.startswith("<"):
        return URIRef(term[1:-1])
    end = term.rindex('"')
    lexical = _UNESCAPE.sub(_unescape, term[1:end]) if "\\" in term else term[1:end]
    rest = term[end + 1 :]
    if rest.startswith("^^<"):
        return Literal(lexical, datatype=URIRef(rest[3:-1]))
    if rest.startswith("@"):
        return Literal(lexical, lang=rest[1:])
    return Literal(lexical)


def _add_triples(graph: Graph, triples: Iterable[Triple]) -> Graph:
    term = _rdflib_term
    graph.addN((term(s), term(p), term(o), graph) for s, p, o in triples)
    return graph


def _independent_triples(descriptions: Sequence[Sequence[Triple]]) -> bool:
    """:func:`_independent` for descriptions as N-Triples terms."""
    first: dict[str, int] = {}
    shared: set[str] = set()
    for index, triples in enumerate(descriptions):
        for s, _, o in triples:
            for node in (s, o):
                if node.startswith('"'):
                    continue
                where = first.setdefault(node, index)
                if where != index:
                    shared.add(node)
    if not shared:
        return True
    seen: dict[str, frozenset[tuple[str, str]]] = {}
    for triples in descriptions:
        own: dict[str, set[tuple[str, str]]] = {node: set() for node in shared}
        mentions = {n for s, _, o in triples for n in (s, o)} & shared
        for s, p, o in triples:
            if s in own:
                own[s].add((p, o))
        for node in mentions:
            facts = frozenset(own[node])
            if seen.setdefault(node, facts) != facts:
                return False
    return True


@dataclass(frozen=True)
class LeanCheck:
    """A description's lean part and whether it surely conforms (see :func:`lean_check`).

    Attributes:
        subject: The description's subject IRI.
        lean: Its :func:`lean_triples` (all of it when that is ``None``).
        sure: Whether :func:`~tinyreg.registry.conformance.surely_conforms` passes it.

    """

    subject: str
    lean: list[Triple]
    sure: bool


def lean_check(subject: str, triples: Sequence[Triple]) -> LeanCheck:
    """The part of :func:`validate_descriptions` done for each description on its own.

    A bulk import runs it on each model as soon as it is described, while it waits for
    the next arena measurement; :func:`decide` then gives the verdicts of a batch.
    """
    lean = lean_triples(triples)
    kept = list(triples) if lean is None else lean
    return LeanCheck(subject, kept, surely_conforms(kept))


def decide(checks: Sequence[LeanCheck]) -> list[ValidationError | None]:
    """The verdicts on lean-checked descriptions: pySHACL decides those not surely conforming.

    Returns:
        For each check in order, ``None`` when it conforms, else the refusal.

    """
    outcomes: list[ValidationError | None] = [None] * len(checks)
    doubtful = [index for index, check in enumerate(checks) if not check.sure]
    if doubtful:
        decided = _pyshacl_descriptions(
            [checks[i].subject for i in doubtful], [checks[i].lean for i in doubtful]
        )
        for index, outcome in zip(doubtful, decided, strict=True):
            outcomes[index] = outcome
    return outcomes


def validate_descriptions(
    items: Sequence[tuple[str, Sequence[Triple]]],
) -> list[ValidationError | None]:
    """:func:`validate_many` for descriptions given as N-Triples terms, checked lean.

    Each description is reduced to :func:`lean_triples` (all of it when that is
    ``None``). A lean part that
    :func:`~tinyreg.registry.conformance.surely_conforms` passes is accepted; the
    others go to pySHACL, which gives every refusal and its messages: when they are
    independent (see :func:`_independent`) they are
    checked together in one pySHACL run over their union and a read-only view of the
    ontology, and one by one (as :func:`validate` does) only when that run finds a
    violation, so every refusal names only its own violations. The same as
    :func:`decide` over each description's :func:`lean_check`.

    Args:
        items: ``(subject IRI, triples)`` pairs.

    Returns:
        For each item in order, ``None`` when it conforms, else the refusal.

    """
    return decide([lean_check(subject, triples) for subject, triples in items])


def _pyshacl_descriptions(
    subjects: Sequence[str], leans: Sequence[list[Triple]]
) -> list[ValidationError | None]:
    """The verdict of pySHACL on lean descriptions: together when they are independent."""
    items = list(zip(subjects, leans, strict=True))
    if len(items) > 1 and _independent_triples(leans):
        union = Graph()
        for lean in leans:
            _add_triples(union, lean)
        view = ReadOnlyGraphAggregate([ontology_graph(), union])
        try:
            conforms = _conforms(view)
        except ModificationException:  # pragma: no cover - pySHACL wrote to the view
            conforms = not check(union, inplace=False)
        if conforms:
            return [None] * len(items)
    outcomes: list[ValidationError | None] = []
    for subject, lean in items:
        violations = check(_add_triples(Graph(), lean))
        outcomes.append(ValidationError(subject, violations) if violations else None)
    return outcomes
