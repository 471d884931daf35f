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
# A resolver answers every key that starts with its prefix: ``{"aws:resourcetag/": lambda: {"team": "ml"}}``
# gives ``aws:ResourceTag/team``. Its keys are matched case-insensitively.
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
    _resolvers: dict[str, Resolver] = field(default_factory=dict)
    _resolved: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, values: Mapping[str, ContextValue] | None = None, **resolvers: Resolver) -> RequestContext:
        context = cls()
        context.update(values or {})
        for prefix, resolver in resolvers.items():
            context.resolve(prefix, resolver)
        return context

    def update(self, values: Mapping[str, ContextValue]) -> RequestContext:
        for key, value in values.items():
            if value is not None:
                self._values[key.lower()] = _as_strings(value)
        return self

    def resolve(self, prefix: str, resolver: Resolver) -> RequestContext:
        """Keys starting with ``prefix`` (e.g. ``aws:ResourceTag/``) come from ``resolver()``, called at most once."""
        self._resolvers[prefix.lower()] = resolver
        return self

    def copy(self) -> RequestContext:
        return RequestContext(dict(self._values), dict(self._resolvers), dict(self._resolved))

    def get(self, key: str) -> tuple[str, ...] | None:
        lowered = key.lower()
        if lowered in self._values:
            return self._values[lowered]
        for prefix, resolver in self._resolvers.items():
            if lowered.startswith(prefix):
                if prefix not in self._resolved:
                    self._resolved[prefix] = {k.lower(): v for k, v in resolver().items()}
                value = self._resolved[prefix].get(lowered[len(prefix) :])
                return None if value is None else (value,)
        return None

    def keys(self) -> list[str]:
        """The keys known without calling a resolver (for logs)."""
        return sorted(self._values)
