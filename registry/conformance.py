"""A fast, conservative test that a description conforms to the SHACL shapes.

pySHACL evaluates every value node of a nested ``sh:node`` as a shape run of its own,
which makes a model's check cost tens of milliseconds however lean its data graph. Most
descriptions conform; this module says so in well under a millisecond, and leaves every
doubt to pySHACL:

:func:`surely_conforms` compiles the shapes (``ontology/shapes.ttl``) once into checks
over N-Triples terms and answers ``True`` only when every check passes by its strictest
reading; anything it does not model (a constraint component it does not know, a SPARQL
constraint, a severity, a literal whose form it does not recognise) makes it answer
``False``, and the caller runs pySHACL, whose report gives the refusal and its messages.
So a refusal always comes from pySHACL, word for word, and a wrong answer here could
only be a ``True`` for a description pySHACL refuses: ``tests/test_model_nt.py`` shows
it answers ``False`` for every broken description there (they break every constraint of
the model shapes) and ``True`` for every seed and ``kg_data`` model.

Supported, as SHACL Core defines them: ``sh:targetClass`` (with the ontology's
subclasses), ``sh:property`` with an IRI path or ``sh:oneOrMorePath`` of an IRI,
``sh:minCount``, ``sh:maxCount``, ``sh:datatype`` (``xsd:string``, ``xsd:integer``,
``xsd:boolean``, ``xsd:double``), ``sh:minLength``, ``sh:minExclusive``,
``sh:minInclusive`` (on integers), ``sh:pattern`` (no flags), ``sh:in``, ``sh:node``,
``sh:nodeKind sh:IRI``, ``sh:hasValue`` and ``sh:or``; ``sh:message`` is ignored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.term import BNode, Node

from tinyreg.ontology import ontology_graph, shapes_graph

__all__ = ["surely_conforms", "unescape"]

SH = Namespace("http://www.w3.org/ns/shacl#")
XSD = "http://www.w3.org/2001/XMLSchema#"

Triple = tuple[str, str, str]
Index = Mapping[str, Sequence[tuple[str, str]]]
Check = Callable[[str, Index], bool]  # (focus node, subject index) → surely conforms

_STRICT = {  # lexical forms rdflib reads as well-formed, and nothing doubtful
    f"<{XSD}integer>": re.compile(r"[+-]?[0-9]+"),
    f"<{XSD}boolean>": re.compile(r"true|false"),
    f"<{XSD}double>": re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"),
}
_INTEGER = f"<{XSD}integer>"
_STRING = f"<{XSD}string>"
_SHAPE_KEYS = {
    RDF.type,
    SH.property,
    SH.targetClass,
    SH.message,
    SH.node,
    SH["or"],
    SH.path,
    SH.minCount,
    SH.maxCount,
    SH.datatype,
    SH.minLength,
    SH.minExclusive,
    SH.minInclusive,
    SH.pattern,
    SH["in"],
    SH.nodeKind,
    SH.hasValue,
}


class _Opaque(Exception):
    """A shape uses something this module does not model."""


def _term(node: Node) -> str:
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, Literal):
        text = str(node).replace("\\", "\\\\").replace('"', '\\"')
        text = text.replace("\n", "\\n").replace("\r", "\\r")
        if node.language:
            return f'"{text}"@{node.language}'
        return f'"{text}"^^<{node.datatype}>' if node.datatype else f'"{text}"'
    raise _Opaque(f"blank node {node!r}")


_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|([tbnrf\"'\\]))")
_SIMPLE = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(match: re.Match[str]) -> str:
    short, long, char = match.groups()
    return _SIMPLE[char] if char is not None else chr(int(short or long, 16))


def unescape(text: str) -> str:
    r"""The characters of an N-Triples string's escaped text.

    >>> unescape(r'a \"b\" \\ \u00e9\n')
    'a "b" \\ é\n'
    """
    return _ESCAPE.sub(_unescape, text) if "\\" in text else text


def _literal(term: str) -> tuple[str, str | None] | None:
    """``(lexical form, datatype term)`` of a literal; ``None`` for others."""
    if not term.startswith('"'):
        return None
    end = term.rindex('"')
    rest = term[end + 1 :]
    if rest.startswith("@"):
        return None  # a language-tagged string is never an xsd:string
    return unescape(term[1:end]), (rest[2:] if rest.startswith("^^") else None)


def _integer(term: str) -> int | None:
    parsed = _literal(term)
    if parsed is None or parsed[1] != _INTEGER or not _STRICT[_INTEGER].fullmatch(parsed[0]):
        return None
    return int(parsed[0])


@dataclass
class _Compiler:
    shapes: Graph
    superclasses: Mapping[str, frozenset[str]]  # class term → every class above it
    compiled: dict[Node, Check]

    def node_shape(self, shape: Node) -> Check:
        if shape in self.compiled:
            return self.compiled[shape]
        self.compiled[shape] = lambda focus, index: False  # a cycle: leave it to pySHACL
        checks = self.constraints(shape)
        self.compiled[shape] = lambda focus, index: all(c(focus, index) for c in checks)
        return self.compiled[shape]

    def constraints(self, shape: Node) -> list[Check]:
        shapes = self.shapes
        keys = set(shapes.predicates(shape))
        if keys - _SHAPE_KEYS:
            raise _Opaque(f"{shape}: {sorted(map(str, keys - _SHAPE_KEYS))}")
        checks: list[Check] = []
        path = shapes.value(shape, SH.path)
        if path is not None:
            checks.append(self.property_shape(shape, path))
        else:
            checks.extend(self.value_checks(shape, single=True))
        for prop in shapes.objects(shape, SH.property):
            checks.extend(self.constraints(prop))
        return checks

    def values(self, path: Node) -> Callable[[str, Index], list[str]]:
        if isinstance(path, URIRef):
            predicate = f"<{path}>"
            return lambda focus, index: [o for p, o in index.get(focus, ()) if p == predicate]
        inner = self.shapes.value(path, SH.oneOrMorePath)
        if (
            isinstance(path, BNode)
            and isinstance(inner, URIRef)
            and inner == RDFS.subClassOf
            and len(set(self.shapes.predicate_objects(path))) == 1
        ):
            predicate = f"<{inner}>"
            ontology = self.superclasses

            def above(focus: str, index: Index) -> list[str]:
                found: set[str] = set()
                todo = [focus]
                while todo:
                    node = todo.pop()
                    steps = [o for p, o in index.get(node, ()) if p == predicate]
                    steps.extend(ontology.get(node, ()))
                    for up in steps:
                        if up not in found:
                            found.add(up)
                            todo.append(up)
                return sorted(found)

            return above
        raise _Opaque(f"path {path!r}")

    def property_shape(self, shape: Node, path: Node) -> Check:
        shapes = self.shapes
        values = self.values(path)
        low = shapes.value(shape, SH.minCount)
        high = shapes.value(shape, SH.maxCount)
        lowest = int(low) if isinstance(low, Literal) else 0
        highest = int(high) if isinstance(high, Literal) else None
        per_value = self.value_checks(shape, single=False)
        required = [_term(v) for v in shapes.objects(shape, SH.hasValue)]

        def check(focus: str, index: Index) -> bool:
            found = values(focus, index)
            if len(found) != len(set(found)):
                return False  # repeated triples: let pySHACL count
            if len(found) < lowest or (highest is not None and len(found) > highest):
                return False
            if any(r not in found for r in required):
                return False
            return all(c(v, index) for v in found for c in per_value)

        return check

    def value_checks(self, shape: Node, *, single: bool) -> list[Check]:
        """Checks of one value node (``single``: the focus itself, a node shape)."""
        shapes = self.shapes
        checks: list[Check] = []
        if single and (shape, SH.hasValue, None) in shapes:
            raise _Opaque(f"{shape}: sh:hasValue on a node shape")
        for datatype in shapes.objects(shape, SH.datatype):
            checks.append(self.datatype(f"<{datatype}>"))
        for length in shapes.objects(shape, SH.minLength):
            if not isinstance(length, Literal):
                raise _Opaque(f"{shape}: sh:minLength {length!r}")
            least = int(length)

            def long_enough(value: str, index: Index, least: int = least) -> bool:
                parsed = _literal(value)
                return parsed is not None and len(parsed[0]) >= least

            checks.append(long_enough)
        for key, strict in ((SH.minExclusive, True), (SH.minInclusive, False)):
            for bound in shapes.objects(shape, key):
                if not isinstance(bound, Literal) or bound.datatype != URIRef(XSD + "integer"):
                    raise _Opaque(f"{shape}: bound {bound!r}")
                limit = int(bound)

                def above(
                    value: str, index: Index, limit: int = limit, strict: bool = strict
                ) -> bool:
                    number = _integer(value)
                    return number is not None and (number > limit if strict else number >= limit)

                checks.append(above)
        for pattern in shapes.objects(shape, SH.pattern):
            compiled = re.compile(str(pattern))

            def matches(value: str, index: Index, compiled: re.Pattern[str] = compiled) -> bool:
                if value.startswith("<"):
                    return compiled.search(value[1:-1]) is not None
                parsed = _literal(value)
                return parsed is not None and compiled.search(parsed[0]) is not None

            checks.append(matches)
        for head in shapes.objects(shape, SH["in"]):
            allowed = frozenset(_term(item) for item in shapes.items(head))

            def listed(value: str, index: Index, allowed: frozenset[str] = allowed) -> bool:
                return value in allowed

            checks.append(listed)
        for kind in shapes.objects(shape, SH.nodeKind):
            if kind != SH.IRI:
                raise _Opaque(f"{shape}: node kind {kind}")

            def an_iri(value: str, index: Index) -> bool:
                return value.startswith("<")

            checks.append(an_iri)
        for node in shapes.objects(shape, SH.node):
            checks.append(self.node_shape(node))
        for head in shapes.objects(shape, SH["or"]):
            members = [self.node_shape(m) for m in shapes.items(head)]

            def either(value: str, index: Index, members: list[Check] = members) -> bool:
                return any(m(value, index) for m in members)

            checks.append(either)
        return checks

    def datatype(self, datatype: str) -> Check:
        strict = _STRICT.get(datatype)
        if strict is None and datatype != _STRING:
            raise _Opaque(f"datatype {datatype}")

        def check(value: str, index: Index) -> bool:
            parsed = _literal(value)
            if parsed is None:
                return False
            lexical, declared = parsed
            if datatype == _STRING:
                return declared is None or declared == _STRING
            return declared == datatype and strict is not None and bool(strict.fullmatch(lexical))

        return check


@dataclass(frozen=True)
class _Compiled:
    roots: Mapping[str, tuple[Check, ...]]  # focus type term → checks of its shapes
    opaque_types: frozenset[str]  # focus types of shapes this module does not model


@functools.cache
def _compiled() -> _Compiled:
    shapes, ontology = shapes_graph(), ontology_graph()
    superclasses: dict[str, set[str]] = {}
    for sub, sup in ontology.subject_objects(RDFS.subClassOf):
        if isinstance(sub, URIRef) and isinstance(sup, URIRef):
            superclasses.setdefault(f"<{sub}>", set()).add(f"<{sup}>")
    compiler = _Compiler(shapes, {k: frozenset(v) for k, v in superclasses.items()}, {})
    roots: dict[str, list[Check]] = {}
    opaque: set[str] = set()
    for shape, cls in shapes.subject_objects(SH.targetClass):
        focus_types = [f"<{c}>" for c in ontology.transitive_subjects(RDFS.subClassOf, cls)]
        try:
            check = compiler.node_shape(shape)
        except _Opaque:
            opaque.update(focus_types)
            continue
        for focus_type in focus_types:
            roots.setdefault(focus_type, []).append(check)
    return _Compiled({k: tuple(v) for k, v in roots.items()}, frozenset(opaque))


_TYPE = f"<{RDF.type}>"
_SUBCLASS = f"<{RDFS.subClassOf}>"


def surely_conforms(triples: Iterable[Triple]) -> bool:
    """Whether a description surely conforms to the shapes (``False``: ask pySHACL).

    Args:
        triples: The description (or its :func:`~tinyreg.registry.validate.lean_triples`),
            as N-Triples terms.

    Returns:
        ``True`` only when every shape's checks pass on every focus node; ``False`` when
        one fails or when something is beyond what this module models.

    """
    compiled = _compiled()
    index: dict[str, list[tuple[str, str]]] = {}
    focus: list[tuple[str, str]] = []
    for s, p, o in triples:
        index.setdefault(s, []).append((p, o))
        if p == _SUBCLASS:
            return False  # the description declares classes: more focus nodes, maybe
        if p == _TYPE:
            if o in compiled.opaque_types:
                return False
            if o in compiled.roots:
                focus.append((s, o))
    return all(check(node, index) for node, kind in focus for check in compiled.roots[kind])
