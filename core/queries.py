"""The one loader of packaged SPARQL queries.

Every query lives in a ``queries/NAME.rq`` file of the package that runs it
(``tinyreg.registry`` or ``tinyreg.matchmaker``); values are bound by the store
(``substitutions``), never formatted into the text.

>>> "SELECT" in load_query("tinyreg.matchmaker", "verdicts")
True
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from tinyreg.core.errors import ConfigError

__all__ = ["load_query"]


@cache
def load_query(package: str, name: str) -> str:
    """The text of ``queries/NAME.rq`` shipped with ``package``.

    Args:
        package: The dotted package that ships the query, e.g. ``tinyreg.registry``.
        name: The file stem.

    Raises:
        ConfigError: If the package ships no such query (an installation without its data).

    """
    entry = resources.files(package).joinpath("queries", f"{name}.rq")
    if not entry.is_file():
        raise ConfigError(f"no packaged query {name}.rq in {package}")
    return entry.read_text("utf-8")
