"""The IRIs of tinyreg's own namespace and resources, as plain text.

Defined here once and re-exported by :mod:`tinyreg.core.namespaces` (which wraps them in
rdflib terms), so that modules that never touch rdflib (the read path of the command line)
use the same IRIs.

>>> MODEL_PREFIX + "hello-world"
'https://w3id.org/tinyreg/model/hello-world'
"""

from __future__ import annotations

__all__ = ["DEVICE_PREFIX", "MODEL_PREFIX", "TR_IRI", "XSD_INTEGER_TYPES", "XSD_IRI"]

TR_IRI = "https://w3id.org/tinyreg#"
"""tinyreg's vocabulary namespace (prefix ``tr:``)."""

MODEL_PREFIX = "https://w3id.org/tinyreg/model/"
"""A model's IRI is this plus its id."""

DEVICE_PREFIX = "urn:tinyreg:device:"
"""A device's TD ``id`` by convention is this plus its short id."""

XSD_IRI = "http://www.w3.org/2001/XMLSchema#"
"""XML Schema's datatype namespace."""

XSD_INTEGER_TYPES = frozenset(
    XSD_IRI + name
    for name in (
        "integer",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "nonPositiveInteger",
        "negativeInteger",
        "unsignedInt",
        "unsignedLong",
        "unsignedShort",
        "unsignedByte",
    )
)
"""The XML Schema datatypes whose literals are integers."""
