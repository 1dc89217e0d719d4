"""The serial framing of the agent's UART: the C codec (core/frame.c) and the Python one
(tinyreg.firmware.framing) on the same vectors, the C host unit tests of core/frame.c, and the
serial bridge (tinyreg.firmware.bridge) between a line and a real mosquitto."""

from __future__ import annotations

import queue
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _mosquitto import Mosquitto

from _paths import REPO
from tinyreg.core.errors import InputError
from tinyreg.core.mqtt import Connection
from tinyreg.core.protocol import QOS_CONTROL, device_topic
from tinyreg.firmware import framing
from tinyreg.firmware.bridge import Bridge, line_opener
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


def _frames_from(sock: socket.socket, want: int, timeout: float = 10.0) -> list[tuple[int, bytes]]:
    decoder = framing.FrameDecoder()
    frames: list[tuple[int, bytes]] = []
    sock.settimeout(timeout)
    while len(frames) < want:
        data = sock.recv(4096)
        assert data, "the bridge closed the line"
        frames += decoder.feed(data)
    return frames


def test_bridge_relays_both_ways_and_counts_what_it_drops(tmp_path: Path):
    device = "urn:tinyreg:device:serial-x"
    broker = Mosquitto(tmp_path / "mosquitto").start()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)
    seen: queue.Queue[tuple[str, bytes]] = queue.Queue()
    spy = Connection(
        broker.url,
        [(device_topic(device, leaf), QOS_CONTROL) for leaf in ("status", "result", "ack")],
        lambda topic, payload: seen.put((topic, payload)),
        name="spy",
    )
    port = server.getsockname()[1]
    bridge = Bridge(broker.url, device, line_opener(f"tcp:127.0.0.1:{port}"))
    try:
        spy.start()
        bridge.start()
        board, _ = server.accept()
        # device -> host: a garbled frame, a torn one, an answer that is not JSON, a frame of
        # no kind, then a good status: only the status is published
        status = b'{"device":"urn:tinyreg:device:serial-x","state":"idle"}'
        garbled = bytearray(framing.encode(framing.RESULT, b'{"a":1}'))
        garbled[3] ^= 0x40
        board.sendall(
            bytes(garbled)
            + framing.encode(framing.ACK, b'{"transfer":"t"}')[5:]
            + framing.encode(framing.RESULT, b"not json")
            + framing.encode(0x7F, b"{}")
            + framing.encode(framing.STATUS, status)
        )
        assert seen.get(timeout=10) == (device_topic(device, "status"), status)
        # host -> device: a message too long for a frame is dropped; the others arrive as
        # frames of their topic's kind, in order
        spy.publish(device_topic(device, "chunk"), bytes(framing.MAX_PAYLOAD + 1), 0)
        spy.publish(device_topic(device, "manifest"), b"M" * 440, QOS_CONTROL)
        spy.publish(device_topic(device, "cmd"), b"C" * 256, QOS_CONTROL)
        assert _frames_from(board, 2) == [
            (framing.MANIFEST, b"M" * 440),
            (framing.COMMAND, b"C" * 256),
        ]
        deadline = time.monotonic() + 10
        while bridge.counters.frames_dropped < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        c = bridge.counters
        assert (c.frames_dropped, c.answers_dropped, c.messages_dropped) == (2, 2, 1), c
        # the line closes (the device resets): the bridge opens it again and goes on
        board.close()
        board, _ = server.accept()
        board.sendall(framing.encode(framing.RESULT, b'{"seq":1}'))
        assert seen.get(timeout=10) == (device_topic(device, "result"), b'{"seq":1}')
        assert bridge.counters.reconnects == 1
        board.close()
    finally:
        bridge.stop()
        spy.stop()
        server.close()
        broker.stop()


def test_device_bridge_command(tmp_path: Path):
    device = "urn:tinyreg:device:serial-cli"
    broker = Mosquitto(tmp_path / "mosquitto").start()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(20)
    seen: queue.Queue[bytes] = queue.Queue()
    spy = Connection(
        broker.url, [(device_topic(device, "status"), QOS_CONTROL)], lambda _t, p: seen.put(p)
    )
    port = server.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "tinyreg.registry.cli", "device", "bridge",
            "--serial", f"tcp:127.0.0.1:{port}", "--device", device, "--broker", broker.url,
        ],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        spy.start()
        board, _ = server.accept()
        board.sendall(b"\x07torn\x00" + framing.encode(framing.STATUS, b'{"state":"idle"}'))
        assert seen.get(timeout=20) == b'{"state":"idle"}'
        board.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
        spy.stop()
        server.close()
        broker.stop()
    assert out.startswith(f"ready: {device}"), out
    assert "1 from it; dropped: 1 garbled" in out, out
