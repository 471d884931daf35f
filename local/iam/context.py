"""The request context: the condition-key values of one request, as IAM evaluates them.

Condition key names are case-insensitive (``aws:SourceArn`` is ``AWS:sourcearn``); values are kept as strings,
several for multivalued keys (``aws:TagKeys``). Some keys are costly to know (the tags of the resource in the
emulator's state): they are given as *resolvers*, called the first time a policy asks for a key with their
prefix, and only then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

ContextValue = str | bool | int | float | Iterable[str]
# A resolver answers the keys under its prefixes (e.g. ``aws:ResourceTag/``) with a mapping of full key names to
# values: ``{"aws:ResourceTag/team": "ml"}``. It is called the first time a policy asks for one of them.
Resolver = Callable[[], Mapping[str, str]]


def _as_strings(value: ContextValue) -> tuple[str, ...]:
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, str | int | float):
        return (str(value),)
    return tuple(str(v) for v in value)


@dataclass
class RequestContext:
    """Condition-key values: ``context.get("aws:SourceAccount") -> ("123456789012",)`` or ``None`` if absent."""

    _values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _resolvers: list[tuple[tuple[str, ...], Resolver]] = field(default_factory=list)
    _resolved: dict[int, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, values: Mapping[str, ContextValue] | None = None) -> RequestContext:
        return cls().update(values or {})

    def update(self, values: Mapping[str, ContextValue]) -> RequestContext:
        for key, value in values.items():
            if value is not None:
                self._values[key.lower()] = _as_strings(value)
        return self

    def resolve(self, prefixes: Iterable[str], resolver: Resolver) -> RequestContext:
        """Keys under these prefixes come from ``resolver()``, called at most once, when first asked for."""
        self._resolvers.append((tuple(p.lower() for p in prefixes), resolver))
        return self

    def copy(self) -> RequestContext:
        return RequestContext(dict(self._values), list(self._resolvers), dict(self._resolved))

    def get(self, key: str) -> tuple[str, ...] | None:
        lowered = key.lower()
        if lowered in self._values:
            return self._values[lowered]
        for index, (prefixes, resolver) in enumerate(self._resolvers):
            if lowered.startswith(prefixes):
                if index not in self._resolved:
                    self._resolved[index] = {k.lower(): v for k, v in resolver().items()}
                value = self._resolved[index].get(lowered)
                if value is not None:
                    return (value,)
        return None

    def keys(self) -> list[str]:
        """The keys known without calling a resolver (for logs)."""
        return sorted(self._values)
