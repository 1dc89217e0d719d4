"""The over-the-air update protocol, shared by the deployer and the device runtime.

See ``firmware/PROTOCOL.md`` for the full description. This module holds what both ends
must agree on: topic names, the signed manifest, the chunk frame, the acknowledgement
bitmap, and the Ed25519 keys.

>>> key = generate_key()
>>> manifest = Manifest("hello-world", "1.0", 2472, "ab" * 32, 1936, "tflite-micro",
...     "0.dev1", 1024, 3, "t1")
>>> signed = sign_manifest(manifest, key)
>>> verify_manifest(signed, public_key_bytes(key)) == manifest
True
>>> frame = pack_chunk("t1", 2, b"data")
>>> unpack_chunk(frame)
('t1', 2, b'data')
>>> sorted(decode_bitmap(encode_bitmap({0, 2, 9}, 10), 10))
[0, 2, 9]
"""

from __future__ import annotations

import base64
import json
import os
import struct
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
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
    "DEFAULT_CHUNK_SIZE",
    "QOS_CHUNK",
    "QOS_CONTROL",
    "TOPIC_ROOT",
    "Manifest",
    "decode_bitmap",
    "device_key",
    "device_topic",
    "encode_bitmap",
    "generate_key",
    "load_or_create_key",
    "load_public_key",
    "pack_chunk",
    "parse_chunk",
    "public_key_bytes",
    "sign_manifest",
    "topic_device",
    "transfer_field",
    "unpack_chunk",
    "verify_manifest",
    "version_key",
    "write_public_key",
]

PROTOCOL_VERSION = 1
TOPIC_ROOT = "tinyreg/ota/v1"
DEFAULT_CHUNK_SIZE = 1024
# Control messages (manifest, commands, acknowledgements, results, status) must arrive:
# QoS 1. Chunks are covered end to end by the device's acknowledgement bitmap and the
# deployer's retransmission, which also survives a broker restart; QoS 0 avoids a
# second, per-hop acknowledgement for every chunk.
QOS_CONTROL = 1
QOS_CHUNK = 0

_CHUNK_MAGIC = b"TRC1"
_CHUNK_HEADER = struct.Struct(">4s16sII")  # magic, transfer id, index, CRC-32 of the data


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
    """What is sent, signed by the registry's key.

    Attributes:
        model: The model id.
        version: The model version.
        size: The image size in bytes.
        sha256: The image's SHA-256, hex.
        arena_bytes: The tensor arena the registry measured with the runtime.
        runtime: The runtime the image targets (e.g. ``tflite-micro``).
        runtime_version: The runtime release the arena was measured with.
        chunk_size: Bytes per chunk (the last one may be shorter).
        chunks: Number of chunks.
        transfer: The transfer id (up to 16 ASCII characters; a resumed deployment
            reuses it).
        window: The device acknowledges every ``window`` chunks.
        force: Install even if it is a downgrade.

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
    protocol: int = PROTOCOL_VERSION

    def canonical(self) -> bytes:
        """The bytes the signature covers (sorted-key compact JSON)."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        """Read a manifest from its JSON object.

        Raises:
            InputError: If a field is missing or of the wrong type.

        """
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                if f.name in ("window", "force", "protocol"):
                    continue
                raise InputError(f"manifest lacks {f.name!r}")
            values[f.name] = data[f.name]
        try:
            manifest = cls(**values)
        except TypeError as exc:  # pragma: no cover - fields are checked above
            raise InputError(str(exc)) from exc
        kinds = {"size": int, "arena_bytes": int, "chunk_size": int, "chunks": int}
        for name, kind in kinds.items():
            if not isinstance(getattr(manifest, name), kind) or getattr(manifest, name) < 0:
                raise InputError(f"manifest field {name!r} is not a non-negative integer")
        if manifest.chunk_size <= 0 or manifest.chunks != -(-manifest.size // manifest.chunk_size):
            raise InputError("manifest chunk count does not match size and chunk size")
        if len(manifest.transfer.encode()) > 16:
            raise InputError("manifest transfer id longer than 16 bytes")
        return manifest


def sign_manifest(manifest: Manifest, key: Ed25519PrivateKey) -> bytes:
    """The signed manifest message: ``{"manifest": {...}, "signature": base64}``."""
    signature = key.sign(manifest.canonical())
    body = {"manifest": asdict(manifest), "signature": base64.b64encode(signature).decode()}
    return json.dumps(body, separators=(",", ":")).encode()


def verify_manifest(message: bytes, public_key: bytes) -> Manifest:
    """Check a signed manifest message and return the manifest.

    Raises:
        InputError: If it is not JSON, lacks a signature, or the signature does not
            verify with ``public_key`` (raw 32-byte Ed25519 key).

    """
    try:
        body = json.loads(message)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"manifest is not JSON: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("manifest"), dict):
        raise InputError("message holds no manifest")
    manifest = Manifest.from_dict(body["manifest"])
    signature = body.get("signature")
    if not signature:
        raise InputError("manifest is not signed")
    try:
        raw = base64.b64decode(signature, validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(raw, manifest.canonical())
    except (InvalidSignature, ValueError) as exc:
        raise InputError("manifest signature does not verify with the device's key") from exc
    return manifest


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
    """The indices set in a bitmap made by :func:`encode_bitmap`."""
    bits = base64.b64decode(text)
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
