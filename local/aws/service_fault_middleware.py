"""WSGI middleware in front of moto that answers calls with the injected faults of :mod:`local.aws.service_faults`.

A faulted call waits its latency, then either goes on to moto (latency only) or gets the service's error response
in the service's own protocol, so botocore parses it (and its retry modes classify it) as it would AWS's.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from local.aws.service_faults import SERVICE_CALLER_AGENT, FaultHit, ServiceFaults
from local.aws.service_requests import ServiceRequest, identify

logger = logging.getLogger(__name__)

_REASONS = {400: "Bad Request", 403: "Forbidden", 429: "Too Many Requests", 500: "Internal Server Error"}
_REASONS |= {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def service_fault_middleware(app: Callable[..., Any], faults: ServiceFaults) -> Callable[..., Any]:
    """``app`` (moto's server), with ``faults`` applied to the customer calls they match."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        hit = _hit(environ, faults)
        if hit is None:
            return app(environ, start_response)
        if hit.latency:
            time.sleep(hit.latency)
        if hit.code is None:
            return app(environ, start_response)
        logger.info("fault %s: %s.%s answered %s %s", hit.fault_id, hit.service, hit.operation, hit.status, hit.code)
        return error_response(start_response, hit, identify(environ) or ServiceRequest(hit.service, "", "json"))

    return wsgi


def _hit(environ: dict[str, Any], faults: ServiceFaults) -> FaultHit | None:
    if SERVICE_CALLER_AGENT in environ.get("HTTP_USER_AGENT", ""):
        return None
    request = identify(environ)
    if request is None or not faults.active_for(request.service):
        return None
    return faults.take(request.service, request.operation)


def error_response(start_response: Callable[..., Any], hit: FaultHit, request: ServiceRequest) -> list[bytes]:
    """The error as ``request.protocol`` carries it (JSON, query XML, REST XML, REST JSON, RPC v2 CBOR)."""
    code, status, message = str(hit.code), int(hit.status or 500), hit.message
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id), ("x-amz-request-id", request_id)]
    protocol = request.protocol
    if protocol in ("query", "ec2"):
        body = _query_xml(code, message, request_id, status)
        headers.append(("Content-Type", "text/xml"))
    elif protocol == "rest-xml":
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers.append(("Content-Type", "application/xml"))
    elif protocol == "smithy-rpc-v2-cbor":
        body = _cbor_text_map({"__type": code, "message": message})
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
    else:  # json, rest-json
        body = json.dumps({"__type": code, "message": message, "Message": message}).encode()
        headers += [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
    headers.append(("Content-Length", str(len(body))))
    start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
    return [body]


def _query_xml(code: str, message: str, request_id: str, status: int) -> bytes:
    fault_type = "Receiver" if status >= 500 else "Sender"
    return (
        f"<ErrorResponse><Error><Type>{fault_type}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    if length < 256:
        return bytes([major << 5 | 24, length])
    return bytes([major << 5 | 25]) + length.to_bytes(2, "big")


def _cbor_text_map(items: dict[str, str]) -> bytes:
    """A CBOR map of text strings (RFC 8949: major type 5 holding major type 3 items)."""
    out = bytearray(_cbor_head(5, len(items)))
    for key, value in items.items():
        for text in (key, value):
            data = text.encode()
            out += _cbor_head(3, len(data)) + data
    return bytes(out)
