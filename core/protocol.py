"""The over-the-air update protocol (version 2), shared by the deployer and the device runtime.

See ``firmware/PROTOCOL.md`` for the full description. This module holds what both ends
must agree on: topic names, the signed manifest and command layouts, the chunk frame, the
acknowledgement bitmap, and the Ed25519 keys.

>>> key = generate_key()
>>> manifest = Manifest("hello-world", "1.0", 2472, "ab" * 32, 1936, "tflite-micro",
...     "0.dev1", 1024, 3, "t1", device="urn:tinyreg:device:x", seq=7)
>>> signed = sign_manifest(manifest, key)
>>> len(signed), signed[:4]
(440, b'TRS2')
>>> verify_manifest(signed, public_key_bytes(key)) == manifest
True
>>> command = Command("infer", "urn:tinyreg:device:x", 8)
>>> verify_command(sign_command(command, key), public_key_bytes(key)) == command
True
>>> frame = pack_chunk("t1", 2, b"data")
>>> unpack_chunk(frame)
('t1', 2, b'data')
>>> sorted(decode_bitmap(encode_bitmap({0, 2, 9}, 10), 10))
[0, 2, 9]
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from tinyreg.core.errors import ConfigError, InputError

__all__ = [
    "COMMAND_BYTES",
    "DEFAULT_CHUNK_SIZE",
    "MANIFEST_BYTES",
    "MAX_SEQ",
    "OPS",
    "PERSISTED_OPS",
    "PROTOCOL_VERSION",
    "QOS_CHUNK",
    "QOS_CONTROL",
    "TOPIC_ROOT",
    "Command",
    "Manifest",
    "decode_bitmap",
    "device_key",
    "device_topic",
    "encode_bitmap",
    "generate_key",
    "key_id",
    "load_or_create_key",
    "load_public_key",
    "pack_chunk",
    "parse_chunk",
    "peek",
    "public_key_bytes",
    "sign_command",
    "sign_manifest",
    "topic_device",
    "transfer_field",
    "unpack_chunk",
    "verify_command",
    "verify_manifest",
    "version_key",
    "write_public_key",
]

PROTOCOL_VERSION = 2
TOPIC_ROOT = "tinyreg/ota/v2"
DEFAULT_CHUNK_SIZE = 1024
#: The largest chunk a (virtual) device takes; the C agent's is its chunk buffer's size.
MAX_CHUNK_SIZE = 65536
MAX_WINDOW = 4096
MAX_SEQ = 2**63 - 1
_U32 = 2**32 - 1
# Control messages (manifest, commands, acknowledgements, results, status) must arrive:
# QoS 1. Chunks are covered end to end by the device's acknowledgement bitmap and the
# deployer's retransmission, which also survives a broker restart; QoS 0 avoids a
# second, per-hop acknowledgement for every chunk.
QOS_CONTROL = 1
QOS_CHUNK = 0

_CHUNK_MAGIC = b"TRC1"
_CHUNK_HEADER = struct.Struct(">4s16sII")  # magic, transfer id, index, CRC-32 of the data

# Signed messages: a fixed-layout body, then its Ed25519 signature (PROTOCOL.md)
SIGNED_MAGIC = b"TRS2"
KIND_MANIFEST = 1
KIND_COMMAND = 2
FLAG_ALLOW_DOWNGRADE = 0x01
SIGNATURE_BYTES = 64
# magic, kind, op, flags, reserved, seq, device
_HEADER = struct.Struct(">4sBBBBQ128s")
# transfer, sha256, size, arena, chunk size, chunks, window, reserved, model, version,
# runtime, runtime version
_MANIFEST_TAIL = struct.Struct(">16s32sIIIIII64s32s32s32s")
_COMMAND_TAIL = struct.Struct(">16s32s")  # transfer, argument
MANIFEST_BYTES = _HEADER.size + _MANIFEST_TAIL.size + SIGNATURE_BYTES  # 440
COMMAND_BYTES = _HEADER.size + _COMMAND_TAIL.size + SIGNATURE_BYTES  # 256
#: Command names and their op codes.
OPS = {"sync": 1, "status": 2, "infer": 3, "abort": 4, "rollback": 5, "rotate-key": 6}
_OP_NAMES = {code: name for name, code in OPS.items()}
#: Commands whose sequence number the device persists with their effect.
PERSISTED_OPS = frozenset({"abort", "rollback", "rotate-key"})


def device_key(device_id: str) -> str:
    """The topic level that names a device (its id with ``/``, ``+``, ``#`` escaped).

    >>> device_key("urn:tinyreg:device:a/b")
    'urn:tinyreg:device:a%2Fb'
    """
    return quote(device_id, safe=":-._~@!$&'()*,;=")


def device_topic(device_id: str, leaf: str) -> str:
    """The topic ``tinyreg/ota/v1/<device>/<leaf>``."""
    return f"{TOPIC_ROOT}/{device_key(device_id)}/{leaf}"


def topic_device(topic: str) -> tuple[str, str]:
    """Split a device topic into (device id, leaf).

    >>> topic_device("tinyreg/ota/v1/urn:tinyreg:device:x/ack")
    ('urn:tinyreg:device:x', 'ack')
    """
    rest = topic[len(TOPIC_ROOT) + 1 :]
    key, _, leaf = rest.partition("/")
    return unquote(key), leaf


@dataclass(frozen=True)
class Manifest:
    """What is sent, signed by the registry's key (layout in ``firmware/PROTOCOL.md``).

    Attributes:
        model: The model id (at most 64 bytes of UTF-8).
        version: The model version (at most 32 bytes).
        size: The image size in bytes.
        sha256: The image's SHA-256, hex.
        arena_bytes: The tensor arena the registry measured with the runtime.
        runtime: The runtime the image targets (e.g. ``tflite-micro``; at most 32 bytes).
        runtime_version: The runtime release the arena was measured with (at most 32).
        chunk_size: Bytes per chunk (the last one may be shorter).
        chunks: Number of chunks.
        transfer: The transfer id (up to 16 bytes; a resumed deployment reuses it).
        window: The device acknowledges every ``window`` chunks.
        force: Install even if it is a downgrade (the signed *allow downgrade* flag).
        device: The device the manifest is for (at most 128 bytes).
        seq: The sequence number, greater than any the device accepted before.

    """

    model: str
    version: str
    size: int
    sha256: str
    arena_bytes: int
    runtime: str
    runtime_version: str
    chunk_size: int
    chunks: int
    transfer: str
    window: int = 32
    force: bool = False
    device: str = ""
    seq: int = 0

    def body(self) -> bytes:
        """The 376 bytes the signature covers.

        Raises:
            InputError: If a field does not fit its place.

        """
        for name in ("size", "arena_bytes", "chunk_size", "chunks", "window"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= _U32:
                raise InputError(f"manifest field {name!r} is not a 32-bit unsigned integer")
        try:
            digest = bytes.fromhex(self.sha256)
        except (TypeError, ValueError) as exc:
            raise InputError("manifest sha256 is not hex") from exc
        if len(digest) != 32:
            raise InputError("manifest sha256 is not 32 bytes")
        head = _header(
            KIND_MANIFEST, 0, FLAG_ALLOW_DOWNGRADE if self.force else 0, self.seq, self.device
        )
        return head + _MANIFEST_TAIL.pack(
            _field(self.transfer, 16, "transfer"),
            digest,
            self.size,
            self.arena_bytes,
            self.chunk_size,
            self.chunks,
            self.window,
            0,
            _field(self.model, 64, "model"),
            _field(self.version, 32, "version"),
            _field(self.runtime, 32, "runtime"),
            _field(self.runtime_version, 32, "runtime_version", required=False),
        )

    @classmethod
    def from_body(cls, body: bytes) -> Manifest:
        """Read a manifest's body (its signature already checked).

        Raises:
            InputError: If a field is malformed or out of its bounds.

        """
        _, flags, seq, device = _read_header(body, KIND_MANIFEST)
        if flags & ~FLAG_ALLOW_DOWNGRADE:
            raise InputError("manifest flags hold unknown bits")
        (
            transfer,
            digest,
            size,
            arena,
            chunk_size,
            chunks,
            window,
            reserved,
            model,
            version,
            runtime,
            runtime_version,
        ) = _MANIFEST_TAIL.unpack_from(body, _HEADER.size)
        if reserved:
            raise InputError("manifest reserved bytes are not zero")
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE or size == 0:
            raise InputError("manifest size or chunk size out of bounds")
        if chunks != -(-size // chunk_size):
            raise InputError("manifest chunk count does not match size and chunk size")
        if not 1 <= window <= MAX_WINDOW:
            raise InputError("manifest window out of bounds")
        return cls(
            model=_text(model, "model"),
            version=_text(version, "version"),
            size=size,
            sha256=digest.hex(),
            arena_bytes=arena,
            runtime=_text(runtime, "runtime"),
            runtime_version=_text(runtime_version, "runtime_version", required=False),
            chunk_size=chunk_size,
            chunks=chunks,
            transfer=_text(transfer, "transfer"),
            window=window,
            force=bool(flags & FLAG_ALLOW_DOWNGRADE),
            device=device,
            seq=seq,
        )

    def same_transfer(self, other: Manifest) -> bool:
        """Whether ``other`` names the same transfer with the same chunks (a resume)."""
        return (self.transfer, self.sha256, self.size, self.chunk_size, self.device) == (
            other.transfer,
            other.sha256,
            other.size,
            other.chunk_size,
            other.device,
        )


@dataclass(frozen=True)
class Command:
    """A signed command (layout in ``firmware/PROTOCOL.md``).

    Attributes:
        op: One of :data:`OPS`.
        device: The device it is for.
        seq: The sequence number.
        transfer: The transfer ``sync`` and ``abort`` name (empty otherwise).
        argument: 32 bytes: the new key of ``rotate-key``, the image digest ``rollback``
            returns to (zeros: the previous image), zeros otherwise.

    """

    op: str
    device: str
    seq: int
    transfer: str = ""
    argument: bytes = bytes(32)

    def body(self) -> bytes:
        """The 192 bytes the signature covers.

        Raises:
            InputError: If the op is unknown or a field does not fit its place.

        """
        if self.op not in OPS:
            raise InputError(f"unknown command {self.op!r}; one of {', '.join(OPS)}")
        if len(self.argument) != 32:
            raise InputError("command argument is not 32 bytes")
        head = _header(KIND_COMMAND, OPS[self.op], 0, self.seq, self.device)
        return head + _COMMAND_TAIL.pack(
            _field(self.transfer, 16, "transfer", required=False), bytes(self.argument)
        )

    @classmethod
    def from_body(cls, body: bytes) -> Command:
        """Read a command's body (its signature already checked).

        Raises:
            InputError: If a field is malformed.

        """
        op, flags, seq, device = _read_header(body, KIND_COMMAND)
        if flags:
            raise InputError("command flags are not zero")
        transfer, argument = _COMMAND_TAIL.unpack_from(body, _HEADER.size)
        return cls(_OP_NAMES[op], device, seq, _text(transfer, "transfer", False), argument)


def _field(text: str, size: int, name: str, required: bool = True) -> bytes:
    raw = text.encode() if isinstance(text, str) else b"\0"
    if b"\0" in raw or len(raw) > size or (required and not raw):
        raise InputError(f"{name} must be 1 to {size} bytes of UTF-8 without NUL: {text!r}")
    return raw.ljust(size, b"\0")


def _text(raw: bytes, name: str, required: bool = True) -> str:
    content = raw.rstrip(b"\0")
    if b"\0" in content or (required and not content):
        raise InputError(f"field {name!r} is empty or holds NUL bytes")
    try:
        return content.decode()
    except UnicodeDecodeError as exc:
        raise InputError(f"field {name!r} is not UTF-8") from exc


def _header(kind: int, op: int, flags: int, seq: int, device: str) -> bytes:
    if not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        raise InputError(f"sequence number out of range 1..2^63-1: {seq!r}")
    return _HEADER.pack(SIGNED_MAGIC, kind, op, flags, 0, seq, _field(device, 128, "device"))


def _read_header(body: bytes, kind: int) -> tuple[int, int, int, str]:
    magic, got, op, flags, reserved, seq, device = _HEADER.unpack_from(body)
    if magic != SIGNED_MAGIC or got != kind:
        raise InputError("not a signed message of this kind")
    if reserved:
        raise InputError("reserved header byte is not zero")
    if not 1 <= seq <= MAX_SEQ:
        raise InputError("sequence number out of range")
    if (kind == KIND_MANIFEST and op != 0) or (kind == KIND_COMMAND and op not in _OP_NAMES):
        raise InputError(f"unknown command op {op}")
    return op, flags, seq, _text(device, "device")


Keys = bytes | Sequence[bytes]


def _open_signed(message: bytes, kind: int, keys: Keys) -> bytes:
    """Check length, magic, kind and signature; return the body (the signed bytes)."""
    what, length = (
        ("manifest", MANIFEST_BYTES) if kind == KIND_MANIFEST else ("command", COMMAND_BYTES)
    )
    if not isinstance(message, bytes | bytearray | memoryview):
        raise InputError(f"{what} is not bytes")
    if len(message) != length:
        raise InputError(
            f"{what} is not a signed version 2 {what}: {len(message)} bytes, not {length}"
        )
    message = bytes(message)
    if message[:4] != SIGNED_MAGIC or message[4] != kind:
        raise InputError(f"{what} is not a signed version 2 {what} (magic or kind)")
    body, signature = message[:-SIGNATURE_BYTES], message[-SIGNATURE_BYTES:]
    for key in [keys] if isinstance(keys, bytes) else keys:
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(signature, body)
        except (InvalidSignature, ValueError):
            continue
        return body
    raise InputError(f"{what} signature does not verify with the device's key")


def sign_manifest(manifest: Manifest, key: Ed25519PrivateKey) -> bytes:
    """The signed manifest message: its 376-byte body, then the 64-byte signature."""
    body = manifest.body()
    return body + key.sign(body)


def verify_manifest(message: bytes, public_key: Keys) -> Manifest:
    """Check a signed manifest message and return the manifest.

    The caller still checks the binding: the device id and the sequence number.

    Raises:
        InputError: If it is not 440 bytes with the right magic, the signature does not
            verify with ``public_key`` (raw 32-byte Ed25519 key, or several), or a field
            is malformed.

    """
    return Manifest.from_body(_open_signed(message, KIND_MANIFEST, public_key))


def sign_command(command: Command, key: Ed25519PrivateKey) -> bytes:
    """The signed command message: its 192-byte body, then the 64-byte signature."""
    body = command.body()
    return body + key.sign(body)


def verify_command(message: bytes, public_key: Keys) -> Command:
    """Check a signed command message and return the command.

    Raises:
        InputError: As :func:`verify_manifest`.

    """
    return Command.from_body(_open_signed(message, KIND_COMMAND, public_key))


def peek(message: bytes) -> dict[str, Any]:
    """What an unverified signed message claims (op, seq, device, transfer), for answers.

    Empty for anything that does not look like a signed message. Nothing read here is to
    be trusted: it only lets a refusal name what it refuses.

    >>> peek(b"[]")
    {}
    """
    if not isinstance(message, bytes | bytearray) or len(message) < _HEADER.size + 16:
        return {}
    try:
        magic, kind, op, _, _, seq, device = _HEADER.unpack_from(message)
        if magic != SIGNED_MAGIC:
            return {}
        transfer = bytes(message[_HEADER.size : _HEADER.size + 16]).rstrip(b"\0")
        return {
            "kind": kind,
            "op": _OP_NAMES.get(op) if kind == KIND_COMMAND else None,
            "seq": seq,
            "device": device.rstrip(b"\0").decode(errors="replace"),
            "transfer": transfer.decode(errors="replace"),
        }
    except struct.error:  # pragma: no cover - the length is checked above
        return {}


def key_id(public_key: bytes) -> str:
    """A short name of a public key: the first 16 hex digits of its SHA-256.

    >>> key_id(bytes(32))
    '66687aadf862bd77'
    """
    return hashlib.sha256(public_key).hexdigest()[:16]


def generate_key() -> Ed25519PrivateKey:
    """A new Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key of a signing key."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """Read a PEM (PKCS#8) Ed25519 private key, creating it (mode 0600) if absent.

    Raises:
        ConfigError: If the file exists but is not an Ed25519 private key.

    """
    if path.is_file():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{path}: not a PEM private key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"{path}: not an Ed25519 private key")
        return key
    key = generate_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key


def write_public_key(key: Ed25519PrivateKey, path: Path) -> None:
    """Write the public half as PEM (SubjectPublicKeyInfo), for devices."""
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path.write_bytes(pem)


def load_public_key(path: Path) -> bytes:
    """Read a device's trusted public key (PEM or raw 32 bytes) as raw bytes.

    Raises:
        ConfigError: If it is neither.

    """
    data = path.read_bytes()
    if len(data) == 32:
        return data
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise ConfigError(f"{path}: not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path}: not an Ed25519 public key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def transfer_field(transfer: str) -> bytes:
    """The transfer id as it appears in a chunk frame (16 bytes, NUL-padded).

    Raises:
        InputError: If the id is longer than 16 bytes.

    """
    raw = transfer.encode()
    if len(raw) > 16:
        raise InputError("transfer id longer than 16 bytes")
    return raw.ljust(16, b"\0")


def pack_chunk(transfer: str | bytes, index: int, data: bytes, crc: int | None = None) -> bytes:
    """One chunk frame: magic, transfer id, index, CRC-32 (big-endian), then the data.

    ``transfer`` may be given as :func:`transfer_field` bytes, and ``crc`` as the data's
    CRC-32 when the sender already knows it (an image sent to many devices is checksummed
    once).
    """
    field = transfer if isinstance(transfer, bytes) else transfer_field(transfer)
    header = _CHUNK_HEADER.pack(
        _CHUNK_MAGIC, field, index, zlib.crc32(data) if crc is None else crc
    )
    return header + data


def unpack_chunk(frame: bytes) -> tuple[str, int, bytes]:
    """Read a chunk frame.

    Raises:
        InputError: If the frame is short, has the wrong magic, or its CRC does not match.

    """
    if len(frame) < _CHUNK_HEADER.size:
        raise InputError("chunk frame shorter than its header")
    magic, transfer, index, crc = _CHUNK_HEADER.unpack_from(frame)
    if magic != _CHUNK_MAGIC:
        raise InputError("not a chunk frame")
    data = bytes(frame[_CHUNK_HEADER.size :])
    if zlib.crc32(data) != crc:
        raise InputError(f"chunk {index}: CRC mismatch")
    return transfer.rstrip(b"\0").decode(errors="replace"), index, data


def parse_chunk(frame: bytes) -> tuple[bytes, int, int, memoryview]:
    """Read and check a chunk frame without copying its data.

    >>> field, index, crc, data = parse_chunk(pack_chunk("t1", 2, b"data"))
    >>> field == transfer_field("t1"), index, crc == zlib.crc32(b"data"), bytes(data)
    (True, 2, True, b'data')

    Returns:
        The transfer field (16 bytes, see :func:`transfer_field`), the index, the CRC-32
        and a view of the data (whose CRC matched).

    Raises:
        InputError: If the frame is short, has the wrong magic, or its CRC does not match.

    """
    try:
        magic, transfer, index, crc = _CHUNK_HEADER.unpack_from(frame)
    except struct.error as exc:
        raise InputError("chunk frame shorter than its header") from exc
    if magic != _CHUNK_MAGIC:
        raise InputError("not a chunk frame")
    data = memoryview(frame)[_CHUNK_HEADER.size :]
    if zlib.crc32(data) != crc:
        raise InputError(f"chunk {index}: CRC mismatch")
    return transfer, index, crc, data


def encode_bitmap(indices: Iterable[int], count: int) -> str:
    """The set of received chunk indices as a base64 bitmap (bit i of byte i // 8, LSB first)."""
    bits = bytearray((count + 7) // 8)
    for i in indices:
        bits[i >> 3] |= 1 << (i & 7)
    return base64.b64encode(bytes(bits)).decode()


def decode_bitmap(text: str, count: int) -> set[int]:
    """The indices set in a bitmap made by :func:`encode_bitmap`.

    Raises:
        InputError: If ``text`` is not base64.

    """
    try:
        bits = base64.b64decode(text, validate=True)
    except (TypeError, ValueError, binascii.Error) as exc:
        raise InputError("acknowledgement bitmap is not base64") from exc
    return {i for i in range(min(count, len(bits) * 8)) if bits[i >> 3] >> (i & 7) & 1}


def version_key(version: str) -> tuple[int, ...] | None:
    """Numeric parts of a dotted version (``1.2.10`` -> ``(1, 2, 10)``), else ``None``.

    Only versions of this form are ordered; a device compares two of them to refuse a
    downgrade.

    >>> version_key("1.2.10") > version_key("1.2.9")
    True
    >>> version_key("sha256:ab12") is None
    True
    """
    parts = version.strip().lstrip("vV").split(".")
    if not parts or not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)
