"""Frames of the agent's serial line: COBS(kind || payload || CRC-32) and a 0x00 delimiter.

The same framing as the agent's ``core/frame.c`` (see ``firmware/PROTOCOL.md``, *Serial
transport*): the CRC-32 is zlib's over kind and payload, big-endian; COBS removes every zero
byte, so a receiver resynchronises at the next delimiter after a torn or garbled frame, which
is dropped and counted (:class:`FrameDecoder`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from tinyreg.core.errors import InputError

MAX_PAYLOAD = 2048
"""The largest payload the agent's decoder holds (``TR_FRAME_MAX_PAYLOAD``)."""

MANIFEST, COMMAND, CHUNK = 0x01, 0x02, 0x03
ACK, RESULT, STATUS, INFERENCE, LOG = 0x11, 0x12, 0x13, 0x14, 0x15

INBOUND: dict[str, int] = {"manifest": MANIFEST, "cmd": COMMAND, "chunk": CHUNK}
"""Host-to-device kinds by the MQTT topic leaf the bridge reads them from."""
OUTBOUND: dict[int, str] = {ACK: "ack", RESULT: "result", STATUS: "status", INFERENCE: "inference"}
"""Device-to-host kinds by the topic leaf the bridge publishes them on."""


def _cobs(data: bytes) -> bytes:
    out = bytearray([0])
    code_at = 0
    for byte in data:
        if byte == 0:
            out[code_at] = len(out) - code_at
            code_at = len(out)
            out.append(0)
            continue
        out.append(byte)
        if len(out) - code_at == 0xFF:  # a full block: 254 data bytes, no zero implied
            out[code_at] = 0xFF
            code_at = len(out)
            out.append(0)
    out[code_at] = len(out) - code_at
    return bytes(out)


def encode(kind: int, payload: bytes) -> bytes:
    """One frame on the wire, with its trailing delimiter.

    Raises:
        InputError: the kind is not a byte or the payload is longer than :data:`MAX_PAYLOAD`.

    """
    if not 0 <= kind <= 0xFF:
        raise InputError(f"frame kind {kind} is not a byte")
    if len(payload) > MAX_PAYLOAD:
        raise InputError(f"frame payload of {len(payload)} B is over the {MAX_PAYLOAD} B limit")
    body = bytes([kind]) + payload
    return _cobs(body + zlib.crc32(body).to_bytes(4, "big")) + b"\x00"


@dataclass
class FrameDecoder:
    """A streaming decoder: bytes in, good frames out; bad frames dropped and counted."""

    frames: int = 0
    dropped_crc: int = 0
    dropped_format: int = 0
    _pending: bytearray = field(default_factory=bytearray, repr=False)

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Feed received bytes; returns the good frames they complete as ``(kind, payload)``."""
        out: list[tuple[int, bytes]] = []
        for byte in data:
            if byte != 0:
                if len(self._pending) <= 2 * (MAX_PAYLOAD + 5):  # else: overlong, dropped
                    self._pending.append(byte)
                continue
            raw, self._pending = bytes(self._pending), bytearray()
            if raw:
                frame = self._frame(raw)
                if frame is not None:
                    out.append(frame)
        return out

    def _frame(self, raw: bytes) -> tuple[int, bytes] | None:
        body = bytearray()
        i = 0
        while i < len(raw):
            code = raw[i]
            block = raw[i + 1 : i + code]
            if len(block) != code - 1:
                self.dropped_format += 1  # a block cut by the delimiter
                return None
            body += block
            i += code
            if code != 0xFF and i < len(raw):
                body.append(0)
        if len(body) < 5 or len(body) > MAX_PAYLOAD + 5:
            self.dropped_format += 1
            return None
        if zlib.crc32(body[:-4]) != int.from_bytes(body[-4:], "big"):
            self.dropped_crc += 1
            return None
        self.frames += 1
        return body[0], bytes(body[1:-4])

    @property
    def dropped(self) -> int:
        """Frames dropped for any reason."""
        return self.dropped_crc + self.dropped_format
