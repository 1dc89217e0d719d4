"""The C agent's OTA protocol version 2 (firmware/agent/core/ota.c), host-tested.

The vectors of ``firmware/protocol-v2-vectors.json`` go to the host test binary as a line format
(``key``, ``device``, ``<manifest|cmd> <name> <hex>``), so the C side needs no JSON parser; every
message must be accepted, or refused with the reason the Python reference gives for it. The
binary's built-in scenarios cover replay after a reboot, another device, fit and downgrade, chunks
(a tampered one among them), commit on trial, key rotation (a new key that is no Ed25519 point
refused), rollback to the recorded previous image, boots counted across resets, chunks
recovered from the transfer log after a reset, and power cuts at every flash operation; a commit
cut at each of its flash operations (or finished with its verdict lost) is followed by the
start-up and the deployer's sync, and must end in a verdict every time.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from _paths import REPO
from tinyreg.core.errors import InputError
from tinyreg.core.protocol import verify_command, verify_manifest
from tinyreg.firmware.target import firmware_script

VECTORS = json.loads((REPO / "firmware" / "protocol-v2-vectors.json").read_text())


@pytest.fixture(scope="module")
def ota_test() -> Path:
    built = subprocess.run(
        ["bash", str(firmware_script()), "--host-test"], capture_output=True, text=True, cwd=REPO
    )
    assert built.returncode == 0, built.stderr
    binary = Path(built.stdout.strip().splitlines()[-1]).parent / "ota_test"
    assert binary.is_file()
    return binary


def _python_reason(topic: str, message: bytes, key: bytes) -> str | None:
    """What the Python reference says of a message (None: accepted)."""
    try:
        if topic == "manifest":
            verify_manifest(message, key)
        else:
            verify_command(message, key)
    except InputError as exc:
        return exc.message
    return None


def test_agent_checks_every_vector_as_the_python_reference(ota_test: Path, tmp_path: Path):
    key = bytes.fromhex(VECTORS["public_key"])
    device = VECTORS["manifest"]["fields"]["device"]
    messages = [("manifest", "manifest", VECTORS["manifest"]["message"])]
    messages += [("cmd", f"command-{c['fields']['op']}", c["message"]) for c in VECTORS["commands"]]
    messages += [
        (r["topic"], f"refused-{i}", r["message"]) for i, r in enumerate(VECTORS["refused"])
    ]
    lines = [f"key {key.hex()}", f"device {device}"]
    lines += [f"{topic} {name} {hex_}" for topic, name, hex_ in messages]
    (tmp_path / "vectors.txt").write_text("\n".join(lines) + "\n")
    run = subprocess.run(
        [str(ota_test), "vectors", str(tmp_path / "vectors.txt")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    got = {}
    for line in run.stdout.splitlines():
        head, _, reason = line.partition(" | ")
        _, name, code, stage = head.split(" ")
        got[name] = (code, stage, reason)
    assert len(got) == len(messages)
    for topic, name, hex_ in messages:
        code, stage, reason = got[name]
        expected = _python_reason(topic, bytes.fromhex(hex_), key)
        if expected is None:
            assert code == "accepted" or (name == "command-rollback" and code == "refused"), got[
                name
            ]
        else:
            assert code != "accepted", name
            assert stage == ("manifest" if topic == "manifest" else "command"), got[name]
            assert reason == expected, (name, reason, expected)
    # the refusals are the documented ones: a changed field, another key, no signature
    assert [got[f"refused-{i}"][0] for i in range(3)] == ["signature", "signature", "length"]


def test_agent_ota_scenarios_and_power_cuts(ota_test: Path):
    run = subprocess.run([str(ota_test)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "FAIL" not in run.stdout
    for scenario in (
        "replay after reboot, resend, another device",
        "fit checks",
        "chunks, tampered chunk, bitmap, commit on trial",
        "key rotation, revocation, recovery key, invalid points",
        "rollback: recorded, refused, self-tested, committed, forward again",
        "boots counted across resets",
        "chunk recovery after a reset: logged runs, unlogged chunks found in place, torn ones",
        "transfer completed and committed after a cut at each flash operation",
        "manifest acceptance: power cut at each of",
        "key rotation: power cut at each of",
        "abort: power cut at each of",
        "commit: power cut at each of",
        "commit cut at each of",
        "rollback: power cut at each of",
        "transfer with its log: power cut at each of",
    ):
        assert f"ok {scenario}" in run.stdout, scenario
    assert run.stdout.strip().splitlines()[-1].startswith("PASSED")
