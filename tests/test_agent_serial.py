"""The serial framing of the agent's UART: the C codec (core/frame.c) and the Python one
(tinyreg.firmware.framing) on the same vectors, and the C host unit tests of core/frame.c."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from _paths import REPO
from tinyreg.core.errors import InputError
from tinyreg.firmware import framing
from tinyreg.firmware.target import firmware_script


@pytest.fixture(scope="module")
def frame_test() -> Path:
    built = subprocess.run(
        ["bash", str(firmware_script()), "--host-test"], capture_output=True, text=True, cwd=REPO
    )
    assert built.returncode == 0, built.stderr
    binary = Path(built.stdout.strip().splitlines()[-1]).parent / "frame_test"
    assert binary.is_file()
    return binary


def _vectors() -> list[tuple[int, bytes]]:
    rng = random.Random(7)
    out: list[tuple[int, bytes]] = [(framing.MANIFEST, b""), (framing.COMMAND, b"\x00")]
    for n in (1, 2, 253, 254, 255, 508, 509, 1052, framing.MAX_PAYLOAD):
        out.append((framing.CHUNK, bytes(rng.randrange(256) for _ in range(n))))
        out.append((framing.RESULT, bytes(rng.randrange(1, 256) for _ in range(n))))
        out.append((framing.ACK, bytes(n)))
    return out


def test_c_host_unit_tests_pass(frame_test: Path):
    run = subprocess.run([str(frame_test)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout
    assert run.stdout.strip().endswith("0 failures")


def test_python_and_c_encode_the_same_bytes(frame_test: Path):
    for kind, payload in _vectors():
        c = subprocess.run(
            [str(frame_test), "encode", str(kind), payload.hex()],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        wire = framing.encode(kind, payload)
        assert c.stdout.strip() == wire.hex(), (kind, len(payload))
        assert b"\x00" not in wire[:-1] and wire[-1] == 0
        decoder = framing.FrameDecoder()
        assert decoder.feed(wire) == [(kind, payload)]


def test_python_and_c_drop_the_same_torn_and_garbled_frames(frame_test: Path, tmp_path: Path):
    rng = random.Random(11)
    stream = bytearray(b"\x00\x00")  # idle line
    sent = []
    for kind, payload in _vectors():
        wire = bytearray(framing.encode(kind, payload))
        fate = rng.randrange(4)
        if fate == 1 and len(wire) > 3:  # one byte changed (never into a delimiter)
            at = rng.randrange(len(wire) - 1)
            wire[at] = wire[at] ^ 0x5A or 0x77
        elif fate == 2 and len(wire) > 3:  # torn: the tail lost, the delimiter arrives
            wire = wire[: rng.randrange(1, len(wire) - 1)] + b"\x00"
        elif fate == 3 and len(wire) > 3:  # torn: the head lost
            wire = wire[rng.randrange(1, len(wire) - 1) :]
        else:
            sent.append((kind, payload))
        stream += wire
    stream += bytes(rng.randrange(1, 256) for _ in range(3 * framing.MAX_PAYLOAD)) + b"\x00"
    stream += framing.encode(framing.STATUS, b'{"ok":true}')
    sent.append((framing.STATUS, b'{"ok":true}'))
    (tmp_path / "stream.bin").write_bytes(bytes(stream))
    c = subprocess.run(
        [str(frame_test), "decode", str(tmp_path / "stream.bin")],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    lines = c.stdout.splitlines()
    c_frames = [(int(k), bytes.fromhex(h)) for _, k, h in (ln.split(" ") for ln in lines[:-1])]
    decoder = framing.FrameDecoder()
    py_frames = []
    for at in range(0, len(stream), 97):  # arbitrary read sizes
        py_frames += decoder.feed(bytes(stream[at : at + 97]))
    assert py_frames == c_frames
    # every good frame arrived; a damaged one may be lost only if it was damaged
    assert all(f in py_frames for f in sent)
    counters = lines[-1].split(" ")
    assert [int(x) for x in counters[1:]] == [
        decoder.frames,
        decoder.dropped_crc,
        decoder.dropped_format,
    ]
    assert decoder.dropped >= 1 and decoder.frames == len(py_frames)


def test_python_encoder_refuses_what_the_agent_cannot_hold():
    with pytest.raises(InputError):
        framing.encode(framing.CHUNK, bytes(framing.MAX_PAYLOAD + 1))
    with pytest.raises(InputError):
        framing.encode(256, b"")
