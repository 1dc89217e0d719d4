"""Matchmaker: compatible model-device pairs, explained and ranked, as SPARQL."""
