"""W3C WoT Thing Descriptions (JSON-LD) of devices and other Things, to RDF and back.

A device is a TD 1.1 document whose ``@context`` adds tinyreg's extension
(``https://w3id.org/tinyreg/td/v1``) for the MCU, memories, sensors and runtime::

    {
      "@context": ["https://www.w3.org/2022/wot/td/v1.1", "https://w3id.org/tinyreg/td/v1"],
      "@type": ["Thing", "Device"],
      "id": "urn:tinyreg:device:arduino-nano-33-ble-sense",
      "title": "Arduino Nano 33 BLE Sense",
      "securityDefinitions": {"nosec_sc": {"scheme": "nosec"}},
      "security": "nosec_sc",
      "mcu": {"part": "nRF52840", "core": "Cortex-M4F", "coreFamily": "cortex-m4",
              "clockHz": 64000000, "fpu": true, "dsp": true},
      "ram": {"capacityBytes": 262144, "reservedBytes": 65536},
      "flash": {"capacityBytes": 1048576, "reservedBytes": 262144},
      "sensors": [{"@type": "IMU9DoF", "part": "LSM9DS1"}],
      "runtime": {"name": "tflite-micro", "version": "0.dev20261023182759"}
    }

Any other TD (a lamp, a thermostat) is a plain Thing: :func:`thing_to_graph` keeps its
expansion typed ``td:Thing`` and never ``tr:Device``. The rule is :func:`describes_device`:
a TD describes a device when it declares the ``Device`` type or uses a device member
(``mcu``, ``ram``, ``flash``, ``runtime``, ``sensors``) of tinyreg's context.

Documents are expanded by a real JSON-LD processor (PyLD). Contexts are resolved offline
from files shipped in :mod:`tinyreg.ontology`; any other remote context is refused with a
clear error rather than fetched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyld import jsonld
from rdflib import RDF, Graph, Literal, URIRef

from tinyreg.core.errors import ThingDescriptionError
from tinyreg.core.namespaces import TD, TR
from tinyreg.ontology import TINYREG_CONTEXT_URL, context_document

__all__ = [
    "DEVICE_MEMBERS",
    "RDF_JSON",
    "RESERVED_PREFIXES",
    "describes_device",
    "expand_td",
    "json_pointer",
    "load_td",
    "reserved_id",
    "td_from_graph",
    "td_to_graph",
    "thing_to_graph",
]

RDF_JSON = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON")

RESERVED_PREFIXES = ("https://w3id.org/tinyreg", "http://w3id.org/tinyreg", "urn:tinyreg:")
"""Where tinyreg names its own graphs (the ontology, models, runtimes, benchmarks,
profiles, deployments, the directory's state): no Thing may take an id there, since a
Thing's graph is named by its id and writing it would replace that graph."""

_DEVICE_SPACE = "urn:tinyreg:device:"


def reserved_id(ident: str) -> bool:
    """Whether an id falls in tinyreg's own graph names (``urn:tinyreg:device:`` is free).

    >>> reserved_id("https://w3id.org/tinyreg/model/kws"), reserved_id("urn:tinyreg:directory")
    (True, True)
    >>> reserved_id("urn:tinyreg:device:esp-eye"), reserved_id("urn:dev:lamp")
    (False, False)
    """
    folded = ident.strip().lower()
    if folded.startswith(_DEVICE_SPACE):
        return False
    return folded.startswith(RESERVED_PREFIXES)


def _offline_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    document = context_document(url)
    if document is None:
        raise jsonld.JsonLdError(
            f"context {url} is not available offline; tinyreg resolves only the W3C TD "
            "contexts and its own",
            "jsonld.LoadDocumentError",
            code="loading remote context failed",
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": document,
    }


def load_td(
    source: str | Path | bytes | dict[str, Any], label: str | None = None
) -> dict[str, Any]:
    """Read a TD from a file path, JSON text/bytes or an already parsed object.

    Args:
        source: A path, JSON text or bytes, or a dict.
        label: Name used in error messages (defaults to the path).

    Returns:
        The TD as a dict.

    Raises:
        ThingDescriptionError: If it is not readable JSON or not a JSON object.

    """
    if isinstance(source, dict):
        return source
    if isinstance(source, Path):
        label = label or str(source)
        try:
            raw: str | bytes = source.read_bytes()
        except OSError as exc:
            raise ThingDescriptionError(label, None, f"cannot read file: {exc.strerror}") from exc
    else:
        raw = source
        label = label or "<document>"
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ThingDescriptionError(label, None, f"not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ThingDescriptionError(label, None, "a Thing Description must be a JSON object")
    return document


DEVICE_MEMBERS = (TR.hasMCU, TR.hasRAM, TR.hasFlash, TR.hasRuntime, TR.hasSensor)
"""The device members of tinyreg's TD context (``mcu``, ``ram``, ``flash``, ``runtime``,
``sensors``), as the predicates they expand to."""


def expand_td(td: dict[str, Any], label: str = "<document>") -> tuple[URIRef, Graph]:
    """Expand any TD to RDF (its JSON-LD expansion) and keep the TD itself in it.

    The graph holds the expansion as it is, typed by the TD's own ``@type`` only, plus the
    TD as an ``rdf:JSON`` literal (``tr:tdDocument``) so it can be served back unchanged.

    Args:
        td: The parsed TD.
        label: Name used in error messages.

    Returns:
        The Thing's IRI (the TD's ``id``) and its graph.

    Raises:
        ThingDescriptionError: If ``@context``, ``id`` or ``title`` is missing or the
            JSON-LD processor refuses the document.

    """
    if "@context" not in td:
        raise ThingDescriptionError(
            label,
            "@context",
            'missing; a TD 1.1 needs "@context": ["https://www.w3.org/2022/wot/td/v1.1", ...]',
        )
    ident = td.get("id")
    if not isinstance(ident, str) or ":" not in ident:
        raise ThingDescriptionError(
            label,
            "id",
            "missing or not an absolute URI; tinyreg needs "
            'an id such as "urn:tinyreg:device:my-board"',
        )
    if reserved_id(ident):
        raise ThingDescriptionError(
            label,
            "id",
            f"{ident!r} is reserved for tinyreg's own graphs (models, ontology, directory); "
            "a device id looks like urn:tinyreg:device:my-board",
        )
    title = td.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ThingDescriptionError(label, "title", "missing or empty")
    flat = Graph()
    options = {"format": "application/n-quads", "documentLoader": _offline_loader, "base": ident}
    for piece in _pieces(td):
        try:
            nquads = jsonld.to_rdf(piece, options)
        except jsonld.JsonLdError as exc:
            cause = exc
            while isinstance(getattr(cause, "cause", None), jsonld.JsonLdError):
                cause = cause.cause
            raise ThingDescriptionError(
                label, "@context", f"JSON-LD processing failed: {cause}"
            ) from exc
        # the document has no named graphs, so its N-Quads are N-Triples; each parse
        # gives its blank nodes fresh labels
        if nquads:
            flat.parse(data=nquads, format="nt")
    thing = URIRef(ident)
    flat.add((thing, TR.tdDocument, Literal(json.dumps(td, sort_keys=True), datatype=RDF_JSON)))
    return thing, flat


_AFFORDANCE_MAPS = ("properties", "actions", "events")
_CHUNK = 64


def _pieces(td: dict[str, Any]) -> list[dict[str, Any]]:
    """The TD cut into documents whose JSON-LD processing costs about linear time.

    PyLD's node map checks every value added to a node against the node's values for
    that property, so a Thing with *n* property affordances costs O(n²) (26,000 of them,
    under the 1 MiB body limit, took minutes). The affordance maps (``properties``,
    ``actions``, ``events``; ``@index`` containers of the TD context, whose keys are no
    triples) are independent subtrees: processed in slices of :data:`_CHUNK` entries, each
    with the TD's ``@context`` and ``id``, they give the same triples. Only TDs whose
    ``@context`` is made of IRIs (no inline term definitions that could redefine those
    members) and that use no explicit blank-node label (which could join subtrees) are
    cut; any other is processed whole.

    >>> td = {"@context": "https://www.w3.org/2022/wot/td/v1.1", "id": "urn:x", "title": "x",
    ...       "properties": {f"p{i}": {"forms": []} for i in range(450)}}
    >>> [len(p.get("properties", ())) for p in _pieces(td)][:3], len(_pieces(td))
    ([0, 64, 64], 9)
    """
    context = td.get("@context")
    iris = isinstance(context, str) or (
        isinstance(context, list) and all(isinstance(c, str) for c in context)
    )
    big = [
        key
        for key in _AFFORDANCE_MAPS
        if isinstance(td.get(key), dict)
        and len(td[key]) > _CHUNK
        and all(isinstance(v, dict) for v in td[key].values())
    ]
    if not iris or not big or '"_:' in json.dumps(td):
        return [td]
    pieces = [{k: v for k, v in td.items() if k not in big}]
    for key in big:
        entries = list(td[key].items())
        for start in range(0, len(entries), _CHUNK):
            chunk = dict(entries[start : start + _CHUNK])
            pieces.append({"@context": context, "id": td["id"], key: chunk})
    return pieces


def describes_device(graph: Graph, thing: URIRef) -> bool:
    """Whether an expanded TD describes a tinyreg device.

    It does when it declares the ``Device`` type of tinyreg's TD context (``tr:Device``)
    or uses any of that context's device members (``mcu``, ``ram``, ``flash``,
    ``runtime``, ``sensors``). The test is on the expansion, so a member counts only when
    the TD's ``@context`` maps it to tinyreg's term; a ``ram`` key under some other
    context does not make a device.

    >>> g = Graph(); t = URIRef("urn:x")
    >>> describes_device(g, t)
    False
    >>> _ = g.add((t, TR.hasRAM, URIRef("urn:ram"))); describes_device(g, t)
    True
    """
    if (thing, RDF.type, TR.Device) in graph:
        return True
    return any((thing, member, None) in graph for member in DEVICE_MEMBERS)


def td_to_graph(td: dict[str, Any], label: str = "<document>") -> tuple[URIRef, Graph]:
    """Expand a device TD to RDF in tinyreg's ontology terms.

    As :func:`expand_td`, and types the Thing as ``tr:Device`` (so the device shapes
    apply to it whatever its ``@type`` says).

    Args:
        td: The parsed TD.
        label: Name used in error messages.

    Returns:
        The device IRI (the TD's ``id``) and its graph.

    Raises:
        ThingDescriptionError: If ``@context`` or ``id`` is missing or the JSON-LD
            processor refuses the document.

    """
    device, flat = expand_td(td, label)
    flat.add((device, RDF.type, TR.Device))
    return device, flat


def thing_to_graph(td: dict[str, Any], label: str = "<document>") -> tuple[URIRef, Graph, bool]:
    """Expand any TD: a device's as :func:`td_to_graph`, any other as a plain ``td:Thing``.

    Args:
        td: The parsed TD.
        label: Name used in error messages.

    Returns:
        The Thing's IRI, its graph, and whether it describes a device
        (:func:`describes_device`; its graph is then typed ``tr:Device``, otherwise
        ``td:Thing`` and never ``tr:Device``).

    Raises:
        ThingDescriptionError: As :func:`expand_td`.

    """
    thing, flat = expand_td(td, label)
    device = describes_device(flat, thing)
    flat.add((thing, RDF.type, TR.Device if device else TD.Thing))
    return thing, flat, device


def td_from_graph(graph: Graph, device: URIRef) -> dict[str, Any] | None:
    """Return the TD kept in a Thing's graph, or ``None`` when the graph has none."""
    value = graph.value(device, TR.tdDocument)
    if value is None:
        return None
    document: dict[str, Any] = json.loads(str(value))
    return document


_CORE_TERMS = {str(TD.title): "title", str(TD.description): "description", str(RDF.type): "@type"}


def _terms(context: dict[str, Any], outer: dict[str, str]) -> dict[str, str]:
    """Term name by predicate IRI for one JSON-LD context (prefixes expanded)."""
    prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("#", "/"))}

    def expand(value: str) -> str:
        head, sep, tail = value.partition(":")
        return prefixes[head] + tail if sep and head in prefixes else value

    terms = dict(outer)
    for term, value in context.items():
        target = value.get("@id") if isinstance(value, dict) else value
        if isinstance(target, str) and not term.startswith("@") and term not in prefixes:
            terms[expand(target)] = term
    return terms


def _scoped(context: dict[str, Any], term: str) -> dict[str, Any]:
    value = context.get(term)
    inner = value.get("@context") if isinstance(value, dict) else None
    return {**context, **inner} if isinstance(inner, dict) else context


def json_pointer(td: dict[str, Any], steps: tuple[str, ...]) -> str:
    """An RFC 6901 JSON pointer into ``td`` for a path of predicate IRIs from its root.

    The predicates are named by tinyreg's TD context (``tr:hasRAM`` is ``ram``) and TD
    core terms. A member that is missing is still named (it is what a ``minCount``
    violation is about); an array of more than one member ends the pointer at the array,
    since the graph cannot tell which entry it was; a predicate no term names ends it
    where it is.

    >>> td = {"ram": {"capacityBytes": 1}, "sensors": [{"@type": "IMU"}]}
    >>> tr = "https://w3id.org/tinyreg#"
    >>> json_pointer(td, (tr + "hasRAM", tr + "reservedBytes"))
    '/ram/reservedBytes'
    >>> json_pointer(td, (tr + "hasSensor", tr + "partNumber")), json_pointer(td, ())
    ('/sensors/0/part', '/')
    """
    document = context_document(TINYREG_CONTEXT_URL) or {}
    context: dict[str, Any] = dict(document.get("@context", {}))
    node: Any = td
    parts: list[str] = []
    for step in steps:
        terms = _terms(context, _CORE_TERMS)
        vocab = context.get("@vocab")
        if isinstance(vocab, str) and step.startswith(vocab):
            terms.setdefault(step, step[len(vocab) :])
        term = terms.get(step)
        if term is None:
            break
        parts.append(term)
        context = _scoped(context, term)
        value = node.get(term) if isinstance(node, dict) else None
        if isinstance(value, list):
            if len(value) != 1:
                break
            parts.append("0")
            value = value[0]
        if not isinstance(value, dict):
            break
        node = value
    escaped = (part.replace("~", "~0").replace("/", "~1") for part in parts)
    return "/" + "/".join(escaped)
