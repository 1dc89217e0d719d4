"""The report of kg_data plus the 23 seed models, rendered in headless Chromium.

The registry is filled with the real files, three models are measured on the host with the
real TFLite Micro runtime and deployments are recorded through the real store. The HTML is
then opened in Chromium (driven over the DevTools protocol on a pipe): every plot must have
loaded with a non-zero size and real content, and every figure the page shows must equal the
one read from the graph here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import statistics
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from _paths import KG_DATA, SEED_DIR, SEED_MODELS
from tinyreg.core.stores import OxigraphStore
from tinyreg.matchmaker import Matchmaker
from tinyreg.registry import Registry
from tinyreg.registry.bench import HostBenchmark, bench_registered
from tinyreg.registry.deployments import DeploymentRecord
from tinyreg.registry.report import REPORT_STEPS, ReportFiles, device_label, write_report
from tinyreg.registry.report.plots import deployment_rows

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
BENCHED = {
    "hello-world": SEED_MODELS / "Hello_World.tflite",
    "magic-wand-2": SEED_MODELS / "Magic_Wand_2.tflite",
    "kws-dscnn-int8": KG_DATA / "models" / "kws-dscnn-int8.tflite",
}
NANO = "urn:tinyreg:device:arduino-nano-33-ble-sense"
EYE = "urn:tinyreg:device:esp-eye"


def _deployments() -> list[DeploymentRecord]:
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    records = []
    for k in range(9):
        model, device = [("hello-world", NANO), ("kws-dscnn-int8", NANO), ("hello-world", EYE)][
            k % 3
        ]
        committed = k != 4
        records.append(
            DeploymentRecord(
                id=uuid.uuid4().hex,
                model=model,
                model_version="1.0.0",
                device=device,
                agent="ops",
                started=start + timedelta(minutes=7 * k),
                ended=start + timedelta(minutes=7 * k, seconds=4),
                outcome="committed" if committed else "rolled_back",
                reason=None if committed else "self-test inference failed",
                deploy_ms=1200.5 + 13.25 * k,
                load_ms=(3.5 + 0.5 * k) if committed else None,
                inference_ms=(0.75 + 0.125 * k) if committed else None,
                arena_used_bytes=1936 if committed else None,
            )
        )
    return records


@dataclass
class Reported:
    registry: Registry
    files: ReportFiles
    benches: dict[str, HostBenchmark]
    deployments: list[DeploymentRecord]


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reported]:
    assert (SEED_DIR / "models_information.csv").is_file(), (
        f"seed data not found at {SEED_DIR} (set TINYREG_SEED_DIR)"
    )
    registry = Registry(OxigraphStore(tmp_path_factory.mktemp("report") / "store"))
    try:
        assert registry.import_path(KG_DATA).refused == []
        assert registry.import_path(SEED_DIR).refused == []
        benches = {
            ident: bench_registered(
                registry.store, registry.get_model(ident).iri, path.read_bytes(), runs=5
            )
            for ident, path in BENCHED.items()
        }
        deployments = _deployments()
        for record in deployments:
            registry.record_deployment(record)
        files = write_report(registry, tmp_path_factory.mktemp("out") / "report")
        yield Reported(registry, files, benches, deployments)
    finally:
        registry.close()


# --------------------------------------------------------------------------- Chromium


class DevTools:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4)."""

    def __init__(self, profile: Path) -> None:
        if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
            pytest.fail(
                f"Chromium not found at {CHROMIUM} (set CHROMIUM_BIN): the report test renders "
                "the HTML in a real browser; install the Debian package `chromium` "
                "(`bash scripts/setup.sh test` does).",
                pytrace=False,
            )
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        command = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        shell = f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w}'
        self.process = subprocess.Popen(
            ["/bin/bash", "-c", shell, "chromium", *command],
            pass_fds=(to_browser_r, from_browser_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise AssertionError(f"Chromium closed the pipe (exit {self.process.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                assert "error" not in reply, reply
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        for index, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(index)
        while True:
            event = self._read()
            if event.get("method") == method:
                return event
            self.events.append(event)

    def open(self, url: str) -> str:
        """Open a page, wait for its load event; returns the session id."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.send("Page.enable", session)
        self.send("Emulation.setDeviceMetricsOverride", session, width=1600, height=1000,
                  deviceScaleFactor=1, mobile=False)  # fmt: skip
        self.send("Page.navigate", session, url=url)
        self.wait_for("Page.loadEventFired")
        return session

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate",
            session,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(AssertionError, OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self._to_browser)
        os.close(self._from_browser)


# What the page reports back: every image (load state, natural size, distinct colours of
# a sample of its pixels) and every figure cell (key, exact value, text shown).
PAGE_PROBE = """
(async () => {
  const images = [];
  for (const img of document.querySelectorAll('img')) {
    if (!img.complete) { await new Promise(r => { img.onload = r; img.onerror = r; }); }
    let colours = 0;
    if (img.naturalWidth > 0) {
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      const seen = new Set();
      for (let i = 0; i < pixels.length; i += 4 * 97) {
        seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
      }
      colours = seen.size;
    }
    images.push({id: img.id, complete: img.complete, width: img.naturalWidth,
                 height: img.naturalHeight, shownWidth: img.width, colours: colours,
                 src: img.getAttribute('src').slice(0, 22)});
  }
  const figures = [...document.querySelectorAll('[data-fig]')].map(e => ({
    key: e.dataset.fig, value: e.dataset.value, isNull: e.dataset.null === '1',
    text: e.textContent}));
  const boxes = [...document.querySelectorAll('figure')].map(f => {
    const img = f.querySelector('img');
    return {id: img ? img.id : null, clientWidth: f.clientWidth, scrollWidth: f.scrollWidth,
            overflowX: getComputedStyle(f).overflowX, right: f.getBoundingClientRect().right,
            imgWidth: img ? img.width : 0};
  });
  return {images, figures, boxes, title: document.title,
          viewport: window.innerWidth, pageWidth: document.documentElement.scrollWidth,
          resources: performance.getEntriesByType('resource').map(r => r.name)};
})()
"""


@pytest.fixture(scope="module")
def page(reported: Reported, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    browser = DevTools(tmp_path_factory.mktemp("chromium-profile"))
    try:
        session = browser.open(reported.files.html.resolve().as_uri())
        return browser.evaluate(session, PAGE_PROBE)
    finally:
        browser.close()


# --------------------------------------------------------------------------- expected figures


def expected_figures(reported: Reported) -> dict[str, Any]:
    """Every figure the report must show, read from the graph here."""
    registry = reported.registry
    out: dict[str, Any] = {}
    models = registry.list_models()
    devices = registry.list_devices()
    matches = Matchmaker(registry).pairs(all_verdicts=True)
    deployments = registry.list_deployments()
    unique_deployments = {r.id: r for r in deployments}
    benchmarks = registry.query(
        "SELECT ?model ?arena ?load ?median ?min ?max ?runs WHERE { ?b a tr:HostBenchmark ; "
        "tr:benchmarkOf ?model ; tr:arenaBytes ?arena ; tr:loadMs ?load ; "
        "tr:invokeMedianMs ?median ; tr:invokeMinMs ?min ; tr:invokeMaxMs ?max ; tr:runs ?runs }"
    )
    operator_codes = registry.query(
        "SELECT ?model (COUNT(DISTINCT ?code) AS ?n) WHERE { ?model a tr:Model ; "
        "tr:hasOperatorCode ?code } GROUP BY ?model"
    )
    codes = {str(row["model"]): int(row["n"]) for row in operator_codes.rows}
    summary = {
        "models": len(models),
        "devices": len(devices),
        "model–device pairs": len(matches),
        "fitting pairs": sum(1 for m in matches if m.fits),
        "host benchmarks": len(list(benchmarks.rows)),
        "deployments": len(unique_deployments),
    }
    out.update({f"summary|{k}": v for k, v in summary.items()})
    for d in devices:
        for name in (
            "clock_hz",
            "ram_bytes",
            "reserved_ram_bytes",
            "flash_bytes",
            "reserved_flash_bytes",
        ):
            out[f"device|{d.id}|{name}"] = getattr(d, name)
    for m in models:
        for name in (
            "quantization",
            "model_bytes",
            "arena_bytes",
            "arena_bytes_32bit_estimate",
            "macs",
            "parameters",
        ):
            out[f"model|{m.id}|{name}"] = getattr(m, name)
        out[f"model|{m.id}|operator_codes"] = codes.get(m.iri, 0)
    ids = {m.iri: m.id for m in models}
    for match in matches:
        key = f"pair|{ids[match.model]}|{match.device}|"
        data = match.to_dict()
        failed = data["failed"]
        out[key + "verdict"] = "fits" if not failed else "fails: " + ", ".join(failed)
        by_name = {c["name"]: c for c in data["constraints"]}
        out[key + "ram_required"] = by_name["ram"]["required"]
        out[key + "ram_available"] = by_name["ram"]["available"]
        out[key + "flash_required"] = by_name["flash"]["required"]
        out[key + "flash_available"] = by_name["flash"]["available"]
        out[key + "estimated_latency_ms"] = match.verdict.estimated_latency_ms
    matchmaker = Matchmaker(registry)
    for m in models:
        key = f"best|{m.id}|"
        ranked = list(matchmaker.devices_for(m.id))  # every fitting board, best first
        out[key + "fitting"] = sum(1 for x in matches if x.model == m.iri and x.fits)
        assert out[key + "fitting"] == len(ranked)
        out[key + "board"] = device_label(ranked[0].device) if ranked else "no board fits"
        out[key + "estimated_latency_ms"] = (
            ranked[0].verdict.estimated_latency_ms if ranked else None
        )
        ram = {c["name"]: c for c in ranked[0].to_dict()["constraints"]}["ram"] if ranked else {}
        out[key + "ram_margin_bytes"] = ram["available"] - ram["required"] if ranked else None
        out[key + "next"] = ", ".join(device_label(x.device) for x in ranked[1:3])
    for row in benchmarks.rows:
        key = f"bench|{ids[str(row['model'])]}|"
        out[key + "arena_bytes"] = int(row["arena"])
        for name, var in (
            ("load_ms", "load"),
            ("invoke_median_ms", "median"),
            ("invoke_min_ms", "min"),
            ("invoke_max_ms", "max"),
        ):
            out[key + name] = float(row[var])
        out[key + "runs"] = int(row["runs"])
    groups: dict[tuple[str, str], list[DeploymentRecord]] = {}
    for r in unique_deployments.values():
        groups.setdefault((r.model, r.device), []).append(r)
        key = f"deployment|{r.id}|"
        out[key + "outcome"] = r.outcome
        out[key + "deploy_ms"] = r.deploy_ms
        out[key + "load_ms"] = r.load_ms
        out[key + "inference_ms"] = r.inference_ms
        out[key + "arena_used_bytes"] = r.arena_used_bytes
    for (model, device), group in groups.items():
        key = f"deployments|{model}|{device}|"
        out[key + "count"] = len(group)
        out[key + "committed"] = sum(1 for r in group if r.outcome == "committed")
        for name in ("deploy_ms", "load_ms", "inference_ms"):
            values = [getattr(r, name) for r in group if getattr(r, name) is not None]
            out[key + f"{name}_median"] = statistics.median(values) if values else None
    return out


def _dom_value(figure: dict[str, Any]) -> Any:
    if figure["isNull"]:
        return None
    raw = figure["value"]
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _shown_matches(text: str, value: Any) -> bool:
    """Whether the text shown is the value, to the digits shown."""
    if value is None:
        return text == "–"
    if isinstance(value, str):
        return text == value
    plain = text.replace(",", "")
    if not re.fullmatch(r"-?\d+(\.\d+)?", plain):
        return False
    decimals = len(plain.split(".")[1]) if "." in plain else 0
    return abs(float(plain) - value) <= 0.5 * 10**-decimals + 1e-12


# --------------------------------------------------------------------------- tests


def test_every_plot_loads_in_chromium_with_content(reported: Reported, page: dict[str, Any]):
    images = {img["id"]: img for img in page["images"]}
    expected = {
        "plot-compatibility",
        "plot-ram_use",
        "plot-flash_use",
        "plot-models",
        "plot-host_latency",
        "plot-estimated_latency",
        "plot-deployments",
    }
    assert set(images) == expected
    for img in images.values():
        assert img["complete"], img
        assert img["width"] > 300 and img["height"] > 150, img
        assert img["shownWidth"] == img["width"], f"{img['id']} is scaled, not at 100 %"
        assert img["colours"] > 8, f"{img['id']} looks blank: {img}"
        assert img["src"].startswith("data:image/png;base64"), img
    # self-contained: the page fetched nothing
    assert [r for r in page["resources"] if not r.startswith("data:")] == []
    # nothing is cut off: the page never scrolls sideways; a plot wider than the window
    # (the heatmaps grow with the fleet) scrolls in its own box, still at 100 %
    assert page["pageWidth"] <= page["viewport"], (page["pageWidth"], page["viewport"])
    for box in page["boxes"]:
        assert box["right"] <= page["viewport"], box
        if box["imgWidth"] > box["clientWidth"]:
            assert box["overflowX"] in ("auto", "scroll"), box
            assert box["scrollWidth"] >= box["imgWidth"], box
    # plots whose size does not grow with the fleet fit a 1,200 px window
    for fixed in ("plot-models", "plot-host_latency", "plot-deployments"):
        assert images[fixed]["width"] <= 1200, images[fixed]
    # the matrix grows with the fleet: a column of at least ~40 px per board
    models, devices = len(reported.registry.list_models()), len(reported.registry.list_devices())
    assert images["plot-compatibility"]["width"] >= 40 * devices
    assert images["plot-compatibility"]["height"] >= 25 * models


def test_every_figure_in_the_page_equals_the_graph(reported: Reported, page: dict[str, Any]):
    expected = expected_figures(reported)
    shown = {f["key"]: f for f in page["figures"]}
    assert len(shown) == len(page["figures"]), "a figure key appears twice"
    assert set(shown) == set(expected), (
        sorted(set(shown) ^ set(expected))[:20],
        "figures missing from the page, or shown without a source in the graph",
    )
    wrong = [
        (key, _dom_value(fig), expected[key])
        for key, fig in shown.items()
        if _dom_value(fig) != expected[key]
    ]
    assert wrong == []
    badly_shown = [
        (key, fig["text"], expected[key])
        for key, fig in shown.items()
        if not _shown_matches(fig["text"], expected[key])
    ]
    assert badly_shown == []


def test_figures_of_the_fixture_are_the_measured_and_recorded_ones(
    reported: Reported, page: dict[str, Any]
):
    shown = {f["key"]: _dom_value(f) for f in page["figures"]}
    for ident, bench in reported.benches.items():
        assert shown[f"bench|{ident}|invoke_median_ms"] == bench.invoke_median_ms
        assert shown[f"bench|{ident}|load_ms"] == bench.load_ms
        assert shown[f"bench|{ident}|runs"] == 5
        # the host benchmark measures the same minimal arena the registry holds
        assert shown[f"bench|{ident}|arena_bytes"] == shown[f"model|{ident}|arena_bytes"]
    assert shown["summary|deployments"] == len(reported.deployments)
    hello_nano = [r for r in reported.deployments if r.model == "hello-world" and r.device == NANO]
    assert shown[f"deployments|hello-world|{NANO}|count"] == len(hello_nano)
    assert shown[f"deployments|hello-world|{NANO}|deploy_ms_median"] == statistics.median(
        r.deploy_ms for r in hello_nano
    )
    # pinned verdicts (see tests/test_matchmaker.py): named failing constraints
    assert shown["pair|arm-ds-cnn-small|urn:tinyreg:device:syntiant-tinyml|verdict"] == (
        "fails: ram"
    )
    assert shown["pair|hello-world|urn:tinyreg:device:arduino-nano-33-ble-sense|verdict"] == "fits"
    assert shown["summary|models"] == 31  # 8 of kg_data + 23 of the seed
    # the per-board latencies say how far off they can be: the band of the calibrated
    # Cortex-M4 figures (the Nano), and that the other families' are not checked
    from rdflib import Graph, Namespace, URIRef

    tr = Namespace("https://w3id.org/tinyreg#")
    cores = Graph().parse(KG_DATA / "runtimes" / "cores.ttl", format="turtle")
    band = cores.value(URIRef("https://w3id.org/tinyreg/core/cortex-m4"), tr.latencyErrorBand)
    html = reported.files.html.read_text()
    assert f"median error {float(band):.0%} on held-out published measurements" in html
    assert "not checked against a board" in html


def test_markdown_csv_and_json_carry_the_same_figures(reported: Reported):
    files = reported.files
    text = files.markdown.read_text()
    linked = re.findall(r"!\[[^\]]*\]\((plots/[^)]+\.png)\)", text)
    assert sorted(linked) == sorted(f"plots/{p.name}" for p in files.plots)
    for plot in files.plots:
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for section in (
        "## Fleet and model inventory",
        "## Compatibility matrix",
        "## Memory against capacity",
        "## Per model: operators, MACs, parameters, quantization",
        "## Latency: measured on the host, estimated per board",
        "## Deployments",
    ):
        assert section in text
    data = json.loads(files.json.read_text())
    assert data["figures"] == files.figures
    assert {p.name for p in files.csv} == {
        "models.csv",
        "devices.csv",
        "pairs.csv",
        "host_benchmarks.csv",
        "deployments.csv",
    }
    pairs = (files.folder / "data" / "pairs.csv").read_text().splitlines()
    assert len(pairs) == 1 + 31 * len(reported.registry.list_devices())
    bench = reported.benches["kws-dscnn-int8"]
    assert f"| kws-dscnn-int8 | {bench.arena_bytes:,} |" in text


def test_best_boards_per_model_and_deployments_per_board(reported: Reported, page: dict[str, Any]):
    shown = {f["key"]: _dom_value(f) for f in page["figures"]}
    # hello-world fits many boards; the best has the lowest estimate of all fitting pairs
    fitting = [
        m
        for m in Matchmaker(reported.registry).pairs()
        if m.model.endswith("/hello-world") and m.verdict.estimated_latency_ms is not None
    ]
    assert shown["best|hello-world|fitting"] >= 3
    assert shown["best|hello-world|estimated_latency_ms"] == min(
        m.verdict.estimated_latency_ms for m in fitting
    )
    assert shown["best|hello-world|ram_margin_bytes"] > 0
    assert len(shown["best|hello-world|next"].split(", ")) == 2
    assert "## Compatibility matrix" in reported.files.markdown.read_text()
    assert "| hello-world |" in reported.files.markdown.read_text().split("Best boards")[1]
    # the deployments plot has one row per model and board, each with its own samples
    rows = dict(deployment_rows(reported.deployments))
    nano, eye = device_label(NANO), device_label(EYE)
    assert set(rows) == {
        f"hello-world on {nano} (n=3)",
        f"kws-dscnn-int8 on {nano} (n=3)",
        f"hello-world on {eye} (n=3)",
    }
    for label, series in rows.items():
        model, board = label.split(" on ")[0], label.split(" on ")[1].split(" (")[0]
        mine = [
            r for r in reported.deployments if r.model == model and device_label(r.device) == board
        ]
        assert series["deploy_ms"] == [r.deploy_ms for r in mine]
        assert series["load_ms"] == [r.load_ms for r in mine if r.load_ms is not None]


def test_report_of_an_empty_history_says_so(tmp_path: Path):
    with Registry.open(in_memory=True) as registry:
        registry.add_model(KG_DATA / "models" / "gesture-cnn-int8.tflite")
        registry.add_device(KG_DATA / "devices" / "syntiant-tinyml.td.jsonld")
        steps: list[str] = []
        files = write_report(registry, tmp_path / "r", progress=steps.append)
    page = files.html.read_text()
    assert "No deployment recorded." in page
    assert "No host benchmark recorded yet" in page
    assert {p.stem for p in files.plots} == {
        "compatibility",
        "ram_use",
        "flash_use",
        "models",
        "estimated_latency",
    }
    assert len(steps) == REPORT_STEPS == 11
    assert files.figures["summary|model–device pairs"] == 1
    assert device_label("urn:tinyreg:device:syntiant-tinyml") == "syntiant-tinyml"


def test_a_sparql_endpoint_store_gives_the_same_report(start_oxigraph_server, tmp_path: Path):
    server = start_oxigraph_server()
    figures = []
    record = _deployments()[0]
    for registry in (Registry.open(server.base_url), Registry.open(in_memory=True)):
        with registry:
            assert registry.import_path(KG_DATA).refused == []
            registry.record_deployment(record)
            files = write_report(registry, tmp_path / f"r{len(figures)}")
            figures.append(files.figures)
    assert figures[0] == figures[1]
    assert figures[0]["summary|models"] == 8 and figures[0]["summary|deployments"] == 1
