"""A library of named entries (alterations, drugs) looked up by name or alias."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Generic, Protocol, TypeVar

from her2sim.errors import ModelFormatError, UnknownNameError

__all__ = ["NamedLibrary"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def aliases(self) -> tuple[str, ...]: ...


T = TypeVar("T", bound=_Named)


class NamedLibrary(Generic[T]):
    """Entries looked up by name or alias, case-insensitively; a name used twice is refused.

    ``lines`` holds each entry's line when the library was read from a file, so an error about
    an entry names ``file:line``. Subclasses set ``kind`` (used in messages) and
    ``suggest_aliases`` (whether an unknown name is answered with close aliases as well as
    close names).
    """

    kind = "entry"
    suggest_aliases = False

    def __init__(self, items: Iterable[T], source: str, lines: Sequence[int | None] = ()) -> None:
        self._items = tuple(items)
        self.source = source
        self._lines = tuple(lines)
        self._by_key: dict[str, T] = {}
        for index, item in enumerate(self._items):
            for key in (item.name, *item.aliases):
                if key.lower() in self._by_key:
                    raise ModelFormatError(f"{self.kind} name {key!r} is used twice", source, self.line_of(index))
                self._by_key[key.lower()] = item

    def line_of(self, index: int) -> int | None:
        """The line of the ``index``-th entry in :attr:`source` (None when not read from a file)."""
        return self._lines[index] if index < len(self._lines) else None

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(item.name for item in self._items)

    def find(self, name: str) -> T | None:
        """The entry called ``name`` or one of its aliases, or None."""
        return self._by_key.get(name.strip().lower())

    def get(self, name: str) -> T:
        """The entry called ``name`` or one of its aliases; suggests close names if none."""
        found = self.find(name)
        if found is None:
            pool = [k for i in self._items for k in (i.name, *i.aliases)] if self.suggest_aliases else self.names
            raise UnknownNameError(self.kind, name, pool)
        return found
