"""Request parameters from an HTTP request, by the operation's botocore input shape, for each protocol.

``json``: the JSON body. ``query``: form fields (``Tags.member.1.Key``, ``Attributes.entry.1.key``, flattened
lists ``AttributeName.1``) folded back into structures, lists and maps. ``rest-json`` / ``rest-xml``: URI labels,
query-string and header members, and the body (a JSON or XML payload, unless it is a blob).
Values stay strings where the wire has strings, except numbers and booleans the shape types say.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

_NUMBERS = {"integer": int, "long": int, "float": float, "double": float}


def _scalar(shape: Shape, text: str) -> Any:
    if shape.type_name in _NUMBERS:
        try:
            return _NUMBERS[shape.type_name](text)
        except ValueError:
            return text
    if shape.type_name == "boolean":
        return text.lower() == "true"
    return text


def _has_prefix(flat: Mapping[str, str], prefix: str) -> bool:
    dotted = prefix + "."
    return any(key == prefix or key.startswith(dotted) for key in flat)


def _query_list(shape: ListShape, prefix: str, flat: Mapping[str, str]) -> list[Any] | None:
    member_name = shape.member.serialization.get("name", "member")
    items = []
    for index in range(1, 10_000):
        item = f"{prefix}.{index}" if shape.serialization.get("flattened") else f"{prefix}.{member_name}.{index}"
        if not _has_prefix(flat, item):
            break
        items.append(query_value(shape.member, item, flat))
    return items or None


def _query_map(shape: MapShape, prefix: str, flat: Mapping[str, str]) -> dict[str, Any] | None:
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    entries: dict[str, Any] = {}
    for index in range(1, 10_000):
        entry = f"{prefix}.{index}" if shape.serialization.get("flattened") else f"{prefix}.entry.{index}"
        if not _has_prefix(flat, entry):
            break
        key = flat.get(f"{entry}.{key_name}")
        if key is not None:
            entries[key] = query_value(shape.value, f"{entry}.{value_name}", flat)
    return entries or None


def query_value(shape: Shape, prefix: str, flat: Mapping[str, str]) -> Any:
    """The value at ``prefix`` of query-protocol form fields, by its shape."""
    if isinstance(shape, StructureShape):
        members = {}
        for name, member in shape.members.items():
            key = member.serialization.get("name", name)
            value = query_value(member, f"{prefix}.{key}" if prefix else key, flat)
            if value is not None:
                members[name] = value
        return members or None
    if isinstance(shape, ListShape):
        return _query_list(shape, prefix, flat)
    if isinstance(shape, MapShape):
        return _query_map(shape, prefix, flat)
    text = flat.get(prefix)
    return None if text is None else _scalar(shape, text)


def _xml_value(shape: Shape, element: ElementTree.Element) -> Any:
    if isinstance(shape, StructureShape):
        members = {}
        for name, member in shape.members.items():
            tag = member.serialization.get("name", name)
            found = [e for e in element if e.tag.rsplit("}", 1)[-1] == tag]
            if not found:
                continue
            if isinstance(member, ListShape) and member.serialization.get("flattened"):
                members[name] = [_xml_value(member.member, e) for e in found]
            else:
                members[name] = _xml_value(member, found[0])
        return members
    if isinstance(shape, ListShape):
        return [_xml_value(shape.member, child) for child in element]
    return _scalar(shape, element.text or "")


def xml_payload(shape: Shape, body: bytes) -> Any:
    """A rest-xml structure payload (``<Delete><Object><Key>…``) by its shape; None if the body is not XML."""
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - the emulator's own clients' requests, on loopback
    except ElementTree.ParseError:
        return None
    return _xml_value(shape, root)


def json_body(body: bytes) -> dict[str, Any]:
    """A JSON object body ({} if the body is empty or not a JSON object)."""
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _payload(operation: OperationModel, protocol: str, body: bytes) -> dict[str, Any]:
    shape = operation.input_shape
    if shape is None:
        return {}
    payload_name = shape.serialization.get("payload")
    if payload_name:
        member = shape.members[payload_name]
        if member.type_name != "structure" or not body:
            return {}
        value = xml_payload(member, body) if protocol == "rest-xml" else json_body(body)
        return {payload_name: value} if value else {}
    if protocol == "rest-json":
        return {k: v for k, v in json_body(body).items() if k in shape.members}
    return {}


@dataclass(frozen=True)
class HttpRequest:
    """The parts of an HTTP request that the protocols read: headers by lower-cased name, query as single values."""

    method: str
    path: str  # URL-decoded
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    raw_path: str = ""  # as sent (percent-encoded), for URI labels such as S3 keys

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def rest_params(
    operation: OperationModel, protocol: str, labels: Mapping[str, str], request: HttpRequest
) -> dict[str, Any]:
    """Parameters of a REST request: URI labels, query-string and header members, then the body."""
    shape = operation.input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = _payload(operation, protocol, request.body)
    for name, member in shape.members.items():
        location, wire_name = member.serialization.get("location"), member.serialization.get("name", name)
        value = None
        if location == "uri":
            value = labels.get(wire_name)
        elif location == "querystring" and isinstance(wire_name, str):
            value = request.query.get(wire_name)
        elif location == "header":
            value = request.header(str(wire_name))
        if value is not None:
            params[name] = _scalar(member, value)
    return params
