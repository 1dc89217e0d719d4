"""W3C WoT Thing Descriptions (JSON-LD) of devices, to RDF and back.

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

from tinyreg.ontology import context_document
from tinyreg.registry.errors import ThingDescriptionError
from tinyreg.registry.namespaces import TR

__all__ = ["RDF_JSON", "load_td", "td_from_graph", "td_to_graph"]

RDF_JSON = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON")


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


def td_to_graph(td: dict[str, Any], label: str = "<document>") -> tuple[URIRef, Graph]:
    """Expand a device TD to RDF in tinyreg's ontology terms.

    The graph also keeps the TD itself as an ``rdf:JSON`` literal (``tr:tdDocument``) so
    it can be served back unchanged, and types the Thing as ``tr:Device``.

    Args:
        td: The parsed TD.
        label: Name used in error messages.

    Returns:
        The device IRI (the TD's ``id``) and its graph.

    Raises:
        ThingDescriptionError: If ``@context`` or ``id`` is missing or the JSON-LD
            processor refuses the document.

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
    title = td.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ThingDescriptionError(label, "title", "missing or empty")
    try:
        nquads = jsonld.to_rdf(
            td, {"format": "application/n-quads", "documentLoader": _offline_loader, "base": ident}
        )
    except jsonld.JsonLdError as exc:
        cause = exc
        while isinstance(getattr(cause, "cause", None), jsonld.JsonLdError):
            cause = cause.cause
        raise ThingDescriptionError(
            label, "@context", f"JSON-LD processing failed: {cause}"
        ) from exc
    # the document has no named graphs, so its N-Quads are N-Triples
    flat = Graph()
    if nquads:
        flat.parse(data=nquads, format="nt")
    device = URIRef(ident)
    flat.add((device, RDF.type, TR.Device))
    flat.add((device, TR.tdDocument, Literal(json.dumps(td, sort_keys=True), datatype=RDF_JSON)))
    return device, flat


def td_from_graph(graph: Graph, device: URIRef) -> dict[str, Any] | None:
    """Return the TD kept in a device graph, or ``None`` when the graph has none."""
    value = graph.value(device, TR.tdDocument)
    if value is None:
        return None
    document: dict[str, Any] = json.loads(str(value))
    return document
