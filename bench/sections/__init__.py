"""One module per report section; each exposes ``async def run(context, stack, ...) -> SectionResult``."""

__all__: list[str] = []
