"""Matchmaker: compatible model–device pairs, ranked and explained with numbers, as SPARQL.

>>> from tinyreg.matchmaker import Matchmaker
>>> Matchmaker.__name__
'Matchmaker'
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tinyreg.matchmaker.engine import (
        Constraint,
        Match,
        Matches,
        Matchmaker,
        Ranked,
        Verdict,
    )

__all__ = ["Constraint", "Match", "Matches", "Matchmaker", "Ranked", "Verdict"]


def __getattr__(name: str) -> Any:
    """Load the engine on first use (a command that never matches never loads it)."""
    if name in __all__:
        from tinyreg.matchmaker import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
