"""``Search`` with ``Resource=ModelPackage``, as the API reference describes it (moto's ignores nested properties,
stops at the first tag filter and neither sorts nor pages).

A ``SearchExpression`` combines ``Filters``, ``NestedFilters`` and ``SubExpressions`` with its ``Operator``
(``And``, the default, or ``Or``), at most 50 of them in all and at least one. A filter's ``Name`` is a property of
the ``ModelPackage`` record, dotted into structures (``ModelLifeCycle.Stage``) and tags (``Tags.<key>``); its
``Operator`` defaults to ``Equals``; ``GreaterThan``... compare numbers and timestamps (ISO 8601 ``Value``), not
text; ``In`` takes comma-separated values; ``Exists`` / ``NotExists`` take no value. Results are sorted by
``SortBy`` (default ``LastModifiedTime``), ``Descending`` unless asked otherwise, ``MaxResults`` a page
(10 when not given: the reference states no default), with ``NextToken`` and ``TotalHits``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore.model import StructureShape
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import ModelPackage

from local.aws.sagemaker.paging import check_enum, next_token, page_size, page_start

OPERATORS = (
    "Equals",
    "NotEquals",
    "GreaterThan",
    "GreaterThanOrEqualTo",
    "LessThan",
    "LessThanOrEqualTo",
    "Contains",
    "Exists",
    "NotExists",
    "In",
)
ORDERED = {
    "GreaterThan": lambda actual, wanted: actual > wanted,
    "GreaterThanOrEqualTo": lambda actual, wanted: actual >= wanted,
    "LessThan": lambda actual, wanted: actual < wanted,
    "LessThanOrEqualTo": lambda actual, wanted: actual <= wanted,
}
MAX_COMPONENTS = 50
DEFAULT_PAGE_SIZE = 10


def _record_properties() -> frozenset[str]:
    """The properties of a ``ModelPackage`` search record (botocore's model of the wire)."""
    shape = botocore.session.get_session().get_service_model("sagemaker").shape_for("ModelPackage")
    return frozenset(shape.members) if isinstance(shape, StructureShape) else frozenset()


PROPERTIES = _record_properties()


def search_record(package: ModelPackage) -> dict[str, Any]:
    record = package.gen_response_object()
    if package.tags:
        record["Tags"] = list(package.tags)
    return record


def _values(record: Mapping[str, Any], name: str) -> list[Any]:
    """Every value at the dotted property ``name`` (lists are looked into: any element may match)."""
    head, _, rest = name.partition(".")
    if head not in PROPERTIES:
        raise ValidationError(f"Unknown property name: {name}")
    if head == "Tags":
        return [t.get("Value") for t in record.get("Tags") or [] if t.get("Key") == rest]
    found = _flat([record.get(head)])
    for part in rest.split(".") if rest else []:
        found = _flat([item.get(part) for item in found if isinstance(item, Mapping)])
    return found


def _flat(values: Iterable[Any]) -> list[Any]:
    """The values, with lists opened one level, without the absent ones."""
    return [item for value in values for item in (value if isinstance(value, list) else [value]) if item is not None]


def _timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(f"Invalid timestamp value '{text}': expected YYYY-mm-dd'T'HH:MM:SS") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _comparable(actual: Any, wanted: str, name: str) -> tuple[Any, Any]:
    """``(actual, wanted)`` as numbers or times; text cannot be ordered."""
    if isinstance(actual, bool) or not isinstance(actual, int | float | datetime):
        raise ValidationError(f"Range operators are not supported for text property {name}")
    if isinstance(actual, datetime):
        return (actual if actual.tzinfo else actual.replace(tzinfo=UTC)), _timestamp(wanted)
    try:
        return actual, float(wanted)
    except ValueError as exc:
        raise ValidationError(f"Value '{wanted}' for numeric property {name} is not a number") from exc


def _equal(actual: Any, wanted: str) -> bool:
    if isinstance(actual, bool):
        return str(actual).lower() == wanted.lower()
    if isinstance(actual, int | float):
        try:
            return float(actual) == float(wanted)
        except ValueError:
            return False
    if isinstance(actual, datetime):
        return (actual if actual.tzinfo else actual.replace(tzinfo=UTC)) == _timestamp(wanted)
    return str(actual) == wanted


def _value_matches(actual: Any, operator: str, wanted: str, name: str) -> bool:
    if operator == "Equals":
        return _equal(actual, wanted)
    if operator == "Contains":
        return wanted in str(actual)
    if operator == "In":
        return any(_equal(actual, option.strip()) for option in wanted.split(","))
    left, right = _comparable(actual, wanted, name)
    return bool(ORDERED[operator](left, right))


def filter_matches(record: Mapping[str, Any], flt: Mapping[str, Any]) -> bool:
    name, operator, wanted = flt["Name"], flt.get("Operator") or "Equals", str(flt.get("Value"))
    values = _values(record, name)
    if operator in ("Exists", "NotExists"):
        return bool(values) == (operator == "Exists")
    if operator == "NotEquals":
        return not any(_equal(v, wanted) for v in values)
    return any(_value_matches(v, operator, wanted, name) for v in values)


def _check_filter(flt: Mapping[str, Any]) -> None:
    """A filter's property, operator and value, checked before any resource is looked at."""
    name, operator = flt["Name"], flt.get("Operator") or "Equals"
    _values({}, name)  # an unknown property is refused even when nothing would match
    check_enum(operator, OPERATORS, "searchExpression.filters.member.operator")
    if operator not in ("Exists", "NotExists") and flt.get("Value") is None:
        raise ValidationError(f"A value is required for the {operator} operator of the filter on {name}")


def _nested_matches(record: Mapping[str, Any], nested: Mapping[str, Any]) -> bool:
    """Some one element of the list property ``NestedPropertyName`` satisfies every filter."""
    prefix = nested["NestedPropertyName"]
    head, _, rest = prefix.partition(".")
    for element in _values(record, prefix):
        scoped: Any = element
        for part in reversed(rest.split(".")) if rest else []:
            scoped = {part: scoped}
        if all(filter_matches({head: scoped}, flt) for flt in nested["Filters"]):
            return True
    return False


def _components(expression: Mapping[str, Any]) -> int:
    own = len(expression.get("Filters") or []) + len(expression.get("NestedFilters") or [])
    subs = expression.get("SubExpressions") or []
    return own + len(subs) + sum(_components(sub) for sub in subs)


def expression_matches(record: Mapping[str, Any], expression: Mapping[str, Any]) -> bool:
    outcomes: Iterable[bool] = (
        *(filter_matches(record, f) for f in expression.get("Filters") or []),
        *(_nested_matches(record, n) for n in expression.get("NestedFilters") or []),
        *(expression_matches(record, s) for s in expression.get("SubExpressions") or []),
    )
    return any(outcomes) if expression.get("Operator") == "Or" else all(outcomes)


def validate_expression(expression: Mapping[str, Any] | None) -> None:
    if expression is None:
        return
    count = _components(expression)
    if count == 0:
        raise ValidationError("A SearchExpression must contain at least one Filter, NestedFilter or SubExpression.")
    if count > MAX_COMPONENTS:
        raise ValidationError(
            f"The SearchExpression contains {count} SubExpressions, NestedFilters and Filters; "
            f"the maximum is {MAX_COMPONENTS}."
        )
    _check_parts(expression)


def _check_parts(expression: Mapping[str, Any]) -> None:
    check_enum(expression.get("Operator"), ("And", "Or"), "searchExpression.operator")
    for flt in expression.get("Filters") or []:
        _check_filter(flt)
    for nested in expression.get("NestedFilters") or []:
        _values({}, nested["NestedPropertyName"])
        for flt in nested["Filters"]:
            _check_filter(flt)
    for sub in expression.get("SubExpressions") or []:
        _check_parts(sub)


def _sort_key(record: Mapping[str, Any], sort_by: str) -> tuple[int, Any]:
    values = _values(record, sort_by)
    if not values:
        return (1, "")
    value = values[0]
    if isinstance(value, datetime):
        return (0, value.timestamp())
    return (0, value if isinstance(value, int | float) else str(value))


def search_model_packages(packages: Iterable[ModelPackage], request: Mapping[str, Any]) -> dict[str, Any]:
    """The ``Search`` response for these packages (every matching record, sorted and paged as requested)."""
    expression = request.get("SearchExpression")
    validate_expression(expression)
    sort_by = request.get("SortBy") or "LastModifiedTime"
    sort_order = request.get("SortOrder")
    check_enum(sort_order, ("Ascending", "Descending"), "sortOrder")
    limit = page_size(request.get("MaxResults"), DEFAULT_PAGE_SIZE)
    records = [search_record(p) for p in packages]
    matching = [r for r in records if expression is None or expression_matches(r, expression)]
    present = [r for r in matching if _sort_key(r, sort_by)[0] == 0]
    absent = [r for r in matching if _sort_key(r, sort_by)[0] == 1]
    present.sort(key=lambda r: _sort_key(r, sort_by)[1], reverse=sort_order != "Ascending")
    ordered = present + absent
    start = page_start(request.get("NextToken"), len(ordered))
    response: dict[str, Any] = {
        "Results": [{"ModelPackage": r} for r in ordered[start : start + limit]],
        "TotalHits": {"Value": len(ordered), "Relation": "EqualTo"},
    }
    following = next_token(start, limit, len(ordered))
    if following:
        response["NextToken"] = following
    return response
