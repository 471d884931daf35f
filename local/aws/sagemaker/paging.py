"""Request checks the SageMaker list and search actions share: enum values, page sizes, pagination tokens."""

from __future__ import annotations

import re

from moto.sagemaker.exceptions import ValidationError


def check_enum(value: str | None, allowed: tuple[str, ...], parameter: str) -> None:
    """ValidationException as the API words it when ``value`` (if given) is not one of ``allowed``."""
    if value not in (None, *allowed):
        raise ValidationError(
            f"Value '{value}' at '{parameter}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )


def page_size(max_results: int | None, default: int) -> int:
    """``MaxResults`` (1-100), or ``default`` when not given."""
    limit = default if max_results is None else int(max_results)
    if not 1 <= limit <= 100:
        raise ValidationError(
            f"Value '{limit}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100"
        )
    return limit


def page_start(next_token: str | None, total: int) -> int:
    """Where the page a ``NextToken`` designates starts (an offset into ``total`` results)."""
    if not next_token:
        return 0
    if not re.fullmatch(r"\d+", next_token) or int(next_token) > total:
        raise ValidationError("Invalid pagination token because of an invalid NextToken.")
    return int(next_token)


def next_token(start: int, limit: int, total: int) -> str | None:
    """The token of the page after the one at ``start`` (None on the last page)."""
    return str(start + limit) if start + limit < total else None
