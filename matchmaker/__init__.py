"""Matchmaker: compatible model–device pairs, ranked and explained with numbers, as SPARQL.

>>> from tinyreg.matchmaker import Matchmaker
>>> Matchmaker.__name__
'Matchmaker'
"""

from tinyreg.matchmaker.engine import (
    Constraint,
    Match,
    Matches,
    Matchmaker,
    Ranked,
    Verdict,
)

__all__ = ["Constraint", "Match", "Matches", "Matchmaker", "Ranked", "Verdict"]
