"""Cached reads (ETag, 304, invalidation on write), health, readiness and metrics, in process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from _paths import KG_DATA
from tinyreg.registry.rest import Settings, create_app

TOKEN = "fast-read-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def td_of(name: str) -> dict[str, Any]:
    return json.loads((KG_DATA / "devices" / f"{name}.td.jsonld").read_text())


def client_for(tmp_path: Path, **settings: Any) -> TestClient:
    values: dict[str, Any] = {"store": str(tmp_path / "store"), "token": TOKEN, **settings}
    return TestClient(create_app(Settings(**values)), raise_server_exceptions=False)


def put(client: TestClient, td: dict[str, Any]) -> Any:
    return client.put(
        f"/things/{td['id']}",
        content=json.dumps(td),
        headers={"Content-Type": "application/td+json", **AUTH},
    )


def test_thing_etag_304_and_a_write_invalidates(tmp_path: Path) -> None:
    td = td_of("esp-eye")
    with client_for(tmp_path) as client:
        assert put(client, td).status_code == 201
        first = client.get(f"/things/{td['id']}")
        assert first.status_code == 200
        etag = first.headers["etag"]
        again = client.get(f"/things/{td['id']}", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert (
            client.get(f"/things/{td['id']}", headers={"If-None-Match": '"other"'}).status_code
            == 200
        )
        # a write through the app: the cached bytes are never served again
        changed = {**td, "title": "ESP-EYE renamed"}
        assert put(client, changed).status_code == 204
        after = client.get(f"/things/{td['id']}", headers={"If-None-Match": etag})
        assert after.status_code == 200
        assert after.json()["title"] == "ESP-EYE renamed"
        assert after.headers["etag"] != etag
        # deleted: 404, not the cached TD
        assert client.delete(f"/things/{td['id']}", headers=AUTH).status_code == 204
        assert client.get(f"/things/{td['id']}").status_code == 404


def test_a_write_by_another_path_invalidates_too(tmp_path: Path) -> None:
    td = td_of("esp-eye")
    with client_for(tmp_path) as client:
        assert put(client, td).status_code == 201
        assert client.get(f"/things/{td['id']}").json()["title"] == td["title"]
        state = client.app.state.tinyreg  # type: ignore[attr-defined]
        state.registry.directory().put({**td, "title": "Written by the service"})
        assert client.get(f"/things/{td['id']}").json()["title"] == "Written by the service"


def test_page_etag_and_cache(tmp_path: Path) -> None:
    with client_for(tmp_path) as client:
        for name in ("esp-eye", "arduino-nano-33-ble-sense"):
            assert put(client, td_of(name)).status_code == 201
        page = client.get("/things", params={"limit": 1})
        assert page.status_code == 200 and len(page.json()) == 1
        assert 'rel="next"' in page.headers["link"]
        tag = page.headers["etag"]
        assert (
            client.get("/things", params={"limit": 1}, headers={"If-None-Match": tag}).status_code
            == 304
        )
        assert (
            client.get("/things", params={"limit": 1, "offset": 1}).json()[0]["id"]
            != page.json()[0]["id"]
        )
        assert client.delete(f"/things/{page.json()[0]['id']}", headers=AUTH).status_code == 204
        fresh = client.get("/things", params={"limit": 1}, headers={"If-None-Match": tag})
        assert fresh.status_code == 200 and fresh.headers["etag"] != tag
        assert len(client.get("/things").json()) == 1
        state = client.app.state.tinyreg  # type: ignore[attr-defined]
        hits, misses = state.answers.hits, state.answers.misses
        assert client.get("/things").content == client.get("/things").content
        assert (state.answers.hits, state.answers.misses) == (hits + 2, misses)  # read just above


def test_health_readiness_and_metrics(tmp_path: Path) -> None:
    with client_for(tmp_path, auth_reads=True) as client:
        assert client.get("/things").status_code == 401  # reads closed...
        assert client.get("/healthz").json() == {"status": "ok"}  # ...probes open
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        client.get("/things/urn:nothing:here", headers=AUTH)
        text = client.get("/metrics").text
        assert (
            'tinyreg_http_requests_total{worker="0",method="GET",route="/readyz",status="200"} 1'
            in text
        )
        # route templates, never raw paths, label the series
        assert 'route="/things/{ident:path}",status="404"' in text
        assert "urn:nothing:here" not in text
        assert (
            'tinyreg_http_request_duration_seconds_bucket{worker="0",route="/healthz",le="+Inf"} 1'
            in text
        )
        assert "tinyreg_workers" in text and "tinyreg_store_bytes" in text
        store_bytes = [
            line for line in text.splitlines() if line.startswith("tinyreg_store_bytes{")
        ]
        assert float(store_bytes[0].split()[-1]) > 0


def test_report_kept_beside_the_store_and_served_after_a_restart(tmp_path: Path) -> None:
    with client_for(tmp_path) as client:
        assert put(client, td_of("esp-eye")).status_code == 201
        first = client.get("/reports/latest", headers={"Accept": "application/json"})
        assert first.status_code == 200
        assert (tmp_path / "store" / "reports-cache" / "meta.json").is_file()
    with client_for(tmp_path) as client:  # a restart on the same, unchanged store
        state = client.app.state.tinyreg  # type: ignore[attr-defined]
        again = client.get("/reports/latest", headers={"Accept": "application/json"})
        assert again.status_code == 200
        assert state.reports.loaded and state.reports.builds == 0
        assert again.headers["last-modified"] == first.headers["last-modified"]
        assert again.json() == first.json()
        # a write: the kept report is stale, a new one is written
        assert put(client, td_of("arduino-nano-33-ble-sense")).status_code == 201
        after = client.get("/reports/latest", headers={"Accept": "application/json"})
        assert after.headers["etag"] != again.headers["etag"]
        assert state.reports.builds == 1
    with client_for(tmp_path) as client:  # the newest report is the one kept
        state = client.app.state.tinyreg  # type: ignore[attr-defined]
        kept = client.get("/reports/latest", headers={"Accept": "application/json"})
        assert kept.json() == after.json() and state.reports.builds == 0


def test_a_changed_store_is_not_served_the_kept_report(tmp_path: Path) -> None:
    with client_for(tmp_path) as client:
        assert put(client, td_of("esp-eye")).status_code == 201
        old = client.get("/reports/latest", headers={"Accept": "application/json"})
        assert old.status_code == 200
        assert "arduino-nano-33-ble-sense" not in old.text
    from tinyreg.registry import Registry

    with Registry.open(str(tmp_path / "store")) as reg:  # written while no server ran
        reg.add_device(KG_DATA / "devices" / "arduino-nano-33-ble-sense.td.jsonld")
    with client_for(tmp_path) as client:
        new = client.get("/reports/latest", headers={"Accept": "application/json"})
        assert new.headers["last-modified"] != old.headers["last-modified"] or (
            new.headers["etag"] != old.headers["etag"]
        )
        assert "arduino-nano-33-ble-sense" in new.text
