"""Wildcard matching as IAM does it: ``*`` and ``?`` in actions, strings and ARNs.

- Actions (``Action``/``NotAction``) match case-insensitively, the whole ``service:Name`` at once.
- Strings (``StringLike``) match case-sensitively; ``*`` spans anything, ``/`` and ``:`` included.
- ARNs (``Resource``, ``ArnLike``, ``ArnEquals``) match each of the six colon-separated parts separately
  (``arn:partition:service:region:account:resource``), case-sensitively; a wildcard never spans the first five
  colons, while the resource part, colons and all, is one part. ``"*"`` alone matches every resource.
"""

from __future__ import annotations

import re
from functools import lru_cache

ARN_PARTS = 6


@lru_cache(maxsize=8192)
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches ``pattern`` in full, ``*`` for any run of characters and ``?`` for one."""
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return _compiled(pattern, ignore_case).fullmatch(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    """``sagemaker:Describe*`` matches ``sagemaker:DescribeEndpoint`` (actions are case-insensitive)."""
    return pattern == "*" or glob_match(pattern, action, ignore_case=True)


def arn_matches(pattern: str, arn: str) -> bool:
    """Whether ``arn`` matches the ARN pattern, part by part (see the module docstring)."""
    if pattern == "*":
        return True
    pattern_parts = pattern.split(":", ARN_PARTS - 1)
    arn_parts = arn.split(":", ARN_PARTS - 1)
    if len(arn_parts) != ARN_PARTS:
        return glob_match(pattern, arn)  # not an ARN (an action without a resource type is on "*")
    if len(pattern_parts) != ARN_PARTS:
        return False  # a pattern of fewer parts names no ARN

    return all(glob_match(p, a) for p, a in zip(pattern_parts, arn_parts, strict=True))
