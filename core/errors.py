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
    │   ├── QueryError             a SPARQL query the store cannot parse or run
    │   │   └── FederationError    a SERVICE clause where federation is off or not allowed
    │   ├── BenchmarkError         a model the host runtime cannot time, or wrong bytes (HTTP 422)
    │   ├── TDValidationError      a TD refused by the TD JSON Schema or the shapes (HTTP 400)
    │   ├── MediaTypeError         a request body of a media type not accepted (HTTP 415)
    │   ├── NotAcceptableError     an Accept header no answer can satisfy (HTTP 406)
    │   └── PayloadTooLargeError   a request body over the size limit (HTTP 413)
    ├── NotFoundError              no model or device with that id (exit 1, HTTP 404)
    ├── AmbiguousIdError           a name that matches several resources (exit 1, HTTP 409)
    ├── AuthError                  a write (or read) without the right bearer token (HTTP 401)
    ├── ForbiddenError             a write to a read-only service (HTTP 403)
    ├── ConflictError              a write that would replace what exists without asking (HTTP 409)
    ├── RateLimitError             expensive work asked for too often (HTTP 429)
    ├── QueryTimeoutError          a query that ran past its deadline (HTTP 503)
    ├── ConfigError                a bad store location or setting (exit 2, HTTP 500)
    ├── StoreError                 the graph store failed or is unreachable (exit 3, HTTP 503)
    └── DeploymentError            an over-the-air deployment did not commit (exit 4, HTTP 502)
        ├── PairRefusedError       the matchmaker rejects the pair (exit 1, HTTP 409)
        ├── DeviceRefusedError     the device refused or failed the image, runs its previous model
        ├── DeviceTimeoutError     the device did not answer in time
        └── BrokerError            the MQTT broker is unreachable (exit 3, HTTP 503)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AmbiguousIdError",
    "AuthError",
    "BenchmarkError",
    "BrokerError",
    "CardError",
    "ConfigError",
    "ConflictError",
    "DeploymentError",
    "DeviceRefusedError",
    "DeviceTimeoutError",
    "FederationError",
    "FieldError",
    "ForbiddenError",
    "InputError",
    "MediaTypeError",
    "ModelFileError",
    "NotAcceptableError",
    "NotFoundError",
    "PairRefusedError",
    "PayloadTooLargeError",
    "QueryError",
    "QueryTimeoutError",
    "RateLimitError",
    "StoreError",
    "TDValidationError",
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
        root: The nearest IRI at or above the focus (a blank node's named ancestor).
        steps: The predicate IRIs from ``root`` down to the focus, then the result path
            when it is a single predicate: where the violation sits, as data, for a JSON
            pointer into the document the graph came from.

    """

    focus: str
    path: str | None
    message: str
    value: str | None = None
    root: str | None = None
    steps: tuple[str, ...] = ()

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


class FederationError(QueryError):
    """A federated query (``SERVICE``) refused; nothing was sent anywhere.

    Federation is off, or the endpoint is not on the server's allow-list.
    """

    title = "Federated query refused"

    def __init__(self, detail: str) -> None:
        InputError.__init__(self, detail)
        self.detail = detail


class BenchmarkError(InputError):
    """A model that cannot be timed on the host: refused by the runtime, or the wrong file.

    Attributes:
        model: The model id or IRI.
        detail: Why, in the runtime's words or naming the mismatch.

    """

    title = "Model cannot be benchmarked"
    status = 422

    def __init__(self, model: str, detail: str) -> None:
        super().__init__(f"cannot benchmark {model}: {detail}")
        self.model = model
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


class DeploymentError(TinyregError):
    """An over-the-air deployment that did not commit.

    Attributes:
        device: The device id.
        reason: Why, in the device's or the deployer's words.

    """

    exit_code = 4
    status = 502
    title = "Deployment failed"

    def __init__(self, device: str, reason: str) -> None:
        super().__init__(f"{device}: {reason}")
        self.device = device
        self.reason = reason


class PairRefusedError(DeploymentError):
    """The matchmaker rejects the model on the device (deploy again with ``force``).

    Attributes:
        model: The model id.
        failed: Names of the failing constraints (``ram``, ``flash``, ``operators``, ...).

    """

    exit_code = 1
    status = 409
    title = "Model does not fit the device"

    def __init__(self, model: str, device: str, failed: Sequence[str], reason: str) -> None:
        super().__init__(device, f"{model} refused: {reason}")
        self.model = model
        self.failed = list(failed)


class DeviceRefusedError(DeploymentError):
    """The device refused or failed the image and keeps running its previous model.

    Attributes:
        stage: Where it stopped (``manifest``, ``transfer``, ``verify``, ``fit``, ``load``,
            ``self-test``).

    """

    title = "Device refused the update"

    def __init__(self, device: str, stage: str, reason: str) -> None:
        super().__init__(device, f"{stage}: {reason}")
        self.stage = stage
        self.detail = reason


class DeviceTimeoutError(DeploymentError):
    """The device did not answer in time (offline, or the transfer stalled).

    Attributes:
        seconds: How long the deployer waited.

    """

    title = "Device did not answer"

    def __init__(self, device: str, seconds: float, what: str) -> None:
        super().__init__(device, f"no answer for {seconds:g} s while waiting for {what}")
        self.seconds = seconds


class BrokerError(DeploymentError):
    """The MQTT broker could not be reached or refused the client.

    Attributes:
        broker: The broker URL.
        rc: The MQTT reason code, when there is one.

    """

    exit_code = 3
    status = 503
    title = "MQTT broker unavailable"

    def __init__(self, broker: str, detail: str, rc: int | None = None) -> None:
        super().__init__(broker, f"MQTT broker {broker}: {detail}")
        self.broker = broker
        self.rc = rc


@dataclass(frozen=True)
class FieldError:
    """One reason a Thing Description was refused.

    Attributes:
        field: Where, as a JSON pointer into the TD (``/properties/temp/forms``), or the
            SHACL property path for a shape violation.
        description: What is wrong, in words.

    """

    field: str
    description: str


class TDValidationError(InputError):
    """A Thing Description refused by the TD 1.1 JSON Schema or by the device shapes.

    Attributes:
        subject: The TD's id, or a label when it has none.
        errors: Every reason found, each naming the field.

    """

    title = "Invalid Thing Description"
    status = 400

    def __init__(self, subject: str, errors: Sequence[FieldError]) -> None:
        lines = "; ".join(f"{e.field}: {e.description}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"{subject}: refused, {len(errors)} error(s): {lines}{more}")
        self.subject = subject
        self.errors = list(errors)


class MediaTypeError(InputError):
    """A request body of a media type the service does not accept.

    Attributes:
        received: The media type received.
        accepted: The media types accepted.

    """

    title = "Unsupported media type"
    status = 415

    def __init__(self, received: str, accepted: Sequence[str]) -> None:
        super().__init__(f"media type {received!r} not accepted; use {', '.join(accepted)}")
        self.received = received
        self.accepted = list(accepted)


class NotAcceptableError(InputError):
    """An ``Accept`` header that allows none of the media types the answer can take.

    Attributes:
        asked: The ``Accept`` header received.
        offered: The media types the answer can be given in.

    """

    title = "Not acceptable"
    status = 406

    def __init__(self, asked: str, offered: Sequence[str]) -> None:
        super().__init__(f"cannot answer in {asked!r}; use one of {', '.join(offered)}")
        self.asked = asked
        self.offered = list(offered)


class PayloadTooLargeError(InputError):
    """A request body over the configured size limit.

    Attributes:
        limit: The limit in bytes.

    """

    title = "Payload too large"
    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than the limit of {limit:,} bytes")
        self.limit = limit


class AuthError(TinyregError):
    """A request without the bearer token the service requires.

    Attributes:
        scheme: The authentication scheme expected (``Bearer``).

    """

    exit_code = 1
    status = 401
    title = "Unauthorized"

    def __init__(self, message: str, scheme: str = "Bearer") -> None:
        super().__init__(message)
        self.scheme = scheme


class ForbiddenError(TinyregError):
    """A write refused because the service is read-only or has no write token."""

    exit_code = 1
    status = 403
    title = "Forbidden"


class ConflictError(TinyregError):
    """A write that would replace an existing resource without saying so.

    Attributes:
        kind: ``"model"`` or ``"thing"``.
        ident: The id that exists.
        hint: How to replace it explicitly.

    """

    exit_code = 1
    status = 409
    title = "Conflict"

    def __init__(self, kind: str, ident: str, hint: str) -> None:
        super().__init__(f"a {kind} with id {ident!r} exists; {hint}")
        self.kind = kind
        self.ident = ident
        self.hint = hint


class RateLimitError(TinyregError):
    """Expensive work asked for again too soon, or without the token it needs.

    Attributes:
        retry_after: Seconds after which asking again may succeed.

    """

    exit_code = 1
    status = 429
    title = "Too many requests"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QueryTimeoutError(TinyregError):
    """A SPARQL query that did not finish before its deadline.

    Attributes:
        seconds: The deadline in seconds.

    """

    exit_code = 3
    status = 503
    title = "Query timeout"

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the query did not finish within {seconds:g} s")
        self.seconds = seconds
