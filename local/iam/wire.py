"""What a raw HTTP request to the embedded AWS asks for: credentials, service, operation and parameters.

The access key id, region and signing name come from the SigV4 credential scope (``Authorization`` header, or a
presigned URL's ``X-Amz-Credential``). The signing name gives the candidate services (their botocore models), and
each protocol names the operation: ``json`` by ``X-Amz-Target``, ``query`` by ``Action=``, ``rest-json`` and
``rest-xml`` by method, URI template and the query markers of the template (``/{Bucket}/{Key+}?tagging``), S3
path-style or virtual-host style. Parameters come from ``local.iam.wire_params``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from botocore.exceptions import DataNotFoundError, UnknownServiceError
from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel

from local.iam.operations import IAM_PREFIX_OF_SIGNING_NAME
from local.iam.wire_params import HttpRequest, json_body, query_value, rest_params

# botocore services by signing name, where the signing name is not the service's name (or is shared).
SERVICES_OF_SIGNING_NAME: dict[str, tuple[str, ...]] = {
    "monitoring": ("cloudwatch",),
    "sagemaker": ("sagemaker", "sagemaker-runtime"),
    "states": ("stepfunctions",),
    "email": ("sesv2", "ses"),
}
_CREDENTIAL = re.compile(r"([^/,\s=]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
_LABEL = re.compile(r"\{([^}]+)\}")
_LOADER = Loader()


class UnparsedRequest(Exception):
    """The request names no operation the embedded AWS can recognise."""


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    region: str
    signing_name: str


@dataclass(frozen=True)
class ParsedRequest:
    credentials: Credentials | None
    service: str  # botocore service name
    iam_prefix: str
    protocol: str
    operation: str
    params: dict[str, Any]
    model: ServiceModel


def credentials(request: HttpRequest, default_region: str = "us-east-1") -> Credentials | None:
    """Who signed the request: the SigV4 credential scope, or S3's Signature Version 2; None if it is not signed.

    Signature Version 2 (``Authorization: AWS <key>:<signature>``, presigned ``?AWSAccessKeyId=``, what boto3 still
    presigns S3 URLs with) names no region: the default region is assumed.
    """
    authorization = request.header("authorization") or ""
    scope = authorization.partition("Credential=")[2] or request.query.get("X-Amz-Credential", "")
    match = _CREDENTIAL.match(scope)
    if match:
        return Credentials(match.group(1), match.group(3), match.group(4))
    version_2 = (
        authorization[4:].partition(":")[0] if authorization.startswith("AWS ") else request.query.get("AWSAccessKeyId")
    )
    return Credentials(version_2, default_region, "s3") if version_2 else None


@lru_cache(maxsize=64)
def service_model(name: str) -> ServiceModel | None:
    """botocore's model of a service (None if botocore has none)."""
    try:
        return ServiceModel(_LOADER.load_service_model(name, "service-2"), name)
    except (UnknownServiceError, DataNotFoundError):
        return None


@dataclass(frozen=True)
class _Route:
    """One REST operation's URI template, ready to match."""

    operation: str
    path: re.Pattern[str]
    labels: tuple[str, ...]
    markers: tuple[tuple[str, str | None], ...]  # query keys (and values) the URI template fixes
    required: tuple[tuple[str, str], ...]  # (location, wire name) of required header and query-string members
    literal: int  # fixed characters in the path (a longer one is more specific)

    def score(self, raw_path: str, request: HttpRequest) -> tuple[tuple[int, int, int], dict[str, str]] | None:
        match = self.path.fullmatch(raw_path)
        if match is None:
            return None
        if any(key not in request.query or (value and request.query[key] != value) for key, value in self.markers):
            return None
        present = [
            request.header(name) if where == "header" else request.query.get(name) for where, name in self.required
        ]
        if any(value is None for value in present):
            return None
        labels = {name: unquote(value) for name, value in zip(self.labels, match.groups(), strict=True)}
        return (len(self.markers), len(self.required), self.literal), labels


def _path_pattern(path: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    pieces, labels, position = [], [], 0
    for match in _LABEL.finditer(path):
        name = match.group(1)
        pieces += [re.escape(path[position : match.start()]), "(.+)" if name.endswith("+") else "([^/]+)"]
        labels.append(name.rstrip("+"))
        position = match.end()
    pieces.append(re.escape(path[position:]))
    return re.compile("".join(pieces).rstrip("/") + "/?"), tuple(labels)


def _route(operation: OperationModel) -> _Route:
    path, _, marker_text = operation.http["requestUri"].partition("?")
    pattern, labels = _path_pattern(path)
    markers = tuple((k, v or None) for k, _, v in (m.partition("=") for m in marker_text.split("&") if m))
    shape = operation.input_shape
    members = shape.members if shape else {}
    required = tuple(
        (members[n].serialization["location"], members[n].serialization.get("name", n))
        for n in (shape.required_members if shape else [])
        if members[n].serialization.get("location") in ("header", "querystring")
    )
    literal = len(_LABEL.sub("", path))
    return _Route(operation.name, pattern, labels, markers, required, literal)


@lru_cache(maxsize=64)
def _routes(service: str, method: str) -> tuple[_Route, ...]:
    model = service_model(service)
    if model is None:
        return ()
    operations = (model.operation_model(name) for name in model.operation_names)
    return tuple(_route(op) for op in operations if op.http.get("method") == method)


def _s3_path(request: HttpRequest, host: str) -> str:
    """The path-style raw path of an S3 request (a virtual-host bucket moved into the path)."""
    hostname = host.split(":", 1)[0]
    bucket = None
    if hostname.endswith(".localhost"):
        bucket = hostname[: -len(".localhost")]
    elif not hostname.startswith("s3.") and not hostname.startswith("s3-"):
        match = re.match(r"^(.+?)\.s3[.-]", hostname)
        bucket = match.group(1) if match else None
    return f"/{bucket}{request.raw_path}" if bucket else request.raw_path


def _rest_operation(service: str, request: HttpRequest, host: str) -> tuple[str, dict[str, str]] | None:
    raw_path = _s3_path(request, host) if service == "s3" else request.raw_path
    scored = []
    for route in _routes(service, request.method):
        result = route.score(raw_path, request)
        if result is not None:
            scored.append((result[0], route.operation, result[1]))
    if not scored:
        return None
    _, operation, labels = max(scored, key=lambda entry: entry[0])
    return operation, labels


def _form(request: HttpRequest) -> dict[str, str]:
    fields = dict(request.query)
    if request.body and "json" not in (request.header("content-type") or ""):
        fields.update(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    return fields


def _operation(
    model: ServiceModel, protocol: str, request: HttpRequest, host: str
) -> tuple[str, dict[str, Any]] | None:
    """The operation the protocol finds in the request, and its parameters (None if it finds none)."""
    if protocol == "json":
        prefix, _, name = (request.header("x-amz-target") or "").rpartition(".")
        if prefix != model.metadata.get("targetPrefix") or name not in model.operation_names:
            return None
        return name, json_body(request.body)
    if protocol == "query":
        fields = _form(request)
        name = fields.get("Action", "")
        if name not in model.operation_names:
            return None
        shape = model.operation_model(name).input_shape
        return name, (query_value(shape, "", fields) or {}) if shape else {}
    if protocol in ("rest-json", "rest-xml"):
        found = _rest_operation(model.service_name, request, host)
        if found is None:
            return None
        name, labels = found
        return name, rest_params(model.operation_model(name), protocol, labels, request)
    return None  # smithy-rpc-v2-cbor and ec2 are not read


def _protocols(model: ServiceModel) -> list[str]:
    """The protocols a service speaks (botocore clients use the first they support: json before query)."""
    return list(model.metadata.get("protocols") or [model.protocol])


def parse_request(request: HttpRequest, host: str = "") -> ParsedRequest:
    """The service, operation and parameters of a signed request (``UnparsedRequest`` if none matches)."""
    creds = credentials(request)
    if creds is None:
        raise UnparsedRequest("the request is not signed with AWS Signature Version 4")
    prefix = IAM_PREFIX_OF_SIGNING_NAME.get(creds.signing_name, creds.signing_name)
    for name in SERVICES_OF_SIGNING_NAME.get(creds.signing_name, (creds.signing_name,)):
        model = service_model(name)
        for protocol in _protocols(model) if model else []:
            found = _operation(model, protocol, request, host)  # type: ignore[arg-type]
            if found is not None:
                return ParsedRequest(creds, name, prefix, protocol, found[0], found[1], model)  # type: ignore[arg-type]
    raise UnparsedRequest(f"no {creds.signing_name} operation matches {request.method} {request.path}")


def http_request(environ: Mapping[str, Any], body: bytes) -> HttpRequest:
    """An ``HttpRequest`` from a WSGI environ and the body already read from it."""
    headers = {
        key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items() if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    raw_path = raw_uri.split("?", 1)[0] if raw_uri.startswith("/") else quote(str(environ.get("PATH_INFO", "")))
    query = dict(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
    return HttpRequest(str(environ.get("REQUEST_METHOD", "GET")), unquote(raw_path), query, headers, body, raw_path)
