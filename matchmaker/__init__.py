"""Matchmaker: compatible model-device pairs, explained and ranked (constraints compile to SPARQL)."""
