"""tinyreg's starter knowledge graph: device TDs of real boards, small models and their cards."""

__all__: list[str] = []
