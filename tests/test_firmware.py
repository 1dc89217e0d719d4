"""The virtual microcontroller on its own: limits from TDs, slots, state, refusals.

The device is driven directly through its message handler (the fleet's MQTT transport is
exercised in test_deploy.py); the interpreter is the real TFLite Micro one.
"""

from __future__ import annotations

import hashlib
import itertools
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
    Command,
    Manifest,
    decode_bitmap,
    generate_key,
    pack_chunk,
    public_key_bytes,
    sign_command,
    sign_manifest,
    verify_command,
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
NANO_ID = "urn:tinyreg:device:arduino-nano-33-ble-sense"
SEQ = itertools.count(1)  # the registry's sequence numbers, increasing as a deployer's


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
        device=NANO_ID,
        seq=next(SEQ),
    )


def _cmd(op: str, device: str = NANO_ID, **fields: Any) -> bytes:
    return sign_command(Command(op, device, next(SEQ), **fields), KEY)


def _device(
    tmp_path: Path, td: Path | dict[str, Any] = NANO, check: ImageChecker | None = None
) -> tuple[VirtualDevice, Twin]:
    twin = Twin()
    device = VirtualDevice(
        device_limits(td), tmp_path / "dev", public_key_bytes(KEY), twin, check=check
    )
    device.boot()
    return device, twin


def _state(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "dev" / "state.json").read_text())


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
    signed = bytearray(sign_manifest(_manifest(GESTURE, "g"), KEY))
    signed[199] ^= 0x01  # arena_bytes, bytes 196-199
    with pytest.raises(InputError, match="signature"):
        verify_manifest(bytes(signed), public_key_bytes(KEY))


def test_install_commit_and_reboot_on_the_committed_model(tmp_path: Path) -> None:
    device, twin = _device(tmp_path)
    assert device.status.model is None
    _send(device, GESTURE, _manifest(GESTURE, "gesture"))
    result = twin.last("result")
    assert result["outcome"] == "committed" and result["inference_ms"] > 0
    assert device.status.model == "gesture" and device.status.state == "idle"
    state = json.loads((tmp_path / "dev" / "state.json").read_text())["committed"]
    assert state["slot"] == "a" and not (tmp_path / "dev" / "transfer.json").exists()
    # the next image goes to the other slot; the first stays intact
    _send(device, KWS, _manifest(KWS, "kws"))
    assert twin.last("result")["outcome"] == "committed"
    assert json.loads((tmp_path / "dev" / "state.json").read_text())["committed"]["slot"] == "b"
    assert (tmp_path / "dev" / "slot-a.bin").read_bytes()[: len(GESTURE)] == GESTURE
    again, _ = _device(tmp_path)
    assert again.status.model == "kws" and again.status.boots == 2  # counted across restarts


def test_a_commit_cut_by_a_restart_ends_in_a_verdict(tmp_path: Path) -> None:
    # the power goes when every chunk is held, before the commit ran (the deferred work is lost)
    cut = VirtualDevice(
        device_limits(NANO), tmp_path / "dev", public_key_bytes(KEY), Twin(), defer=lambda _: None
    )
    cut.boot()
    manifest = _manifest(GESTURE, "gesture")
    _send(cut, GESTURE, manifest)
    assert cut.status.state == "loading" and cut.status.model is None
    # the restarted device finds the complete transfer and commits it at boot, with its verdict
    device, twin = _device(tmp_path)
    result = twin.last("result")
    assert result["outcome"] == "committed" and result["seq"] == manifest.seq, result
    assert result["reason"] == "committed at the boot after a reset during the commit"
    assert device.status.model == "gesture" and device.status.boots == 2
    # the verdict lost after the commit: a sync naming the transfer gets it again, with the
    # figures of the running model; a transfer it never had is still unknown
    again, twin = _device(tmp_path)
    assert again.status.boots == 3 and not [leaf for leaf, _ in twin.sent if leaf == "result"]
    again.handle("cmd", _cmd("sync", transfer=manifest.transfer))
    verdict = twin.last("result")
    assert verdict["outcome"] == "committed" and verdict["transfer"] == manifest.transfer
    assert verdict["seq"] == manifest.seq and verdict["model"] == "gesture", verdict
    assert verdict["load_ms"] == again.status.load_ms and verdict["inference_ms"] > 0
    again.handle("cmd", _cmd("sync", transfer="never-sent"))
    assert twin.last("ack") == {"transfer": "never-sent", "unknown": True}


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
    assert _state(tmp_path)["committed"]["model"] == "gesture"
    # the interpreter that answers is built in this process on the first inference
    device.handle("cmd", _cmd("infer"))
    answer = twin.last("inference")
    assert answer["model"] == "gesture" and answer["latency_ms"] > 0 and answer["outputs"]
    _send(device, KWS, _manifest(KWS, "kws", version="2"))
    assert twin.last("result")["outcome"] == "committed"
    device.handle("cmd", _cmd("infer"))
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
    assert _state(tmp_path)["committed"]["model"] == "gesture"
    device.handle("cmd", _cmd("infer"))
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


# ------------------------------------------------------------------------ protocol version 2


def _answers(twin: Twin, leaf: str = "result") -> list[dict[str, Any]]:
    return [body for got, body in twin.sent if got == leaf]


def test_a_recorded_manifest_replayed_later_is_refused(tmp_path: Path) -> None:
    device, twin = _device(tmp_path)
    old = _manifest(GESTURE, "gesture", version="1")
    _send(device, GESTURE, old)
    _send(device, KWS, _manifest(KWS, "kws", version="2"))
    assert device.status.model == "kws"
    replayed = Manifest(**{**old.__dict__, "force": True})  # even one that allows downgrades
    for message in (sign_manifest(old, KEY), sign_manifest(replayed, KEY)):
        device.handle("manifest", message)
        refusal = twin.last("result")
        assert refusal["outcome"] == "rolled_back" and "replay" in refusal["reason"]
        assert refusal["last_seq"] == device.status.seq > old.seq
    assert device.status.model == "kws" and device.status.rejected_messages == 2
    # the sequence number is kept across a restart (power loss) with the committed state
    again, twin = _device(tmp_path)
    assert again.status.seq == device.status.seq
    again.handle("manifest", sign_manifest(old, KEY))
    assert "replay" in twin.last("result")["reason"] and again.status.model == "kws"


def test_a_manifest_for_another_device_is_refused(tmp_path: Path) -> None:
    device, twin = _device(tmp_path)
    other = Manifest(**{**_manifest(GESTURE, "g").__dict__, "device": "urn:tinyreg:device:b"})
    _send(device, GESTURE, other)
    refusal = twin.last("result")
    assert refusal["stage"] == "manifest" and "another device" in refusal["reason"]
    assert device.status.model is None and not (tmp_path / "dev" / "transfer.json").exists()


def test_unsigned_foreign_and_misdirected_commands_are_refused(tmp_path: Path) -> None:
    device, twin = _device(tmp_path)
    manifest = _manifest(KWS, "kws")
    _send(device, KWS, manifest, upto=3)  # an unfinished transfer to abort
    stranger = generate_key()
    unsigned = Command("abort", NANO_ID, next(SEQ)).body()
    attempts = [
        (sign_command(Command("abort", NANO_ID, next(SEQ)), stranger), "signature"),
        (unsigned + bytes(64), "signature"),
        (unsigned, "not a signed"),
        (_cmd("abort", device="urn:tinyreg:device:b"), "another device"),
    ]
    for message, why in attempts:
        device.handle("cmd", message)
        answer = twin.last("result")
        assert answer["outcome"] == "refused" and why in answer["reason"], answer
        assert answer["op"] == "abort"
    assert device.status.rejected_messages == len(attempts)
    assert (tmp_path / "dev" / "transfer.json").is_file()  # nothing was aborted
    recorded = _cmd("abort")
    device.handle("cmd", recorded)
    assert twin.last("result")["outcome"] == "done"
    assert not (tmp_path / "dev" / "transfer.json").exists()
    # abort changes what the device stores: its number is persisted, a replay refused
    again, twin = _device(tmp_path)
    again.handle("cmd", recorded)
    assert "replay" in twin.last("result")["reason"]


MALFORMED = [
    b"",
    b"[]",
    b'"x"',
    b"{}",
    b"null",
    b"1e999999",
    b"9" * 5000,
    b"[" * 10000,
    b'{"op": "infer", "id": 1}',  # a version 1 command
    b'{"op": ["abort"], "transfer": {"x": 1}}',
    b"\xff\xfe" * 300,
    b"TRS2" + bytes(436),  # the right length and magic, nothing else
    b"TRS2\x02\x07" + bytes(250),  # an unknown op
    b"TRS2\x01\x00" + b"\xff" * 434,  # the right length, fields out of every bound
    pack_chunk("nosuch", 2**32 - 1, b"x" * 70000),
    b"TRC1" + bytes(10),
]


def test_malformed_messages_on_every_topic_are_counted_and_answered(tmp_path: Path) -> None:
    device, twin = _device(tmp_path)
    _send(device, GESTURE, _manifest(GESTURE, "gesture"))
    manifest = _manifest(KWS, "kws")
    _send(device, KWS, manifest, upto=2)  # a transfer under way: chunks are looked at
    before, answered = device.status.rejected_messages, len(_answers(twin))
    for payload in MALFORMED:
        for leaf in ("manifest", "chunk", "cmd", "ack", "status", "nonsense"):
            device.handle(leaf, payload)  # never raises
    counted = device.status.rejected_messages - before
    assert counted >= 2 * len(MALFORMED) + 2  # every manifest and command, malformed chunks
    assert len(_answers(twin)) - answered >= 2 * len(MALFORMED)  # each one answered
    assert all(a["outcome"] in ("rolled_back", "refused") for a in _answers(twin)[answered:])
    # the device still works: it answers, and the transfer goes on to its commit
    device.handle("cmd", _cmd("infer"))
    assert twin.last("inference")["model"] == "gesture"
    device.handle("cmd", _cmd("status"))
    assert twin.last("status")["rejected_messages"] == device.status.rejected_messages
    for i in range(manifest.chunks):
        chunk = KWS[i * manifest.chunk_size : (i + 1) * manifest.chunk_size]
        device.handle("chunk", pack_chunk(manifest.transfer, i, chunk))
    assert twin.last("result")["outcome"] == "committed" and device.status.model == "kws"


def test_a_power_cut_before_the_sequence_is_written_forgets_the_transfer(tmp_path: Path) -> None:
    device, twin = _device(tmp_path)
    manifest = _manifest(KWS, "kws")
    _send(device, KWS, manifest, upto=4)
    state = _state(tmp_path)
    state["seq"] = manifest.seq - 1  # as if the power went between the two writes
    (tmp_path / "dev" / "state.json").write_text(json.dumps(state))
    again, twin = _device(tmp_path)
    assert not (tmp_path / "dev" / "transfer.json").exists()  # never accepted
    again.handle("manifest", sign_manifest(manifest, KEY))  # the deployer's resend: accepted
    assert twin.last("ack")["count"] == 0
    assert _state(tmp_path)["seq"] == manifest.seq


def test_signed_rollback_returns_to_the_previous_image(tmp_path: Path) -> None:
    device, twin = _device(tmp_path)
    device.handle("cmd", _cmd("rollback"))
    assert twin.last("result")["outcome"] == "refused"  # nothing to return to
    _send(device, GESTURE, _manifest(GESTURE, "gesture", version="1"))
    _send(device, KWS, _manifest(KWS, "kws", version="2"))
    wrong = _cmd("rollback", argument=bytes(32 * [1]))
    device.handle("cmd", wrong)
    assert "not 0101" in twin.last("result")["reason"] and device.status.model == "kws"
    back = _cmd("rollback", argument=bytes.fromhex(hashlib.sha256(GESTURE).hexdigest()))
    device.handle("cmd", back)
    answer = twin.last("result")
    assert answer["outcome"] == "done" and answer["model"] == "gesture", answer
    assert answer["inference_ms"] > 0 and device.status.model == "gesture"
    assert _state(tmp_path)["committed"]["slot"] == "a"
    device.handle("cmd", _cmd("infer"))
    assert twin.last("inference")["model"] == "gesture"
    device.handle("cmd", back)  # a replay of the rollback
    assert "replay" in twin.last("result")["reason"]
    again, _ = _device(tmp_path)  # committed: a restart comes back on it
    assert again.status.model == "gesture"
    again.handle("cmd", _cmd("rollback"))  # and forward again: the image it left
    assert again.status.model == "kws"


def test_key_rotation_signed_by_the_current_key_revokes_it(tmp_path: Path) -> None:
    device, twin = _device(tmp_path)
    new, stranger = generate_key(), generate_key()
    device.handle(
        "cmd",
        sign_command(
            Command("rotate-key", NANO_ID, next(SEQ), argument=public_key_bytes(stranger)), stranger
        ),
    )
    assert twin.last("result")["outcome"] == "refused"  # not signed by the current key
    device.handle("cmd", _cmd("rotate-key", argument=public_key_bytes(new)))
    answer = twin.last("result")
    assert answer["outcome"] == "done" and answer["key_id"] == twin.last("status")["key_id"]
    _send(device, GESTURE, _manifest(GESTURE, "gesture"))  # signed by the old key
    assert "signature" in twin.last("result")["reason"] and device.status.model is None
    signed = sign_manifest(_manifest(GESTURE, "gesture"), new)
    device.handle("manifest", signed)
    for i in range(-(-len(GESTURE) // 512)):
        device.handle("chunk", pack_chunk("gesture-1", i, GESTURE[i * 512 : (i + 1) * 512]))
    assert twin.last("result")["outcome"] == "committed"
    # provisioned with the old key again, the device keeps the key it rotated to
    again, twin = _device(tmp_path)
    again.handle("cmd", _cmd("infer"))
    assert "signature" in twin.last("result")["reason"]
    again.handle("cmd", sign_command(Command("infer", NANO_ID, next(SEQ)), new))
    assert twin.last("inference")["model"] == "gesture"


def test_a_recovery_key_takes_a_device_back(tmp_path: Path) -> None:
    recovery, attacker, ours = generate_key(), generate_key(), generate_key()
    twin = Twin()
    device = VirtualDevice(
        device_limits(NANO),
        tmp_path / "dev",
        public_key_bytes(KEY),
        twin,
        recovery_key=public_key_bytes(recovery),
    )
    device.boot()
    # whoever holds the leaked key rotates the device to their own
    device.handle("cmd", _cmd("rotate-key", argument=public_key_bytes(attacker)))
    assert twin.last("result")["outcome"] == "done"
    # the recovery key only rotates; it takes the device back
    infer = sign_command(Command("infer", NANO_ID, next(SEQ)), recovery)
    device.handle("cmd", infer)
    assert twin.last("result")["outcome"] == "refused"
    rotate = Command("rotate-key", NANO_ID, next(SEQ), argument=public_key_bytes(ours))
    device.handle("cmd", sign_command(rotate, recovery))
    assert twin.last("result")["outcome"] == "done"
    device.handle("cmd", sign_command(Command("infer", NANO_ID, next(SEQ)), attacker))
    assert "signature" in twin.last("result")["reason"]


def test_the_protocol_vectors_hold() -> None:
    """The vectors a device agent in another language tests against (PROTOCOL.md)."""
    vectors = json.loads((REPO / "firmware" / "protocol-v2-vectors.json").read_text())
    public = bytes.fromhex(vectors["public_key"])
    assert len(bytes.fromhex(vectors["manifest"]["message"])) == 440
    manifest = verify_manifest(bytes.fromhex(vectors["manifest"]["message"]), public)
    assert manifest == Manifest(**vectors["manifest"]["fields"])
    for entry in vectors["commands"]:
        fields = {**entry["fields"], "argument": bytes.fromhex(entry["fields"]["argument"])}
        assert verify_command(bytes.fromhex(entry["message"]), public) == Command(**fields)
    for entry in vectors["refused"]:
        check = verify_manifest if entry["topic"] == "manifest" else verify_command
        with pytest.raises(InputError):
            check(bytes.fromhex(entry["message"]), public)
