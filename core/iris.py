"""The IRIs of tinyreg's own namespace and resources, as plain text.

Defined here once and re-exported by :mod:`tinyreg.core.namespaces` (which wraps them in
rdflib terms), so that modules that never touch rdflib (the read path of the command line)
use the same IRIs.

>>> MODEL_PREFIX + "hello-world"
'https://w3id.org/tinyreg/model/hello-world'
"""

from __future__ import annotations

__all__ = ["DEVICE_PREFIX", "MODEL_PREFIX", "TR_IRI"]

TR_IRI = "https://w3id.org/tinyreg#"
"""tinyreg's vocabulary namespace (prefix ``tr:``)."""

MODEL_PREFIX = "https://w3id.org/tinyreg/model/"
"""A model's IRI is this plus its id."""

DEVICE_PREFIX = "urn:tinyreg:device:"
"""A device's TD ``id`` by convention is this plus its short id."""
