"""WSGI middleware that enforces IAM in front of moto, and the record of every decision it takes.

    app = enforce(DomainDispatcherApplication(create_backend_app), authorizer)

Each request is parsed (``local.iam.wire``), its caller resolved from its access key (``authorizer.principals``),
and authorized (``local.iam.authorizer``) before moto sees it; a denial is answered here, in AWS's shape for the
service (``local.iam.errors``), and moto never runs the call. The embedded AWS's own endpoints (moto's
``/moto-api/``, the emulator's ``/_local/``) pass through, and so do administrators' requests (unknown
credentials), unparsed. Every decision lands in the ``DecisionLog`` (``local.iam.decision_log``), and so do the
decisions of ``Enforcer.authorize_service``, which the emulator's own flows call when a service acts.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from local.iam.actions import ApiCall
from local.iam.authorizer import Authorizer, Outcome
from local.iam.decision_log import UNEVALUATED, DecisionLog
from local.iam.errors import Wire, denial_response
from local.iam.errors import message as errors_message
from local.iam.operations import IAM_PREFIX_OF_SIGNING_NAME
from local.iam.principals import Principal, ServicePrincipal
from local.iam.wire import (
    SERVICES_OF_SIGNING_NAME,
    Credentials,
    ParsedRequest,
    UnparsedRequest,
    credentials,
    http_request,
    parse_request,
    service_model,
)

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
PASS_THROUGH_PATHS = ("/moto-api", "/_local/")


def _read_body(environ: dict[str, Any]) -> bytes:
    length = environ.get("CONTENT_LENGTH")
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        return b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _wire(parsed: ParsedRequest) -> Wire:
    metadata = parsed.model.metadata
    return Wire(
        parsed.protocol, parsed.iam_prefix, metadata.get("jsonVersion", "1.1"), "awsQueryCompatible" in metadata
    )


class Enforcer:
    """The middleware (``enforce`` builds it); ``log`` is its ``DecisionLog``."""

    def __init__(self, app: WsgiApp, authorizer: Authorizer, log: DecisionLog | None = None) -> None:
        self.app = app
        self.authorizer = authorizer
        self.log = log or DecisionLog()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if str(environ.get("PATH_INFO", "")).startswith(PASS_THROUGH_PATHS):
            return self.app(environ, start_response)
        signed = credentials(http_request(environ, b""))  # the headers and the query say who signed
        principal = self.authorizer.principals.resolve(signed.access_key_id if signed else None)
        if not principal.evaluated:
            self.log.record(principal, UNEVALUATED)
            return self.app(environ, start_response)  # an administrator's body is never read here
        request = http_request(environ, _read_body(environ))
        try:
            parsed = parse_request(request, str(environ.get("HTTP_HOST", "")))
        except UnparsedRequest as unparsed:
            outcome = Outcome(False, unmapped=str(unparsed))
            return self._deny(_guessed_wire(signed), principal, outcome, start_response, "unknown")
        region = parsed.credentials.region if parsed.credentials else "us-east-1"
        account = principal.account or self.authorizer.account
        call = ApiCall(parsed.iam_prefix, parsed.operation, parsed.params, account, region, self.authorizer.partition)
        outcome = self.authorizer.authorize_call(principal, call, environ.get("REMOTE_ADDR"))
        if outcome.allowed:
            self.log.record(principal, outcome)
            return self.app(environ, start_response)
        return self._deny(_wire(parsed), principal, outcome, start_response, f"{parsed.iam_prefix}:{parsed.operation}")

    def _deny(
        self, wire: Wire, principal: Principal, outcome: Outcome, start_response: Callable[..., Any], operation: str
    ) -> Iterator[bytes]:
        denial = outcome.denial
        cross_account = bool(denial and denial.resource_account not in (None, principal.account))
        response = denial_response(wire, denial, outcome.unmapped, cross_account)
        self.log.record(principal, outcome, errors_message(denial, outcome.unmapped), operation)
        logger.warning("denied: %s", errors_message(denial, outcome.unmapped))
        start_response(f"{response.status} {_REASONS.get(response.status, 'Error')}", response.headers)
        return iter([response.body])

    def authorize_service(self, service: str, action: str, resource: str, **where: Any) -> Outcome:
        """``Authorizer.authorize_service``, recorded in the log (for the emulator's own flows: alarms, rules…)."""
        principal = ServicePrincipal(service, where.get("source_account"), where.get("source_arn"))
        outcome = self.authorizer.authorize_service(service, action, resource, **where)
        self.log.record(principal, outcome, errors_message(outcome.denial, outcome.unmapped), action)
        if not outcome.allowed:
            logger.warning("denied: %s", errors_message(outcome.denial, outcome.unmapped))
        return outcome

    def authorize_action(self, principal: Principal, action: str, resource: str, **where: Any) -> Outcome:
        """``Authorizer.authorize_action``, recorded in the log (a role a service assumed, acting for it)."""
        outcome = self.authorizer.authorize_action(principal, action, resource, **where)
        self.log.record(principal, outcome, errors_message(outcome.denial, outcome.unmapped), action)
        if not outcome.allowed:
            logger.warning("denied: %s", errors_message(outcome.denial, outcome.unmapped))
        return outcome


_REASONS = {400: "Bad Request", 403: "Forbidden"}


def _guessed_wire(signed: Credentials | None) -> Wire:
    """The error shape for a request whose operation is unknown: its signing name's first service's protocol."""
    name = signed.signing_name if signed else "s3"
    model = service_model(SERVICES_OF_SIGNING_NAME.get(name, (name,))[0])
    protocol = (model.metadata.get("protocols") or [model.protocol])[0] if model else "json"
    return Wire(protocol, IAM_PREFIX_OF_SIGNING_NAME.get(name, name))


def enforce(app: WsgiApp, authorizer: Authorizer, log: DecisionLog | None = None) -> Enforcer:
    """``app`` behind IAM: every request authorized by ``authorizer``, every decision recorded in the log."""
    return Enforcer(app, authorizer, log)
