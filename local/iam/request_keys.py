"""Condition keys whose values the request's own parameters give (``s3:prefix``, ``cloudwatch:namespace``…).

Generic, from the key's name: ``<service>:<Name>`` is the parameter ``Name`` (case and punctuation aside:
``s3:max-keys`` is ``MaxKeys``); ``<service>:<Outer>:<Inner>`` is a nested member
(``sagemaker:ModelLifeCycle:Stage`` is ``ModelLifeCycle.Stage``); ``<service>:<Map>/${Key}`` gives one key per
entry of a map parameter (``sagemaker:CustomerMetadataProperties/${MetadataKey}``). Tags (``aws:RequestTag/…``,
``aws:TagKeys``) come from the request's tag parameter in any of the shapes AWS APIs use.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from local.iam.context import ContextValue

_NON_ALNUM = re.compile(r"[^a-z0-9]")
_TAG_PARAMETERS = ("Tags", "tags", "TagSet", "Tagging")


def _normal(name: str) -> str:
    return _NON_ALNUM.sub("", name.lower())


def _member(value: Any, name: str) -> Any:
    if not isinstance(value, Mapping):
        return None
    wanted = _normal(name)
    return next((v for k, v in value.items() if _normal(str(k)) == wanted), None)


def _as_context(value: Any) -> ContextValue | None:
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value):
        return [str(v) for v in value]
    return None


def _tag_pairs(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        if "TagSet" in value:  # S3: {"TagSet": [{"Key": ..., "Value": ...}]}
            return _tag_pairs(value["TagSet"])
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        pairs = {}
        for item in value:
            if isinstance(item, Mapping):
                key = item.get("Key", item.get("key", item.get("TagKey")))
                if key is not None:
                    pairs[str(key)] = str(item.get("Value", item.get("value", item.get("TagValue", ""))))
        return pairs
    return {}


def request_tags(params: Mapping[str, Any]) -> dict[str, str]:
    """The tags a request sets (``Tags=[{"Key": k, "Value": v}]``, ``Tags={k: v}``, S3's ``Tagging.TagSet``)."""
    for name in _TAG_PARAMETERS:
        if name in params:
            return _tag_pairs(params[name])
    return {}


def _key_values(params: Mapping[str, Any], key: str) -> dict[str, ContextValue]:
    service, _, local = key.partition(":")
    if "/" in local:
        map_name = local.split("/", 1)[0]
        entries = _member(params, map_name)
        return {f"{service}:{map_name}/{k}": str(v) for k, v in _tag_pairs(entries).items()} if entries else {}
    value: Any = params
    for part in local.split(":"):
        value = _member(value, part)
    context = _as_context(value)
    return {key: context} if context is not None else {}


def request_condition_keys(params: Mapping[str, Any], keys: Collection[str]) -> dict[str, ContextValue]:
    """The values the parameters give to these condition keys (the keys the reference lists for the action)."""
    values: dict[str, ContextValue] = {}
    tags = request_tags(params)
    for key in dict.fromkeys(keys):
        if key.startswith("aws:"):
            continue  # global keys: tags below, the rest from the principal and the transport
        values.update(_key_values(params, key))
    if tags:
        values.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
        values["aws:TagKeys"] = list(tags)
        if "s3:RequestObjectTagKeys" in keys:  # S3 names object tags with keys of its own
            values.update({f"s3:RequestObjectTag/{k}": v for k, v in tags.items()})
            values["s3:RequestObjectTagKeys"] = list(tags)
    return values
