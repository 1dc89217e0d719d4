"""Graph stores of tinyreg: an embedded Oxigraph directory or a SPARQL endpoint.

Use :func:`open_store` to get a store from a location string (as given on the
command line or in the configuration)::

    with open_store("http://localhost:7878") as store:
        store.replace_graph("https://tinyreg.example/model/kws", graph)
        rows = store.select("SELECT ?m WHERE { ?m a ?type }", {"type": MODEL_CLASS})

Both stores implement :class:`GraphStore` and behave the same way; see
:mod:`tinyreg.core.stores.base` for the shared conventions. The store classes (and rdflib
with them) load on first use, so that :mod:`tinyreg.core.stores.plain`, the light
read-only reader, can be imported without them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from tinyreg.core.errors import ConfigError
from tinyreg.core.lazy import lazy_names

if TYPE_CHECKING:
    from tinyreg.core.stores.base import GraphStore, QueryResult, StoreCapabilities
    from tinyreg.core.stores.oxigraph_store import OxigraphStore
    from tinyreg.core.stores.sparql_store import Auth, SparqlEndpointStore

__all__ = [
    "GraphStore",
    "OxigraphStore",
    "QueryResult",
    "SparqlEndpointStore",
    "StoreCapabilities",
    "default_store_path",
    "open_store",
]


_LAZY = {
    "GraphStore": "tinyreg.core.stores.base",
    "QueryResult": "tinyreg.core.stores.base",
    "StoreCapabilities": "tinyreg.core.stores.base",
    "OxigraphStore": "tinyreg.core.stores.oxigraph_store",
    "SparqlEndpointStore": "tinyreg.core.stores.sparql_store",
}


__getattr__ = lazy_names(globals(), _LAZY)  # store classes load on first use


_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


def default_store_path() -> Path:
    """Return the per-user store directory.

    Returns:
        ``$XDG_DATA_HOME/tinyreg/store`` when ``XDG_DATA_HOME`` is set to an
        absolute path, else ``~/.local/share/tinyreg/store``.

    """
    data_home = os.environ.get("XDG_DATA_HOME", "")
    base = Path(data_home) if os.path.isabs(data_home) else Path.home() / ".local" / "share"
    return base / "tinyreg" / "store"


def open_store(
    location: str | os.PathLike[str] | None = None,
    *,
    auth: Auth | None = None,
    timeout: float | None = 30.0,
) -> GraphStore:
    """Open the store at a location.

    An embedded store directory is locked by the process that opens it; use an
    ``oxigraph serve`` endpoint to share a store between processes.

    Args:
        location: ``None`` for the per-user directory
            (:func:`default_store_path`); an ``http://`` or ``https://`` URL for
            a SPARQL endpoint (see :class:`SparqlEndpointStore` for the URL
            layout); anything else is a directory, created if missing.
        auth: HTTP credentials for an endpoint; ignored for a directory.
        timeout: Seconds to wait for an endpoint; ignored for a directory.

    Returns:
        The open store; close it (or use it as a context manager) when done.

    Raises:
        ConfigError: The location is unusable: a URL of another scheme, an
            existing file, a directory that cannot be created, or a non-empty
            directory that is not a store.
        StoreError: The store directory is locked by another process or corrupt.

    """
    if location is None:
        path = default_store_path()
    else:
        text = os.fspath(location)
        scheme = _URL_SCHEME.match(text)
        if scheme:
            if scheme.group(1).lower() not in ("http", "https"):
                raise ConfigError(
                    f"store location {text!r}: unsupported scheme {scheme.group(1)!r}, "
                    "use a directory or an http(s) SPARQL endpoint URL"
                )
            from tinyreg.core.stores.sparql_store import SparqlEndpointStore

            return SparqlEndpointStore(text, auth=auth, timeout=timeout)
        if not text:
            raise ConfigError("store location is empty")
        path = Path(text).expanduser()
    _prepare_directory(path)
    from tinyreg.core.stores.oxigraph_store import OxigraphStore

    return OxigraphStore(path)


def _prepare_directory(path: Path) -> None:
    """Make sure a path can hold an embedded store, creating it if missing.

    Args:
        path: The store directory.

    Raises:
        ConfigError: The path is not a directory, cannot be created, or is a
            non-empty directory without a store in it.

    """
    if path.exists() and not path.is_dir():
        raise ConfigError(f"store location {path}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"store location {path}: cannot create directory: {exc}") from exc
    try:
        entries = [entry.name for entry in path.iterdir()]
    except OSError as exc:
        raise ConfigError(f"store location {path}: cannot read directory: {exc}") from exc
    if entries and "CURRENT" not in entries:
        raise ConfigError(
            f"store location {path}: the directory is not empty and holds no store; "
            "use an empty or new directory"
        )
