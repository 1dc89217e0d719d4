"""``tinyreg serve --workers 2`` and the command line on the store it holds (real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from _servers import TinyregServer, start_server

from _paths import KG_DATA
from tinyreg.registry.local import CREDENTIAL_FILE
from tinyreg.registry.rest.reports import CACHE_FOLDER

TOKEN = "workers-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DEVICES = sorted((KG_DATA / "devices").glob("*.td.jsonld"))


def tinyreg(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line with only TINYREG_STORE set (no token), as a user runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINYREG_")}
    env["TINYREG_STORE"] = str(store)
    return subprocess.run(
        [sys.executable, "-m", "tinyreg.registry.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def served(tmp_path: Path):
    store = tmp_path / "store"
    server = start_server(store, tmp_path / "serve.log", token=TOKEN, args=("--workers", "2"))
    try:
        yield store, server
    finally:
        server.stop()


def _workers_seen(server: TinyregServer, tries: int = 60) -> set[int]:
    seen = set()
    for _ in range(tries):  # a new connection each time: the kernel picks the process
        seen.add(httpx.get(f"{server.base_url}/readyz", timeout=10).json()["worker"])
    return seen


def test_cli_writes_while_serve_runs_nothing_lost(served: tuple[Path, TinyregServer]) -> None:
    store, server = served
    credential = store / CREDENTIAL_FILE
    assert credential.stat().st_mode & 0o777 == 0o600
    assert _workers_seen(server) == {0, 1}
    half = len(DEVICES) // 2
    by_cli, by_rest = DEVICES[:half], DEVICES[half:]

    def cli_add(path: Path) -> subprocess.CompletedProcess[str]:
        return tinyreg(store, "add", "device", str(path))

    def rest_put(path: Path) -> int:
        td = json.loads(path.read_text())
        answer = httpx.put(
            f"{server.base_url}/things/{td['id']}",
            content=path.read_bytes(),
            headers={**AUTH, "Content-Type": "application/td+json"},
            timeout=60,
        )
        return answer.status_code

    with ThreadPoolExecutor(4) as pool:  # command line and REST clients at the same time
        cli_runs = list(pool.map(cli_add, by_cli))
        statuses = list(pool.map(rest_put, by_rest))
    for run in cli_runs:
        assert run.returncode == 0, run.stderr
        assert "registered device" in run.stdout
    assert statuses == [201] * len(by_rest)

    ids = {json.loads(p.read_text())["id"] for p in DEVICES}
    listed = tinyreg(store, "list", "devices", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert {d["id"] for d in json.loads(listed.stdout)} == ids
    for ident in ids:  # every process serves every write, the command line's included
        for _ in range(3):
            assert httpx.get(f"{server.base_url}/things/{ident}", timeout=10).status_code == 200

    # a model through the command line, then a match on it, while the server runs
    model = KG_DATA / "models" / "kws-dscnn-int8.tflite"
    added = tinyreg(store, "add", "model", str(model))
    assert added.returncode == 0, added.stderr
    matched = tinyreg(store, "match", "--model", "kws-dscnn-int8", "--format", "json")
    assert matched.returncode == 0, matched.stderr
    assert json.loads(matched.stdout), "no device for the model"
    answer = httpx.get(f"{server.base_url}/match/devices", params={"model": "kws-dscnn-int8"})
    assert len(answer.json()) == len(json.loads(matched.stdout))

    deleted = tinyreg(store, "delete", "esp-eye")
    assert deleted.returncode == 0, deleted.stderr
    assert httpx.get(f"{server.base_url}/things/urn:tinyreg:device:esp-eye").status_code == 404

    # import registers through the server too
    imported = tinyreg(store, "import", str(KG_DATA / "devices" / "esp-eye.td.jsonld"))
    assert imported.returncode == 0, imported.stderr
    assert httpx.get(f"{server.base_url}/things/urn:tinyreg:device:esp-eye").status_code == 200
    # a write the server does not take from the command line: a clear error, exit 3
    refused = tinyreg(store, "reindex", "--all", "-q")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "read-only" in refused.stderr

    server.stop()
    assert not credential.exists()
    after = tinyreg(store, "list", "devices", "--format", "json")
    assert after.returncode == 0, after.stderr
    assert {d["id"] for d in json.loads(after.stdout)} == ids


def test_readers_forward_writes_and_read_them_at_once(served: tuple[Path, TinyregServer]) -> None:
    _, server = served
    td = json.loads((KG_DATA / "devices" / "esp-eye.td.jsonld").read_text())
    url = f"{server.base_url}/things/{td['id']}"
    for round_ in range(12):  # new connections: writes and reads land on either process
        td["title"] = f"ESP-EYE {round_}"
        put = httpx.put(
            url,
            content=json.dumps(td),
            headers={**AUTH, "Content-Type": "application/td+json"},
            timeout=60,
        )
        assert put.status_code in (201, 204), put.text
        for _ in range(4):
            assert httpx.get(url, timeout=60).json()["title"] == f"ESP-EYE {round_}"
    assert (
        httpx.put(
            url, content=json.dumps(td), headers={"Content-Type": "application/td+json"}
        ).status_code
        == 401
    )
    events = httpx.get(f"{server.base_url}/metrics").text
    assert "tinyreg_workers{" in events


def _children(pid: int) -> dict[int, int]:
    """The processes whose parent is ``pid``: their ids and nice values (from ``/proc``)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry.name)] = int(fields[16])
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_stopped_server_leaves_no_process_behind(tmp_path: Path) -> None:
    """Stopped while its first report is still being written (a low-priority process),
    serve stops that process and its readers, and exits on SIGTERM alone."""
    store = tmp_path / "store"
    imported = tinyreg(store, "import", "--builtin", "-q")
    assert imported.returncode == 0, imported.stderr
    server = start_server(store, tmp_path / "serve.log", token=TOKEN, args=("--workers", "2"))
    children: dict[int, int] = {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the report process runs at nice 10
            children = _children(server.process.pid)
            if 10 in children.values():
                break
            time.sleep(0.05)
        assert 10 in children.values(), f"no report process was started: {children}"
        # the cyclic collector skips the start-up heap (gc.freeze) in every process
        for _ in range(20):
            text = httpx.get(f"{server.base_url}/metrics", timeout=10).text
            frozen = [line for line in text.splitlines() if line.startswith("tinyreg_gc_frozen")]
            assert frozen and float(frozen[0].split()[-1]) > 10_000, frozen
        server.process.terminate()
        server.process.wait(timeout=60)  # not killed: it exits by itself
    finally:
        server.stop()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)], server.output()[-2000:]
    # stopped, not waited for: the report was never finished and kept
    assert not (store / CACHE_FOLDER).exists()
