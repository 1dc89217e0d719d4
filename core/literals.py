r"""Text and literal forms that every consumer of the graph accepts.

rdflib, Oxigraph and SPARQL servers hold any Unicode text, but XML 1.0 (RDF/XML, OWL tools
such as HermiT, many SPARQL result writers) cannot hold most control characters, and a
``.tflite`` file or a TD's JSON escapes may carry them. Text read from outside is made safe
once, where it enters.

>>> xml_safe("conv\x00/relu\x1b") == "conv\ufffd/relu\ufffd"
True
>>> xml_safe("tab\tnew line\n") == "tab\tnew line\n"
True
"""

from __future__ import annotations

import re

__all__ = ["xml_safe"]

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)
