"""Start-up time of the ``tinyreg`` command: ``--version``, ``--help`` and ``list``.

Each figure is the median wall-clock time of several whole-process runs (the console
script of the active environment, started with :func:`subprocess.run`), so it includes
the interpreter's start, the imports and, for ``list``, opening the store and reading
every model and device. The store is a fresh embedded store holding ``kg_data`` (its
devices and models) and the seed catalogue, built once before the timed runs (not
timed). The baseline, in the same run, is ``python -c pass`` with the same interpreter.

Before the timed runs the package's bytecode is compiled (``compileall``, as ``pip
install`` does for a wheel): an editable install in an environment with
``PYTHONDONTWRITEBYTECODE`` set would otherwise compile every tinyreg module from source
on every run, which no installed copy does. ``--source`` measures that case instead
(every module, the standard library's and the dependencies' too, from source).

The last line of stdout is one JSON object with the figures (see ``benchmarks/README.md``).

Run::

    python benchmarks/startup.py [--runs N] [--seed-dir DIR]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tinyreg.registry import Registry

REPO = Path(__file__).resolve().parent.parent
DEFAULT_RUNS = 9


def _default_seed_dir() -> Path:
    env = os.environ.get("TINYREG_SEED_DIR")
    return Path(env) if env else REPO.parent / "shared" / "seed"


def _tinyreg() -> list[str]:
    """The console script beside this interpreter, else ``python -m`` on the CLI module."""
    script = Path(sys.executable).with_name("tinyreg")
    if script.is_file():
        return [str(script)]
    found = shutil.which("tinyreg")
    return [found] if found else [sys.executable, "-m", "tinyreg.registry.cli"]


def _compile_package(quiet: bool = True) -> int:
    """Compile the bytecode of every tinyreg module (the folders the package links)."""
    import tinyreg

    package = Path(tinyreg.__file__).resolve().parent
    folders = {package, *(entry.resolve() for entry in package.iterdir() if entry.is_dir())}
    ok = all(compileall.compile_dir(folder, quiet=2 if quiet else 0) for folder in folders)
    return len(folders) if ok else -1


def _median_s(command: list[str], env: dict[str, str], runs: int) -> tuple[float, float, str]:
    """Median and spread (max - min) of ``runs`` runs, after one untimed warm-up run."""
    times = []
    out = ""
    for i in range(runs + 1):
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr}")
        if i:  # the first run warms the file cache
            times.append(elapsed)
        out = done.stdout
    return statistics.median(times), max(times) - min(times), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--runs", type=int, default=DEFAULT_RUNS, help=f"timed runs each (default {DEFAULT_RUNS})"
    )
    parser.add_argument(
        "--seed-dir",
        type=Path,
        default=None,
        help="seed catalogue (default $TINYREG_SEED_DIR or ../shared/seed)",
    )
    parser.add_argument(
        "--source",
        action="store_true",
        help="no bytecode: every run compiles every module from source (an empty "
        "PYTHONPYCACHEPREFIX, PYTHONDONTWRITEBYTECODE=1)",
    )
    args = parser.parse_args(argv)
    seed_dir: Path = args.seed_dir or _default_seed_dir()
    runs: int = args.runs
    figures: dict[str, object] = {}
    # the machine is shared: its load says how far off the figures may be
    figures["load_avg_1min_start"] = round(os.getloadavg()[0], 2)
    figures["bytecode_compiled"] = not args.source
    figures["pythondontwritebytecode"] = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    if not args.source and _compile_package() < 0:
        raise SystemExit("compiling the package's bytecode failed")
    with tempfile.TemporaryDirectory(prefix="tinyreg-startup-") as tmp:
        store = Path(tmp) / "store"
        print(f"== building the store: {REPO / 'kg_data'} + {seed_dir}")
        t0 = time.perf_counter()
        with Registry.open(store) as reg:
            for folder in (REPO / "kg_data", seed_dir):
                report = reg.import_path(folder)
                print(
                    f"   {folder}: {len(report.models)} models, {len(report.devices)} devices, "
                    f"{len(report.refused)} refused"
                )
            n_models, n_devices = len(reg.list_models()), len(reg.list_devices())
        print(f"   {n_models} models, {n_devices} devices in {time.perf_counter() - t0:.1f} s")
        env = {**os.environ, "TINYREG_STORE": str(store)}
        if args.source:
            (Path(tmp) / "no-bytecode").mkdir()
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "no-bytecode")
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("TINYREG_TOKEN", None)
        tinyreg = _tinyreg()
        print(f"== {runs} runs each (median, spread), {' '.join(tinyreg)}")
        cases = {
            "python": [sys.executable, "-c", "pass"],
            "version": [*tinyreg, "--version"],
            "help": [*tinyreg, "--help"],
            "list": [*tinyreg, "list"],
        }
        for name, command in cases.items():
            median, spread, out = _median_s(command, env, runs)
            shown = " ".join(command[-2:] if name == "python" else command[len(tinyreg) :])
            print(f"   {name:<8} {median:6.3f} s  (spread {spread:.3f} s)  {shown}")
            figures[f"{name}_s"] = round(median, 3)
            figures[f"{name}_spread_s"] = round(spread, 3)
            if name == "list":
                rows = [line for line in out.splitlines() if line.strip()]
                assert len(rows) >= n_models + n_devices, "list printed fewer rows than stored"
        figures.update({"runs": runs, "store_models": n_models, "store_devices": n_devices})
        for name in ("version", "help", "list"):
            figures[f"{name}_minus_python_s"] = round(
                float(figures[f"{name}_s"]) - float(figures["python_s"]),  # type: ignore[arg-type]
                3,
            )
    figures["load_avg_1min_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
