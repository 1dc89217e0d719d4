"""The deployment benchmark's code path at a small size: its JSON line and its verdict."""

from __future__ import annotations

import json
import subprocess
import sys

from _paths import REPO, seed_model

KEYS = {
    "devices",
    "model_bytes",
    "deploy_p50_s",
    "deploy_p95_s",
    "load_p50_ms",
    "inference_p50_ms",
    "total_s",
    "raw_publish_s",
    "ratio_vs_raw",
    "lossy_success_rate",
    "broken_devices",
}


def test_deploy_benchmark_with_three_devices() -> None:
    model = seed_model("Visual_Alarm_Clock")
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "deploy.py"),
            "--devices",
            "3",
            "--model",
            str(model),
            "--loss",
            "0.2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(result) >= KEYS
    assert result["devices"] == 3 and result["model_bytes"] == model.stat().st_size
    assert result["committed"] == 3 and result["broken_devices"] == 0
    assert result["lossy_success_rate"] == 1.0 and result["lossy_drop_rate"] > 0
    assert result["deploy_p50_s"] > 0 and result["load_p50_ms"] > 0
    assert result["inference_p50_ms"] > 0 and result["raw_publish_s"] > 0
