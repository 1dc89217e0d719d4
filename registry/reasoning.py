r"""OWL consistency of the ontology together with the registry's graph (owlready2 + HermiT).

HermiT is a Java program shipped inside owlready2; it needs a Java runtime (``java`` on
the PATH, Java 11 or later). Without Java the check is reported as not run, never as
passed. The registered TD documents (``tr:tdDocument``, ``rdf:JSON`` literals) are left
out: ``rdf:JSON`` is not in the OWL 2 datatype map.

owlready2 reads an ``xsd:dateTime`` into Python and writes it back for HermiT with six
fractional digits (``...36.954000+00:00``), which HermiT refuses as malformed; the graph's
timestamps (microseconds, as rdflib, Oxigraph and SPARQL servers accept) are therefore handed
to the reasoner cut to whole seconds. Nothing in the ontology reasons about sub-second times.

>>> _java_cause('Java error message is:\nException in thread "main" x.BadLiteralException: '
...             'Literal 1 is malformed\n\tat org.A.b(A.java:1)')
'x.BadLiteralException: Literal 1 is malformed'
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rdflib import XSD, Graph, Literal
from rdflib.term import Node

from tinyreg.core.literals import xml_safe
from tinyreg.core.namespaces import TR
from tinyreg.ontology import ontology_graph

__all__ = ["OwlOutcome", "owl_consistency"]


@dataclass(frozen=True)
class OwlOutcome:
    """Result of an OWL consistency check.

    Attributes:
        ran: False when the reasoner could not run (no Java); ``consistent`` is then False.
        consistent: True when HermiT found the ontology plus graph consistent.
        detail: The reasoner's message, or why it did not run.
        seconds: Time the reasoner took.
        triples: Triples given to the reasoner.

    """

    ran: bool
    consistent: bool
    detail: str
    seconds: float
    triples: int

    @property
    def summary(self) -> str:
        """One line for people."""
        if not self.ran:
            return f"not run: {self.detail}"
        verdict = "consistent" if self.consistent else f"INCONSISTENT: {self.detail}"
        return f"{verdict} ({self.triples:,} triples, HermiT {self.seconds:.1f} s)"


def owl_consistency(data: Graph) -> OwlOutcome:
    """Check that the ontology and a data graph are consistent together.

    Args:
        data: The registry graph (or any graph in tinyreg terms).

    Returns:
        The outcome; a missing Java runtime gives ``ran=False``.

    """
    if shutil.which("java") is None:
        return OwlOutcome(False, False, "no Java runtime on the PATH (HermiT needs java)", 0.0, 0)
    import owlready2

    merged = Graph()
    for triple in ontology_graph():
        merged.add(triple)
    for s, p, o in data:
        if p != TR.tdDocument:
            merged.add((s, p, _for_hermit(o)))
    with tempfile.TemporaryDirectory(prefix="tinyreg-owl-") as tmp:
        path = Path(tmp) / "merged.nt"
        merged.serialize(destination=str(path), format="nt", encoding="utf-8")
        world = owlready2.World()
        onto = world.get_ontology(path.as_uri()).load(format="ntriples")
        start = time.perf_counter()
        try:
            with onto:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError as exc:
            return OwlOutcome(
                True, False, str(exc) or "inconsistent", time.perf_counter() - start, len(merged)
            )
        except owlready2.OwlReadyJavaError as exc:
            return OwlOutcome(
                False,
                False,
                f"HermiT failed: {_java_cause(str(exc))}",
                time.perf_counter() - start,
                len(merged),
            )
        finally:
            world.close()
    return OwlOutcome(True, True, "consistent", time.perf_counter() - start, len(merged))


def _for_hermit(term: Node) -> Node:
    """A term as HermiT reads it.

    ``xsd:dateTime`` loses its fraction of a second; text loses the characters XML cannot
    hold (a TD may carry them in JSON escapes).
    """
    if not isinstance(term, Literal):
        return term
    if term.datatype == XSD.dateTime and "." in str(term):
        head, _, rest = str(term).partition(".")
        return Literal(head + rest.lstrip("0123456789"), datatype=XSD.dateTime)
    safe = xml_safe(str(term))
    if safe != str(term):
        return Literal(safe, lang=term.language, datatype=term.datatype)
    return term


def _java_cause(message: str) -> str:
    """The exception line of a Java stack trace (not its last ``at ...`` frame)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    for line in lines:
        if "Exception" in line or "Error" in line:
            return re.sub(r'^Exception in thread "?[^" ]+"?\s+', "", line)
    return lines[-1] if lines else "no message"
