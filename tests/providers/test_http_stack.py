"""The HTTP client stack under the provider clients costs no hidden work per request."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

from httpcore._synchronization import current_async_library


class _RecordingFinder(MetaPathFinder):
    def __init__(self) -> None:
        self.searched: list[str] = []

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        self.searched.append(fullname)
        return None


async def test_httpcore_async_library_check_imports_nothing_per_call() -> None:
    """httpcore imports sniffio on every lock setup (several per upstream request); without sniffio
    installed every one of those is a failed import, i.e. a search of sys.path (encode/httpcore#1103).
    The gateway depends on sniffio so the import is a sys.modules hit."""
    finder = _RecordingFinder()
    sys.meta_path.insert(0, finder)
    try:
        for _ in range(10):
            assert current_async_library() == "asyncio"
    finally:
        sys.meta_path.remove(finder)
    assert finder.searched == []
