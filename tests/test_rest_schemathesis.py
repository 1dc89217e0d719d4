"""Property-based API test: schemathesis against the app's own OpenAPI on a live server.

Every operation is called with inputs generated from its OpenAPI description (path,
query, headers and bodies, valid and invalid), with the write token so that writes reach
validation. Asserted: no input gives a server error (5xx), and schemathesis's standard
response checks pass (documented status codes and media types, Problem Details bodies,
invalid input refused), except ``positive_data_acceptance``: OpenAPI cannot say that a
string must be a SPARQL query or an object a device TD, so schema-valid requests are
rightly refused with 400 there. The event streams are left out (they never end; the HTTP
tests read them), and so is HEAD (its answers are those of GET without a body).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from _servers import TinyregServer, start_server
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tinyreg.registry.rest import Settings, create_app

TOKEN = "schemathesis-token"
EXAMPLES = 30


def _openapi() -> dict[str, Any]:
    """The app's own OpenAPI document (building the app opens no store)."""
    return create_app(Settings(validate_td_schema=False)).openapi()


OPENAPI = _openapi()
OPERATIONS = sorted(
    f"{method.upper()} {path}"
    for path, methods in OPENAPI["paths"].items()
    if not path.startswith("/events")
    for method in methods
    if method != "head"
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyregServer]:
    root = tmp_path_factory.mktemp("rest-schemathesis")
    server = start_server(
        root / "store", root / "server.log", token=TOKEN, env={"TINYREG_SPARQL_TIMEOUT_S": "5"}
    )
    try:
        yield server
    finally:
        server.stop()


def test_the_operations_cover_the_api() -> None:
    assert {
        "GET /things",
        "PUT /things/{ident}",
        "POST /things",
        "PATCH /things/{ident}",
        "DELETE /things/{ident}",
        "GET /search/sparql",
        "POST /search/sparql",
        "POST /models",
        "GET /match/devices",
        "GET /match/models",
        "GET /match/explain",
    } <= set(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_input_gives_a_server_error(label: str, live: TinyregServer) -> None:
    schema = schemathesis.openapi.from_dict(OPENAPI)
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label
    calls = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call_and_validate(
            base_url=live.base_url,
            headers={"Authorization": f"Bearer {TOKEN}"},
            additional_checks=[not_a_server_error],
            excluded_checks=[positive_data_acceptance],
        )
        calls.append(response.status_code)

    run()
    assert calls, f"no request was made for {label}"
    server_errors = [c for c in calls if c >= 500]
    assert not server_errors, f"{label}: {server_errors}\n{live.output()[-3000:]}"
