"""The embedded store's write generation, shared with read-only openers of its directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinyreg.core.errors import StoreError
from tinyreg.core.stores import OxigraphStore

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def insert(store: OxigraphStore, n: int) -> None:
    store.update(f"INSERT DATA {{ GRAPH <urn:g:{n}> {{ <urn:s:{n}> <urn:p> {n} }} }}")


def test_read_only_store_follows_the_writer(tmp_path: Path) -> None:
    writer = OxigraphStore(tmp_path / "store")
    try:
        insert(writer, 1)
        reader = OxigraphStore(tmp_path / "store", read_only=True)
        assert reader.select_values(COUNT)[0]["n"] == 1
        for n in range(2, 6):  # each committed write is read at once, nothing half
            before = writer.generation
            insert(writer, n)
            assert writer.generation == before + 1 == reader.generation
            assert reader.select_values(COUNT)[0]["n"] == n
            assert reader.has_graph(f"urn:g:{n}")
        with pytest.raises(StoreError, match="read-only"):
            insert(reader, 99)
        with pytest.raises(StoreError, match="read-only"):
            reader.bulk_load(b"<urn:a> <urn:b> <urn:c> .\n", "urn:g:bulk", rdf_format="nt")
        reader.close()
        writer.bulk_load(b"<urn:a> <urn:b> <urn:c> .\n", "urn:g:bulk", rdf_format="nt")
        assert writer.generation == 6
    finally:
        writer.close()
    again = OxigraphStore(tmp_path / "store")  # the count goes on after a restart
    try:
        assert again.generation == 6
        insert(again, 7)
        assert again.generation == 7
    finally:
        again.close()


def test_in_memory_store_counts_too() -> None:
    store = OxigraphStore(None)
    assert store.generation == 0
    insert(store, 1)
    store.replace_graph("urn:g:1", store.get_graph("urn:g:2"))  # an empty graph: a delete
    assert store.generation == 2
