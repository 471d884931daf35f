"""Evaluation of a pipeline definition's expressions (the JSON that ``Pipeline.definition()`` produces).

Supported, as SageMaker documents them: ``{"Get": "Parameters.X"}``, ``{"Get": "Execution.PipelineExecutionId"}``
(and the other execution variables), ``{"Get": "Steps.S.<property path>"}`` into the step's Describe* response,
``{"Std:Join": {"On": ..., "Values": [...]}}`` and ``{"Std:JsonGet": {"PropertyFile" | "S3Uri": ..., "Path": ...}}``,
and the condition types of ConditionStep.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_NAME_KEYS = ("OutputName", "InputName", "ChannelName", "Name", "MetricName")


class ExpressionError(Exception):
    """An expression cannot be evaluated (undefined reference, bad path, unreadable property file)."""


def tokens(path: str) -> list[str | int]:
    result: list[str | int] = []
    for match in _TOKEN.finditer(path):
        name, index, single, double = match.groups()
        if name is not None:
            result.append(name)
        elif index is not None:
            result.append(int(index))
        else:
            result.append(f"[{single if single is not None else double}]")
    return result


def lookup(document: Any, path: str) -> Any:
    """Follow ``path`` (``A.B['name'].C[0]``) in ``document``; ``['name']`` selects a list element by its
    ``OutputName`` / ``InputName`` / ``ChannelName`` or a map key."""
    node = document
    for token in tokens(path):
        if isinstance(token, int):
            if not isinstance(node, list) or token >= len(node):
                raise ExpressionError(f"{path}: index {token} out of range")
            node = node[token]
        elif token.startswith("["):
            key = token[1:-1]
            if isinstance(node, Mapping) and key in node:
                node = node[key]
            elif isinstance(node, list):
                found = [item for item in node if any(item.get(k) == key for k in _NAME_KEYS)]
                if not found:
                    raise ExpressionError(f"{path}: no element named {key!r}")
                node = found[0]
            else:
                raise ExpressionError(f"{path}: no key {key!r}")
        else:
            if not isinstance(node, Mapping) or token not in node:
                raise ExpressionError(f"{path}: {token!r} is undefined")
            node = node[token]
    return node


@dataclass
class Context:
    """What expressions of one execution can see."""

    parameters: dict[str, Any]
    execution: dict[str, Any]  # PipelineExecutionId, PipelineExecutionArn, PipelineName, PipelineArn, StartDateTime
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)  # step name -> properties (Describe* response)
    property_files: dict[str, dict[str, str]] = field(default_factory=dict)  # "Step.File" -> {"S3Uri": ...}
    read_s3: Callable[[str], bytes] | None = None


def _get(reference: str, ctx: Context) -> Any:
    head, _, rest = reference.partition(".")
    if head == "Parameters":
        if rest not in ctx.parameters:
            raise ExpressionError(f"parameter {rest!r} is undefined")
        return ctx.parameters[rest]
    if head == "Execution":
        if rest == "CurrentDateTime":
            return datetime.now().isoformat()
        if rest not in ctx.execution:
            raise ExpressionError(f"execution variable {rest!r} is undefined")
        return ctx.execution[rest]
    if head == "Steps":
        step, _, path = rest.partition(".")
        if step not in ctx.steps:
            raise ExpressionError(f"step {step!r} has no properties (not run or not succeeded)")
        if path.startswith("PropertyFiles."):
            key = f"{step}.{path.removeprefix('PropertyFiles.')}"
            if key not in ctx.property_files:
                raise ExpressionError(f"property file {key} is undefined")
            return {"PropertyFile": key}
        return lookup(ctx.steps[step], path)
    raise ExpressionError(f"unsupported reference {reference!r}")


def _json_get(spec: Mapping[str, Any], ctx: Context) -> Any:
    if "PropertyFile" in spec:
        ref = resolve(spec["PropertyFile"], ctx)
        key = ref["PropertyFile"] if isinstance(ref, Mapping) else str(ref)
        uri = ctx.property_files[key]["S3Uri"]
    else:
        uri = str(resolve(spec["S3Uri"], ctx))
    if ctx.read_s3 is None:
        raise ExpressionError("no S3 reader to evaluate Std:JsonGet")
    try:
        document = json.loads(ctx.read_s3(uri))
    except Exception as exc:
        raise ExpressionError(f"cannot read JSON from {uri}: {exc}") from exc
    return lookup(document, spec["Path"])


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def resolve(value: Any, ctx: Context) -> Any:
    """``value`` with every expression replaced by its value."""
    if isinstance(value, list):
        return [resolve(item, ctx) for item in value]
    if not isinstance(value, Mapping):
        return value
    if set(value) == {"Get"}:
        return _get(value["Get"], ctx)
    if set(value) == {"Std:Join"}:
        spec = value["Std:Join"]
        return spec.get("On", "").join(_text(resolve(item, ctx)) for item in spec.get("Values", []))
    if set(value) == {"Std:JsonGet"}:
        return _json_get(value["Std:JsonGet"], ctx)
    return {key: resolve(item, ctx) for key, item in value.items()}


def references(value: Any) -> set[str]:
    """Names of the steps whose properties ``value`` refers to (data dependencies)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, Mapping):
        get = value.get("Get")
        if isinstance(get, str) and get.startswith("Steps."):
            found.add(get.split(".")[1])
        for item in value.values():
            found |= references(item)
    return found


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: a == b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}


def condition(spec: Mapping[str, Any], ctx: Context) -> bool:
    kind = spec["Type"]
    if kind in _COMPARE:
        left, right = resolve(spec["LeftValue"], ctx), resolve(spec["RightValue"], ctx)
        try:
            return bool(_COMPARE[kind](left, right))
        except TypeError as exc:
            raise ExpressionError(f"{kind} cannot compare {left!r} with {right!r}") from exc
    if kind == "Not":
        return not condition(spec["Condition"], ctx)
    if kind == "Or":
        return any(condition(item, ctx) for item in spec["Conditions"])
    if kind == "In":
        return resolve(spec["QueryValue"], ctx) in resolve(spec["Values"], ctx)
    raise ExpressionError(f"condition type {kind!r} is not supported")
