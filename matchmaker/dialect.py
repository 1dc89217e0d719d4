"""The matchmaker's queries in the dialect of the store that runs them.

Virtuoso open source 7.2.5 refuses ``BIND(EXISTS { ... })`` (``SQ074``), which
``verdicts.rq`` uses to decide the operator and sensor checks. On a store whose
:attr:`~tinyreg.core.stores.GraphStore.dialect` is ``"virtuoso"`` that block is replaced by
``verdict_checks_virtuoso.rq`` (the same checks as grouped counts); every other store
gets ``verdicts.rq`` as written, which Oxigraph evaluates faster at fleet scale (the
counts are computed over every model, not only the bound one).
"""

from __future__ import annotations

from functools import cache

from tinyreg.core.errors import ConfigError
from tinyreg.core.queries import load_query

PACKAGE = "tinyreg.matchmaker"
BEGIN = "  # BEGIN checks"
END = "  # END checks\n"


@cache
def verdict_query(dialect: str) -> str:
    """The verdict query (``verdicts.rq``) in a store's dialect.

    Args:
        dialect: The ``dialect`` of the store that will run the query.

    Returns:
        The query text, with the checks block of the store's dialect.

    Raises:
        ConfigError: The packaged query lacks the markers of its checks block.

    """
    query = load_query(PACKAGE, "verdicts")
    if dialect != "virtuoso":
        return query
    return with_virtuoso_checks(query)


def with_virtuoso_checks(query: str) -> str:
    """``query`` (``verdicts.rq``) with its checks block replaced by Virtuoso's.

    Args:
        query: The text of ``verdicts.rq``.

    Returns:
        The Virtuoso variant.

    Raises:
        ConfigError: The query lacks the markers of its checks block.

    """
    start, end = query.find(BEGIN), query.find(END)
    if start < 0 or end < start:
        raise ConfigError("verdicts.rq lacks its '# BEGIN checks' / '# END checks' markers")
    checks = load_query(PACKAGE, "verdict_checks_virtuoso")
    body = "".join(line + "\n" for line in checks.splitlines() if not line.startswith("#"))
    return query[:start] + body + query[end + len(END) :]
