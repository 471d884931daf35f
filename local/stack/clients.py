"""boto3 clients of the embedded AWS for the stack runtime: one botocore session for the process, one client per
service and stack (service models are loaded once, not per stack)."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from local.aws.service_faults import SERVICE_CALLER_AGENT
from local.aws.sessions import ADMINISTRATOR, SessionCredentials

# what the runtime does, AWS's services do (event delivery, Lambda, alarms): never subject to injected API faults
CLIENT_CONFIG = Config(
    retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=50, user_agent_extra=SERVICE_CALLER_AGENT
)
_SESSION = boto3.session.Session()
_SESSION_LOCK = threading.Lock()


class AwsClients:
    """``clients("sqs")``: the stack's client of a service, created on first use; with ``credentials``, a service
    acting as a role (Lambda sending to a function's dead-letter queue as the function's execution role)."""

    def __init__(self, endpoint_url: str, region: str, credentials: SessionCredentials = ADMINISTRATOR) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self.credentials = credentials
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str) -> Any:
        with self._lock, _SESSION_LOCK:
            if service not in self._clients:
                self._clients[service] = _SESSION.client(  # type: ignore[call-overload]  # the service name is a str, not one stub's Literal
                    service,
                    region_name=self.region,
                    endpoint_url=self.endpoint_url,
                    config=CLIENT_CONFIG,
                    **self.credentials.client_kwargs(),
                )
            return self._clients[service]
