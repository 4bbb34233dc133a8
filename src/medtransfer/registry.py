"""A small name → factory registry: duplicates are an error, unknown names suggest close matches."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from medtransfer.errors import MedtransferError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to factories (or classes) with metadata, e.g. ``BACKBONES.register("name", licence=...)``."""

    def __init__(self, kind: str, error: type[MedtransferError] = MedtransferError) -> None:
        self.kind = kind
        self.error = error
        self._items: dict[str, T] = {}
        self._meta: dict[str, dict[str, Any]] = {}

    def register(self, name: str, **meta: Any) -> Callable[[T], T]:
        """Decorator: register ``obj`` under ``name`` with descriptive metadata."""

        def add(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            self._meta[name] = meta
            return obj

        return add

    def get(self, name: str) -> T:
        """Return the entry for ``name`` or raise the registry's error with close matches."""
        if name not in self._items:
            raise self.error(self.unknown_message(name))
        return self._items[name]

    def meta(self, name: str) -> dict[str, Any]:
        self.get(name)
        return self._meta[name]

    def unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self._items), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(sorted(self._items))}."

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def names(self) -> list[str]:
        return sorted(self._items)
