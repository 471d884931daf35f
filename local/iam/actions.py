"""From an API call to what IAM authorizes: the action(s), the resource ARN(s), the request's condition keys.

    >>> checks_for(ApiCall("sagemaker", "CreateModel", {"ModelName": "M-v1", "ExecutionRoleArn": role}, ...))
    [Check("sagemaker:CreateModel", "arn:aws:sagemaker:us-east-1:123456789012:model/m-v1"),
     Check("iam:PassRole", role, {"iam:PassedToService": "sagemaker.amazonaws.com", ...})]

The action, its resource types and their ARN formats come from the Service Authorization Reference
(``local.iam.catalogue``); placeholders are filled from the parameters (same name, case aside; or a parameter that
already is an ARN of the type; or an alias from ``local.iam.operations``). Every required resource type is one
check; an action without one is checked on the most specific optional type the request fully names, else on ``*``.
Dependent actions are checked where the request's shape calls for them: ``iam:PassRole`` on every role ARN passed
(``iam:PassedToService`` = the calling service), the service's tagging action when the request carries tags.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from local.iam.catalogue import CATALOGUE, Catalogue, Privilege, ResourceRequirement, ResourceType
from local.iam.context import ContextValue
from local.iam.operations import (
    ACTION_OF_OPERATION,
    ARN_PARAMETER,
    COPY_SOURCE,
    FOREIGN_SOURCES,
    LOWER_CASED_NAMES,
    OPERATION_PLACEHOLDER_ALIASES,
    PER_ITEM,
    PLACEHOLDER_ALIASES,
    RESOURCE_TYPE_BY_PARAMETER,
    TAGGING_ACTIONS,
    UNAUTHORIZED_OPERATIONS,
    VERSIONED_ACTION,
)
from local.iam.request_keys import request_condition_keys, request_tags


class UnmappedRequest(Exception):
    """The request cannot be turned into IAM checks (an operation or a resource the reference does not name)."""


@dataclass(frozen=True)
class ApiCall:
    """One API request as IAM sees it: the service's IAM prefix, the operation, its parameters, where it goes."""

    service: str
    operation: str
    params: Mapping[str, Any]
    account: str
    region: str
    partition: str = "aws"


@dataclass(frozen=True)
class Check:
    """One authorization: ``action`` on ``resource``, with the condition keys this request gives it."""

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    resource_type: str | None = None
    why: str = "requested"  # requested | dependent | copy source | foreign source | encryption


def _param(params: Mapping[str, Any], name: str) -> Any:
    if name in params:
        return params[name]
    lowered = name.lower()
    return next((v for k, v in params.items() if k.lower() == lowered), None)


def _placeholder(call: ApiCall, name: str) -> str | None:
    aliases = OPERATION_PLACEHOLDER_ALIASES.get((call.service, call.operation)) or PLACEHOLDER_ALIASES.get(call.service)
    alias = (aliases or {}).get(name)
    value = alias(call.params) if alias else None
    if value is None:
        value = {"Partition": call.partition, "Region": call.region, "Account": call.account}.get(name)
    if value is None:
        value = _param(call.params, name)
    if not isinstance(value, str | int) or value == "":
        return None
    text = str(value)
    lower = call.service in LOWER_CASED_NAMES and name not in ("Partition", "Region", "Account")
    return text.lower() if lower else text


def _given_arn(call: ApiCall, resource_type: ResourceType) -> str | None:
    pattern = resource_type.pattern()
    for value in call.params.values():
        if isinstance(value, str) and value.startswith("arn:") and pattern.fullmatch(value):
            return value
    return None


def resource_arn(call: ApiCall, resource_type: ResourceType) -> str | None:
    """The ARN of the resource of this type that the request names, or None if it does not name one."""
    given = _given_arn(call, resource_type)
    if given:
        return given
    values = {name: _placeholder(call, name) for name in resource_type.placeholders}
    if any(v is None for v in values.values()):
        return None
    return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)] or "", resource_type.arn)


def _resource_arns(call: ApiCall, resource_type: ResourceType) -> list[str]:
    """The resources of this type the request names: one, or one per value of a plural list parameter.

    (``DescribeAlarms`` names its alarms in ``AlarmNames``: each is authorized as ``alarm:${AlarmName}``.)
    """
    single = resource_arn(call, resource_type)
    if single:
        return [single]
    for name in resource_type.placeholders:
        values = _param(call.params, f"{name}s")
        if _placeholder(call, name) is None and isinstance(values, list) and values:
            calls = (
                ApiCall(
                    call.service, call.operation, {**call.params, name: v}, call.account, call.region, call.partition
                )
                for v in values
            )
            return [arn for one in calls if (arn := resource_arn(one, resource_type))]
    return []


def _action_name(call: ApiCall) -> str:
    key = (call.service, call.operation)
    if key in VERSIONED_ACTION and _param(call.params, "VersionId"):
        return VERSIONED_ACTION[key]
    return ACTION_OF_OPERATION.get(key, call.operation)


def _targets(call: ApiCall, privilege: Privilege) -> list[tuple[ResourceRequirement | None, str]]:
    """(row, resource ARN) for every resource the action applies to in this request."""
    arn_parameter = ARN_PARAMETER.get((call.service, call.operation))
    given = _param(call.params, arn_parameter) if arn_parameter else None
    if isinstance(given, str) and given.startswith("arn:"):
        return [(None, given)]
    override = RESOURCE_TYPE_BY_PARAMETER.get((call.service, call.operation))
    rows = [r for r in privilege.resources if r.resource_type is not None]
    if override and _param(call.params, override[0]):
        rows = [r for r in rows if r.resource_type and r.resource_type.name == override[1]]
        rows = [ResourceRequirement(r.resource_type, True, r.condition_keys, r.dependent_actions) for r in rows]
    required = [r for r in rows if r.required]
    if required:
        targets: list[tuple[ResourceRequirement | None, str]] = []
        for row in required:
            arns = _resource_arns(call, row.resource_type)  # type: ignore[arg-type]
            if not arns:
                raise UnmappedRequest(f"{privilege.action}: the request names no {row.resource_type.name}")  # type: ignore[union-attr]
            targets.extend((row, arn) for arn in arns)
        return targets
    named = [(row, resource_arn(call, row.resource_type)) for row in rows]  # type: ignore[arg-type]
    candidates = [(row, arn) for row, arn in named if arn is not None]
    if not candidates:
        return [(None, "*")]
    best = max(candidates, key=lambda c: c[0].resource_type.literal_length)  # type: ignore[union-attr]
    return [best]


def _members_named(value: Any, name: str) -> Iterator[str]:
    """Every string value of a member called ``name``, at any depth of the parameters."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            if k == name and isinstance(v, str):
                yield v
            else:
                yield from _members_named(v, name)
    elif isinstance(value, list):
        for item in value:
            yield from _members_named(item, name)


def _foreign_sources(call: ApiCall, privilege: Privilege) -> list[Check]:
    """The action on each resource of another account the request uses (``FOREIGN_SOURCES``)."""
    member = FOREIGN_SOURCES.get((call.service, call.operation))
    if member is None:
        return []
    arns = dict.fromkeys(v for v in _members_named(call.params, member) if v.startswith("arn:"))
    foreign = [arn for arn in arns if len(arn.split(":")) > 5 and arn.split(":")[4] != call.account]
    return [Check(privilege.action, arn, {}, None, "foreign source") for arn in foreign]


def _role_arns(value: Any, key: str = "") -> Iterator[str]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _role_arns(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from _role_arns(item, key)
    elif isinstance(value, str) and key.lower().endswith(("rolearn", "role")) and ":iam::" in value:
        yield value


def _dependents(call: ApiCall, privilege: Privilege, rows: list[tuple[ResourceRequirement | None, str]]) -> list[Check]:
    declared = {a for row in privilege.resources for a in row.dependent_actions}
    primary = rows[0][1]
    checks: list[Check] = []
    if "iam:PassRole" in declared:
        passed_to = f"{call.service}.amazonaws.com"
        for role in dict.fromkeys(_role_arns(call.params)):
            passed: dict[str, ContextValue] = {"iam:PassedToService": passed_to, "iam:AssociatedResourceArn": primary}
            checks.append(Check("iam:PassRole", role, passed, "role", why="dependent"))
    tags = request_tags(call.params)
    for action in sorted(declared):
        service, _, name = action.partition(":")
        if service == call.service and name in TAGGING_ACTIONS and tags:
            context: dict[str, ContextValue] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
            context["aws:TagKeys"] = list(tags)
            context[f"{service}:TaggingAction"] = call.operation
            requirement = rows[0][0]
            kind = requirement.resource_type.name if requirement and requirement.resource_type else None
            checks.append(Check(action, primary, context, kind, "dependent"))
    return checks


def _privilege(call: ApiCall, catalogue: Catalogue) -> Privilege:
    name = _action_name(call)
    privilege = catalogue.privilege(call.service, name)
    if privilege is None:
        raise UnmappedRequest(f"the Service Authorization Reference has no action {call.service}:{name}")
    return privilege


def _single_checks(call: ApiCall, catalogue: Catalogue) -> list[Check]:
    privilege = _privilege(call, catalogue)
    targets = _targets(call, privilege)
    context = request_condition_keys(call.params, privilege.condition_keys)
    checks = [
        Check(privilege.action, arn, context, row.resource_type.name if row and row.resource_type else None)
        for row, arn in targets
    ]
    source = COPY_SOURCE.get((call.service, call.operation))
    if source and isinstance(call.params.get(source), str):
        checks.extend(_copy_source_checks(call, catalogue, call.params[source]))
    return checks + _foreign_sources(call, privilege) + _dependents(call, privilege, targets)


def _copy_source_checks(call: ApiCall, catalogue: Catalogue, source: str) -> list[Check]:
    path, _, query = unquote(source).lstrip("/").partition("?versionId=")
    bucket, _, key = path.partition("/")
    params = {"Bucket": bucket, "Key": key} | ({"VersionId": query} if query else {})
    read = ApiCall(call.service, "GetObject", params, call.account, call.region, call.partition)
    return [
        Check(c.action, c.resource, c.context, c.resource_type, "copy source") for c in _single_checks(read, catalogue)
    ]


def checks_for(call: ApiCall, catalogue: Catalogue = CATALOGUE) -> list[Check]:
    """Every authorization the request needs, in the order AWS would report a denial (the requested action first)."""
    key = (call.service, call.operation)
    if key in UNAUTHORIZED_OPERATIONS:
        return []
    per_item = PER_ITEM.get(key)
    if per_item:
        items: Any = call.params
        for name in per_item:
            items = items.get(name, {}) if isinstance(items, Mapping) else {}
        shared = {k: v for k, v in call.params.items() if k != per_item[0]}
        calls = [
            ApiCall(call.service, call.operation, shared | dict(item), call.account, call.region, call.partition)
            for item in items
        ]
        return [check for single in calls for check in _single_checks(single, catalogue)]
    return _single_checks(call, catalogue)
