"""Policy variables (``${aws:username}``) in ``Resource`` and condition values, as IAM substitutes them.

Only policies of version ``2012-10-17`` have variables. ``${key}`` is the context value of the key;
``${key, 'default'}`` falls back to the default; ``${*}``, ``${?}`` and ``${$}`` are the literal characters.
A variable whose key is absent (and has no default) makes the value unmatchable: ``substitute`` returns None.
Multivalued keys cannot be substituted (IAM treats them as absent).
"""

from __future__ import annotations

import re

from local.iam.context import RequestContext

VARIABLES_VERSION = "2012-10-17"
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_LITERALS = {"*": "*", "?": "?", "$": "$"}
_DEFAULT = re.compile(r"^\s*([^,]+?)\s*,\s*'([^']*)'\s*$")


class _Unresolved(Exception):
    pass


def _value_of(expression: str, context: RequestContext) -> str:
    if expression in _LITERALS:
        return _LITERALS[expression]
    default = _DEFAULT.match(expression)
    key, fallback = (default.group(1), default.group(2)) if default else (expression.strip(), None)
    values = context.get(key)
    if values is not None and len(values) == 1:
        return values[0]
    if fallback is not None:
        return fallback
    raise _Unresolved(key)


def substitute(value: str, context: RequestContext, version: str | None) -> str | None:
    """``value`` with its variables replaced from ``context``; None if one cannot be resolved."""
    if version != VARIABLES_VERSION or "${" not in value:
        return value
    try:
        return _VARIABLE.sub(lambda m: _value_of(m.group(1), context), value)
    except _Unresolved:
        return None
