"""AWS's access-denied answers, in each protocol's error shape and with each service's own code.

- JSON services: HTTP 400, ``{"__type": "AccessDeniedException", "Message": "User: … is not authorized …"}``;
  query-compatible ones (SQS, CloudWatch) say ``AccessDenied`` with HTTP 403 and the ``x-amzn-query-error``
  header their SDKs read.
- Query services: HTTP 403, ``<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>…``; SNS's
  code is ``AuthorizationError``.
- REST-JSON services: HTTP 403, ``x-amzn-ErrorType: AccessDeniedException``.
- S3: HTTP 403, ``<Error><Code>AccessDenied</Code><Message>…</Message>…``, the full message within an account and
  ``Access Denied`` across accounts (S3 explains denials to the bucket owner's own principals only).
Messages name the action as each service does in them: ``SNS:Publish``, ``sqs:sendmessage``, else ``s3:GetObject``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

from local.iam.evaluation import Decision


@dataclass(frozen=True)
class ErrorResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


# IAM prefix -> (code, HTTP status) for JSON and query services that do not use the protocol's default.
_CODES: dict[str, tuple[str, int]] = {
    "sns": ("AuthorizationError", 403),
    "sqs": ("AccessDenied", 403),
    "cloudwatch": ("AccessDenied", 403),
}


def action_display(decision: Decision) -> str:
    """The action as the service writes it in its denial messages."""
    service, _, name = decision.action.partition(":")
    if service == "sns":
        return f"SNS:{name}"
    if service == "sqs":
        return decision.action.lower()
    return decision.action


def message(decision: Decision | None, unmapped: str | None = None) -> str:
    if decision is None:
        return f"The embedded AWS cannot authorize this request: {unmapped}"
    return decision.message(action_display(decision))


def _json(iam_prefix: str, text: str, json_version: str, query_compatible: bool, request_id: str) -> ErrorResponse:
    code, status = (
        _CODES.get(iam_prefix, ("AccessDeniedException", 400)) if query_compatible else ("AccessDeniedException", 400)
    )
    headers = [("Content-Type", f"application/x-amz-json-{json_version}"), ("x-amzn-RequestId", request_id)]
    if query_compatible:
        headers.append(("x-amzn-query-error", f"{code};Sender"))
    return ErrorResponse(status, headers, json.dumps({"__type": code, "message": text, "Message": text}).encode())


def _query(iam_prefix: str, text: str, request_id: str) -> ErrorResponse:
    code, status = _CODES.get(iam_prefix, ("AccessDenied", 403))
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(text)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return ErrorResponse(status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode())


def _rest_json(text: str, request_id: str) -> ErrorResponse:
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-ErrorType", "AccessDeniedException"),
        ("x-amzn-RequestId", request_id),
    ]
    return ErrorResponse(403, headers, json.dumps({"message": text, "Message": text}).encode())


def _s3(text: str, request_id: str) -> ErrorResponse:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>{escape(text)}</Message>'
        f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
    )
    return ErrorResponse(403, [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body.encode())


@dataclass(frozen=True)
class Wire:
    """How the denied request was sent: its protocol and what its service model says about errors."""

    protocol: str
    iam_prefix: str
    json_version: str = "1.1"
    query_compatible: bool = False


def denial_response(
    wire: Wire, decision: Decision | None, unmapped: str | None = None, cross_account: bool = False
) -> ErrorResponse:
    """The HTTP answer AWS gives to the denied request."""
    request_id = str(uuid.uuid4())
    text = message(decision, unmapped)
    if wire.protocol == "json":
        return _json(wire.iam_prefix, text, wire.json_version, wire.query_compatible, request_id)
    if wire.protocol == "query":
        return _query(wire.iam_prefix, text, request_id)
    if wire.protocol == "rest-xml":
        return _s3("Access Denied" if cross_account else text, request_id)
    return _rest_json(text, request_id)
