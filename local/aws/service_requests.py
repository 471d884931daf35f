"""Which AWS service and operation a request to the embedded AWS calls, read as AWS reads it.

The service is the signing name of the request's SigV4 credential scope (``.../us-east-1/sagemaker/aws4_request``);
the operation comes from the protocol of that service's botocore model: the ``X-Amz-Target`` header (JSON
protocols), the ``Action`` parameter (query protocol), the path (Smithy RPC v2 CBOR), or the HTTP method, path,
query string and required headers matched against the operations' ``requestUri`` (REST protocols).
"""

from __future__ import annotations

import functools
import io
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

import botocore.session

_CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_CBOR_PATH = re.compile(r"^/service/[^/]+/operation/([^/]+)$")
SERVICE_BY_SIGNING_NAME = {"monitoring": "cloudwatch", "execute-api": "apigateway"}
NO_BODY_READ_ABOVE = 1024 * 1024  # query-protocol bodies are small; never buffer an upload to find an Action


@dataclass(frozen=True)
class ServiceRequest:
    service: str  # the botocore (boto3) name: "sagemaker", "s3", "dynamodb", "cloudwatch"...
    operation: str  # the API's name: "UpdateEndpoint", "PutObject"... ("" when it cannot be told)
    protocol: str


@functools.cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def _service(environ: dict[str, Any]) -> str | None:
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match is None:
        return None
    name = SERVICE_BY_SIGNING_NAME.get(match.group(1), match.group(1))
    if name == "sagemaker" and not environ.get("HTTP_X_AMZ_TARGET", "").startswith("SageMaker."):
        return "sagemaker-runtime"  # both sign as "sagemaker"; only the control plane is JSON-RPC
    return name


def identify(environ: dict[str, Any]) -> ServiceRequest | None:
    """The service and operation of a WSGI request; ``None`` for a request that is no AWS API call."""
    service = _service(environ)
    if service is None:
        return None
    try:
        model = _model(service)
    except Exception:  # a signing name botocore has no model for
        return ServiceRequest(service, "", "unknown")
    return ServiceRequest(service, *_operation(model, environ))


def _operation(model: Any, environ: dict[str, Any]) -> tuple[str, str]:
    """(operation, protocol the client used): a model may offer several protocols (CloudWatch: CBOR, JSON, query)."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rsplit(".", 1)[-1], "json"
    if cbor := _CBOR_PATH.match(environ.get("PATH_INFO", "")):
        return cbor.group(1), "smithy-rpc-v2-cbor"
    if model.protocol.startswith("rest"):
        return rest_operation(model, environ), model.protocol
    return _query_action(environ), "query"


def _query_action(environ: dict[str, Any]) -> str:
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if not 0 < length <= NO_BODY_READ_ABOVE:
        return ""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    return form.get("Action", [""])[0]


def _uri_parts(request_uri: str) -> tuple[list[str], dict[str, str | None]]:
    path, _, query = request_uri.partition("?")
    required = {}
    for item in filter(None, query.split("&")):
        key, sep, value = item.partition("=")
        required[key] = value if sep else None
    return [segment for segment in path.split("/") if segment], required


def _path_matches(template: list[str], segments: list[str]) -> int | None:
    """How many literal segments of ``template`` match ``segments``; ``None`` if they do not match."""
    literals = 0
    for index, part in enumerate(template):
        if part.startswith("{") and part.endswith("+}"):
            return literals if len(segments) > index else None
        if index >= len(segments):
            return None
        if not part.startswith("{"):
            if part != segments[index]:
                return None
            literals += 1
    return literals if len(segments) == len(template) else None


def rest_operation(model: Any, environ: dict[str, Any]) -> str:
    """The REST operation whose method, ``requestUri`` and required query/header members fit the request best."""
    method = environ.get("REQUEST_METHOD", "GET")
    segments = [s for s in urllib.parse.unquote(environ.get("PATH_INFO", "")).split("/") if s]
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    best: tuple[int, int, str] | None = None
    for name in model.operation_names:
        operation = model.operation_model(name)
        if operation.http.get("method") != method:
            continue
        template, required_query = _uri_parts(operation.http.get("requestUri", "/"))
        literals = _path_matches(template, segments)
        if (
            literals is None
            or not _query_fits(required_query, query)
            or not _members_present(operation, environ, query)
        ):
            continue
        score = (len(required_query) + _required_members(operation), literals, name)
        best = max(best, score) if best else score
    return best[2] if best else ""


def _query_fits(required: dict[str, str | None], query: dict[str, list[str]]) -> bool:
    return all(key in query and (value is None or value in query[key]) for key, value in required.items())


def _located_required(operation: Any) -> list[tuple[str, str]]:
    shape = operation.input_shape
    if shape is None:
        return []
    located = []
    for member in shape.required_members:
        serialization = shape.members[member].serialization
        if serialization.get("location") in ("header", "querystring"):
            located.append((serialization["location"], serialization.get("name", member)))
    return located


def _required_members(operation: Any) -> int:
    return len(_located_required(operation))


def _members_present(operation: Any, environ: dict[str, Any], query: dict[str, list[str]]) -> bool:
    for location, name in _located_required(operation):
        if location == "querystring" and name not in query:
            return False
        if location == "header" and "HTTP_" + name.upper().replace("-", "_") not in environ:
            return False
    return True
