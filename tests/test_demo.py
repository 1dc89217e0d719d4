"""``scripts/demo.sh`` run twice on the same store gives the same answers both times.

The demo once failed on its second run: the first run's benchmarks and deployments wrote
timestamps with microseconds that the OWL check could not read. Here the real script runs
twice in a row on one store (the starter knowledge graph only and no loop turn, to keep it
cheap and its answers comparable; setup skipped, the venv is the one the tests run in),
then ``tinyreg check`` runs on the result.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from _processes import run_cli

from _paths import REPO

pytestmark = pytest.mark.slow

DEMO = REPO / "scripts" / "demo.sh"
TINYREG = REPO / ".venv" / "bin" / "tinyreg"
DEPLOYED = (
    "urn:tinyreg:device:arduino-nano-33-ble-sense",
    "urn:tinyreg:device:arduino-nano-33-ble-sense-rev2",
    "urn:tinyreg:device:seeed-xiao-nrf52840-sense",
)


def _run_demo(store: Path, work: Path, nowhere: Path) -> str:
    env = {
        **os.environ,
        "TINYREG_STORE": str(store),
        "TINYREG_DEMO_DIR": str(work),
        "TINYREG_DEMO_SETUP": "0",
        # the loop turn adds sensing devices and model versions, so a second run lists more
        "TINYREG_DEMO_LOOP": "0",
        "TINYREG_SEED_DIR": str(nowhere),
    }
    done = subprocess.run(
        ["bash", str(DEMO)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _answers(out: str) -> list[list[str]]:
    """The demo's answers up to the deployment, without what varies run to run.

    Each block (between blank lines) is compared as a set of lines: rows that tie in a
    query's ORDER BY may come in either order; a ranking keeps its rank in each row.
    """
    before_ota = out.split("Over-the-air deployment", 1)[0]
    # the OWL line counts triples (deployments and benchmarks add some) and times HermiT
    text = re.sub(r"OWL: consistent \(.*\)", "OWL: consistent", before_ota)
    return [sorted(block.splitlines()) for block in text.split("\n\n")]


def _deployment_rows(out: str) -> list[tuple[str, ...]]:
    """(device, model, version, outcome) of the deploy table the demo prints."""
    section = out.split("Over-the-air deployment", 1)[1].split("What runs where", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = line.split()
        if cells and cells[0] in DEPLOYED:
            rows.append(tuple(cells[:4]))
    return sorted(rows)


def test_the_demo_runs_twice_on_one_store_with_the_same_answers(tmp_path: Path) -> None:
    assert TINYREG.is_file(), f"{TINYREG} missing: run scripts/setup.sh test"
    store, work, nowhere = tmp_path / "store", tmp_path / "demo", tmp_path / "no-seed"
    first = _run_demo(store, work, nowhere)
    second = _run_demo(store, work, nowhere)

    # the check inside the second run follows the first run's benchmarks and deployments
    assert "SHACL: 0 violation(s)" in second and "OWL: consistent" in second, second
    assert _answers(second) == _answers(first)
    assert any(
        "Boards that can run the gesture CNN (int8), best first:" in b for b in _answers(first)
    )
    expected = [(device, "kws-dscnn-int8") for device in DEPLOYED]
    for out in (first, second):
        rows = _deployment_rows(out)
        assert [row[:2] for row in rows] == expected, out
        assert all(row[3] == "committed" for row in rows), rows
        assert (work / "report" / "report.html").stat().st_size > 0

    # and after the second run's benchmarks and deployments, the check still passes
    checked = run_cli(store, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SHACL: 0 violation(s)" in checked.stdout
    assert "OWL: consistent" in checked.stdout
    # both runs are in the graph; what runs on each device is the second run's deployment
    every = json.loads(run_cli(store, "deployments", "--format", "json").stdout)
    running = json.loads(run_cli(store, "deployments", "--running", "--format", "json").stdout)
    assert len([d for d in every if d["outcome"] == "committed"]) == 2 * len(DEPLOYED)
    assert sorted(d["device"] for d in running) == sorted(DEPLOYED)
    latest = max(d["started"] for d in every if d["device"] == DEPLOYED[0])
    assert next(d for d in running if d["device"] == DEPLOYED[0])["started"] == latest
