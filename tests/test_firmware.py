"""The virtual microcontroller on its own: limits from TDs, slots, state, refusals.

The device is driven directly through its message handler (the fleet's MQTT transport is
exercised in test_deploy.py); the interpreter is the real TFLite Micro one.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _paths import KG_DATA, REPO
from tinyreg.core.errors import InputError
from tinyreg.core.protocol import (
    Manifest,
    decode_bitmap,
    generate_key,
    pack_chunk,
    public_key_bytes,
    sign_manifest,
    verify_manifest,
)
from tinyreg.firmware.device import VirtualDevice, check_image
from tinyreg.firmware.fleet import ImageChecker, image_checker, replicate
from tinyreg.registry import measure_arena
from tinyreg.registry.limits import device_limits

NANO = KG_DATA / "devices" / "arduino-nano-33-ble-sense.td.jsonld"
KWS = (KG_DATA / "models" / "kws-dscnn-int8.tflite").read_bytes()
GESTURE = (KG_DATA / "models" / "gesture-cnn-int8.tflite").read_bytes()
KEY = generate_key()


class Twin:
    """The device's messages, kept in memory instead of going to a broker."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, leaf: str, payload: bytes, qos: int, retain: bool) -> None:
        self.sent.append((leaf, json.loads(payload)))

    def last(self, leaf: str) -> dict[str, Any]:
        return [body for got, body in self.sent if got == leaf][-1]


def _manifest(data: bytes, model: str, version: str = "1", chunk: int = 512) -> Manifest:
    arena = measure_arena(data).arena_bytes
    assert arena is not None
    return Manifest(
        model,
        version,
        len(data),
        hashlib.sha256(data).hexdigest(),
        arena,
        "tflite-micro",
        "x",
        chunk,
        -(-len(data) // chunk),
        f"{model[:8]}-{version}",
        window=4,
    )


def _device(
    tmp_path: Path, td: Path | dict[str, Any] = NANO, check: ImageChecker | None = None
) -> tuple[VirtualDevice, Twin]:
    twin = Twin()
    device = VirtualDevice(
        device_limits(td), tmp_path / "dev", public_key_bytes(KEY), twin, check=check
    )
    device.boot()
    return device, twin


def _send(device: VirtualDevice, data: bytes, manifest: Manifest, upto: int | None = None) -> None:
    device.handle("manifest", sign_manifest(manifest, KEY))
    for i in range(manifest.chunks if upto is None else upto):
        chunk = data[i * manifest.chunk_size : (i + 1) * manifest.chunk_size]
        device.handle("chunk", pack_chunk(manifest.transfer, i, chunk))


def test_limits_come_from_the_thing_description() -> None:
    limits = device_limits(NANO)
    assert limits.device == "urn:tinyreg:device:arduino-nano-33-ble-sense"
    assert limits.runtime == "tflite-micro" and limits.runtime_ram_overhead == 3492
    assert limits.arena_budget == 262_144 - 65_536 - 3_492
    assert limits.slot_bytes == (1_048_576 - 188_416) // 2
    ids = [d.device for d in replicate(limits, 3)]
    assert ids == [f"{limits.device}-{n}" for n in (1, 2, 3)]


def test_a_tampered_manifest_does_not_verify() -> None:
    signed = json.loads(sign_manifest(_manifest(GESTURE, "g"), KEY))
    signed["manifest"]["arena_bytes"] += 1
    with pytest.raises(InputError, match="signature"):
        verify_manifest(json.dumps(signed).encode(), public_key_bytes(KEY))


def test_install_commit_and_reboot_on_the_committed_model(tmp_path: Path) -> None:
    device, twin = _device(tmp_path)
    assert device.status.model is None
    _send(device, GESTURE, _manifest(GESTURE, "gesture"))
    result = twin.last("result")
    assert result["outcome"] == "committed" and result["inference_ms"] > 0
    assert device.status.model == "gesture" and device.status.state == "idle"
    state = json.loads((tmp_path / "dev" / "state.json").read_text())
    assert state["slot"] == "a" and not (tmp_path / "dev" / "transfer.json").exists()
    # the next image goes to the other slot; the first stays intact
    _send(device, KWS, _manifest(KWS, "kws"))
    assert twin.last("result")["outcome"] == "committed"
    assert json.loads((tmp_path / "dev" / "state.json").read_text())["slot"] == "b"
    assert (tmp_path / "dev" / "slot-a.bin").read_bytes()[: len(GESTURE)] == GESTURE
    again, _ = _device(tmp_path)
    assert again.status.model == "kws" and again.status.boots == 1


def test_a_corrupt_active_slot_is_not_run_after_reboot(tmp_path: Path) -> None:
    device, _ = _device(tmp_path)
    _send(device, GESTURE, _manifest(GESTURE, "gesture"))
    slot = tmp_path / "dev" / "slot-a.bin"
    data = bytearray(slot.read_bytes())
    data[100] ^= 0xFF
    slot.write_bytes(bytes(data))
    again, twin = _device(tmp_path)
    assert again.status.model is None and "corrupt" in (again.status.last_error or "")
    assert twin.last("status")["model"] is None


def test_resume_drops_chunks_torn_by_a_power_loss(tmp_path: Path) -> None:
    device, _ = _device(tmp_path)
    manifest = _manifest(KWS, "kws", chunk=1024)
    _send(device, KWS, manifest, upto=9)
    text = (tmp_path / "dev" / "transfer.log").read_bytes()
    lines = text.rstrip(b"\0").decode().splitlines()  # the log is preallocated, NUL-padded
    # logged up to the last acknowledgement (window 4): chunk 8 is written but not logged
    assert [int(line.split()[0]) for line in lines] == list(range(8))
    with (tmp_path / "dev" / "transfer.log").open("r+b") as torn:  # a line cut by the power loss
        torn.seek(len(text.rstrip(b"\0")))
        torn.write(b"8 12")
    with (tmp_path / "dev" / "slot-a.bin").open("r+b") as image:  # chunk 2 half written
        image.seek(2 * 1024 + 10)
        image.write(b"\0" * 100)
    again, twin = _device(tmp_path)
    again.handle("manifest", sign_manifest(manifest, KEY))
    ack = twin.last("ack")
    assert ack["count"] == 7  # 0..7 without the torn chunk 2; 8 was never logged
    assert 2 not in decode_bitmap(ack["have"], manifest.chunks)
    for i in range(manifest.chunks):
        chunk = KWS[i * 1024 : (i + 1) * 1024]
        again.handle("chunk", pack_chunk(manifest.transfer, i, chunk))
    assert twin.last("result")["outcome"] == "committed"


def test_firmware_without_an_operator_refuses_the_model(tmp_path: Path) -> None:
    td = json.loads(NANO.read_text())
    td["runtime"]["operators"] = ["FULLY_CONNECTED", "SOFTMAX"]
    device, twin = _device(tmp_path, td)
    _send(device, KWS, _manifest(KWS, "kws"))
    result = twin.last("result")
    assert result["outcome"] == "rolled_back" and result["stage"] == "load"
    assert "does not register" in result["reason"] and "CONV_2D" in result["reason"]
    assert device.status.model is None


def test_an_arena_smaller_than_the_model_needs_fails_the_load(tmp_path: Path) -> None:
    device, twin = _device(tmp_path)
    _send(device, GESTURE, _manifest(GESTURE, "gesture"))
    lying = _manifest(KWS, "kws")
    lying = Manifest(**{**lying.__dict__, "arena_bytes": 2000, "transfer": "lying"})
    _send(device, KWS, lying)
    result = twin.last("result")
    assert result["outcome"] == "rolled_back" and result["stage"] == "load"
    assert device.status.model == "gesture"


def test_crc_of_a_chunk_frame_covers_the_data() -> None:
    frame = bytearray(pack_chunk("t", 1, b"abc"))
    assert zlib.crc32(b"abc") == int.from_bytes(frame[24:28], "big")
    frame[-1] ^= 1
    with pytest.raises(InputError, match="CRC"):
        from tinyreg.core.protocol import unpack_chunk

        unpack_chunk(bytes(frame))


def test_the_resource_variable_count_is_the_runtimes() -> None:
    from tflite_micro.python.tflite_micro import runtime

    from tinyreg.firmware.device import _resource_variables

    for image in (KWS, GESTURE):
        assert _resource_variables(image) == runtime.count_resource_variables(image)


# ------------------------------------------------------------------------ worker processes


@pytest.fixture(scope="module")
def checker() -> Iterator[ImageChecker]:
    made = ImageChecker(1)
    yield made
    made.close()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_worker_process_self_tests_and_the_device_commits_and_answers(
    tmp_path: Path, checker: ImageChecker
) -> None:
    device, twin = _device(tmp_path, check=checker)
    _send(device, GESTURE, _manifest(GESTURE, "gesture"))
    result = twin.last("result")
    assert result["outcome"] == "committed", result
    assert result["load_ms"] > 0 and result["inference_ms"] > 0
    assert json.loads((tmp_path / "dev" / "state.json").read_text())["model"] == "gesture"
    # the interpreter that answers is built in this process on the first inference
    device.handle("cmd", b'{"op": "infer", "id": 1}')
    answer = twin.last("inference")
    assert answer["model"] == "gesture" and answer["latency_ms"] > 0 and answer["outputs"]
    _send(device, KWS, _manifest(KWS, "kws", version="2"))
    assert twin.last("result")["outcome"] == "committed"
    device.handle("cmd", b'{"op": "infer", "id": 2}')
    assert twin.last("inference")["model"] == "kws"  # the previous interpreter is gone
    again, _ = _device(tmp_path)  # a reboot loads the committed model in its own process
    assert again.status.model == "kws"


def test_a_worker_refusal_keeps_the_previous_model(tmp_path: Path, checker: ImageChecker) -> None:
    device, twin = _device(tmp_path, check=checker)
    _send(device, GESTURE, _manifest(GESTURE, "gesture"))
    lying = _manifest(KWS, "kws")
    lying = Manifest(**{**lying.__dict__, "arena_bytes": 2000, "transfer": "lying"})
    _send(device, KWS, lying)
    result = twin.last("result")
    assert result["outcome"] == "rolled_back" and result["stage"] == "load", result
    assert result["reason"] and result["running"] == "gesture"
    assert json.loads((tmp_path / "dev" / "state.json").read_text())["model"] == "gesture"
    device.handle("cmd", b'{"op": "infer", "id": 1}')
    assert twin.last("inference")["model"] == "gesture"


def test_check_image_tests_the_bytes_it_reads(tmp_path: Path) -> None:
    slot = tmp_path / "slot-a.bin"
    slot.write_bytes(GESTURE + b"\0" * 100)  # a slot is longer than its image
    arena = _manifest(GESTURE, "g").arena_bytes
    digest = hashlib.sha256(GESTURE).hexdigest()
    outcome, load_ms, inference_ms = check_image(str(slot), len(GESTURE), digest, arena, 2, "d")
    assert outcome == "ok" and load_ms > 0 and inference_ms > 0
    changed = check_image(str(slot), len(GESTURE), "0" * 64, arena, 2, "d")
    assert changed[:2] == ("refused", "verify")
    assert check_image(str(tmp_path / "none"), 1, digest, arena, 2, "d")[:2] == ("refused", "load")


def test_a_dead_worker_is_replaced(tmp_path: Path) -> None:
    made = ImageChecker(1)
    try:
        (first,) = made.pids
        os.kill(first, signal.SIGKILL)
        device, twin = _device(tmp_path, check=made)
        _send(device, GESTURE, _manifest(GESTURE, "gesture"))
        assert twin.last("result")["outcome"] == "committed"
        assert made.pids and first not in made.pids
    finally:
        made.close()


def test_no_workers_checks_in_the_fleet_process() -> None:
    assert image_checker(0) is None
    started = image_checker(1)
    assert started is not None and len(started.pids) == 1
    started.close()


def test_worker_processes_die_with_the_fleet_process() -> None:
    code = (
        "import sys, time\n"
        "from tinyreg.firmware.fleet import ImageChecker\n"
        "checker = ImageChecker(2)\n"
        "print(*checker.pids, flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    os.kill(proc.pid, signal.SIGKILL)  # a power loss: no shutdown code runs
    proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)
