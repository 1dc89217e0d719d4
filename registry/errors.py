"""The one exception tree of tinyreg.

Every error tinyreg raises derives from :class:`TinyregError` and carries data
(the path, the IRI, the SHACL focus node and property), not only a message. The
CLI maps classes to exit codes once (``exit_code``); the REST layer maps them to
HTTP status codes once (``status``)::

    TinyregError
    ├── InputError                 refused input, nothing was written (exit 1, HTTP 400)
    │   ├── ModelFileError         a .tflite that is not a valid TFLite flatbuffer
    │   ├── CardError              a model card that is missing fields or malformed
    │   ├── ThingDescriptionError  a TD that is not JSON, not JSON-LD or lacks fields
    │   ├── ValidationError        SHACL violations (each names node, property, reason)
    │   └── QueryError             a SPARQL query the store cannot parse or run
    ├── NotFoundError              no model or device with that id (exit 1, HTTP 404)
    ├── AmbiguousIdError           a name that matches several resources (exit 1, HTTP 409)
    ├── ConfigError                a bad store location or setting (exit 2, HTTP 500)
    └── StoreError                 the graph store failed or is unreachable (exit 3, HTTP 503)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AmbiguousIdError",
    "CardError",
    "ConfigError",
    "InputError",
    "ModelFileError",
    "NotFoundError",
    "QueryError",
    "StoreError",
    "ThingDescriptionError",
    "TinyregError",
    "ValidationError",
    "Violation",
]


class TinyregError(Exception):
    """Base class of every error tinyreg raises."""

    exit_code: int = 1
    status: int = 500
    title: str = "tinyreg error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(TinyregError):
    """Input was refused; the store is unchanged."""

    exit_code = 1
    status = 400
    title = "Refused input"


class ModelFileError(InputError):
    """A model file that is not a valid TFLite flatbuffer.

    Attributes:
        path: The file (or a label such as ``<bytes>``) that was refused.
        detail: What is wrong with it.

    """

    title = "Invalid model file"

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{path}: not a valid .tflite model: {detail}")
        self.path = path
        self.detail = detail


class CardError(InputError):
    """A model card that is malformed or lacks a field.

    Attributes:
        path: The card file.
        field: The offending field, or ``None`` when the whole card is unreadable.
        detail: What is wrong.

    """

    title = "Invalid model card"

    def __init__(self, path: str, field: str | None, detail: str) -> None:
        where = f"{path}: field {field!r}" if field else path
        super().__init__(f"{where}: {detail}")
        self.path = path
        self.field = field
        self.detail = detail


class ThingDescriptionError(InputError):
    """A Thing Description that cannot be read as JSON-LD or lacks a field.

    Attributes:
        source: The file or label of the document.
        field: A JSON pointer-like path to the offending member, or ``None``.
        detail: What is wrong.

    """

    title = "Invalid Thing Description"

    def __init__(self, source: str, field: str | None, detail: str) -> None:
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {detail}")
        self.source = source
        self.field = field
        self.detail = detail


@dataclass(frozen=True)
class Violation:
    """One SHACL violation.

    Attributes:
        focus: The node that violates the shape (IRI or blank-node label).
        path: The property path (IRI, compacted where a prefix is known).
        message: Why, in words.
        value: The offending value, if the report names one.

    """

    focus: str
    path: str | None
    message: str
    value: str | None = None

    def __str__(self) -> str:
        where = f"{self.focus} {self.path}" if self.path else self.focus
        value = f" (value: {self.value})" if self.value is not None else ""
        return f"{where}: {self.message}{value}"


class ValidationError(InputError):
    """A description that violates the SHACL shapes.

    Attributes:
        subject: The IRI of the model or device that was refused.
        violations: Every violation found.

    """

    title = "Description violates the shapes"
    status = 422

    def __init__(self, subject: str, violations: Sequence[Violation]) -> None:
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(f"{subject}: refused, {len(violations)} SHACL violation(s):\n{lines}")
        self.subject = subject
        self.violations = list(violations)


class QueryError(InputError):
    """A SPARQL query that could not be parsed or evaluated.

    Attributes:
        detail: The parser's or the endpoint's message.

    """

    title = "Invalid SPARQL query"

    def __init__(self, detail: str) -> None:
        super().__init__(f"SPARQL query refused: {detail}")
        self.detail = detail


class NotFoundError(TinyregError):
    """No resource with that id or name.

    Attributes:
        kind: ``"model"`` or ``"device"``.
        ident: What was looked up.

    """

    exit_code = 1
    status = 404
    title = "Not found"

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"no {kind} with id or name {ident!r}")
        self.kind = kind
        self.ident = ident


class AmbiguousIdError(TinyregError):
    """A name that matches several resources.

    Attributes:
        kind: ``"model"`` or ``"device"``.
        ident: What was looked up.
        candidates: The ids it matches.

    """

    exit_code = 1
    status = 409
    title = "Ambiguous name"

    def __init__(self, kind: str, ident: str, candidates: Sequence[str]) -> None:
        super().__init__(
            f"{ident!r} matches {len(candidates)} {kind}s: {', '.join(candidates)}; use an id"
        )
        self.kind = kind
        self.ident = ident
        self.candidates = list(candidates)


class ConfigError(TinyregError):
    """A bad setting, such as a store location that is neither a directory nor a URL."""

    exit_code = 2
    status = 500
    title = "Configuration error"


class StoreError(TinyregError):
    """The graph store failed or could not be reached.

    Attributes:
        store: A label of the store (its path or URL).
        detail: The underlying error.

    """

    exit_code = 3
    status = 503
    title = "Graph store unavailable"

    def __init__(self, store: str, detail: str) -> None:
        super().__init__(f"graph store {store}: {detail}")
        self.store = store
        self.detail = detail
