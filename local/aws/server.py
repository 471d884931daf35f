"""The embedded AWS: moto's server, in this process, with our SageMaker extensions installed (:mod:`.extensions`).

The server runs in a background thread of the current process, so the extensions patched into moto's backends
apply to it, and tests can reach the same state directly (``aws.control``, ``aws.sagemaker_store``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from local.aws import extensions
from local.aws.control import Control
from local.aws.control_route import control_middleware
from local.aws.ram.models import SHARES
from local.aws.runtime import RUNTIME, Timings
from local.aws.sagemaker.events import models as events
from local.aws.sagemaker.pipelines.store import SageMakerStore
from local.aws.sagemaker.registry.lifecycle import current_stage_keys
from local.aws.sagemaker.registry.policies import group_policy
from local.aws.service_fault_middleware import service_fault_middleware
from local.aws.sessions import ADMINISTRATOR, SessionCredentials, administrator_credentials
from local.iam import Authorizer, Enforcer, enforce, model_package_group_provider
from local.iam.resource_policies import ram_provider

logger = logging.getLogger(__name__)


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler, logging requests at debug level instead of printing each one."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug("%s %s %s", self.requestline, code, size)


class EmbeddedAWS:
    """moto server + SageMaker extensions on ``127.0.0.1``.

    >>> aws = EmbeddedAWS(timings=Timings()).start()
    >>> boto3.client("sagemaker", endpoint_url=aws.endpoint_url, region_name=aws.region)
    >>> aws.stop()

    moto's state is process-global: run one EmbeddedAWS per process at a time (``EmbeddedAWS.current()``: the one
    running). ``start()`` resets all state.
    """

    _running: EmbeddedAWS | None = None

    @classmethod
    def current(cls) -> EmbeddedAWS | None:
        """The embedded AWS running in this process, if any."""
        return cls._running

    def __init__(
        self,
        region: str = "us-east-1",
        port: int = 0,
        timings: Timings | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.region = region
        self.account_id = DEFAULT_ACCOUNT_ID
        self.host = host
        self._requested_port = port
        self._initial_timings = timings or Timings()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.control = Control(self.account_id, self.region)
        self.sagemaker_store = SageMakerStore()
        self.iam: Enforcer | None = None  # IAM enforcement, in front of moto once started

    def _authorizer(self) -> Authorizer:
        authorizer = Authorizer(self.account_id)
        authorizer.resource_policies.register("sagemaker", model_package_group_provider(group_policy))
        authorizer.resource_keys.register("sagemaker", current_stage_keys)
        authorizer.resource_policies.register("ram", ram_provider(SHARES.receiver_of))
        return authorizer

    # -- lifecycle ------------------------------------------------------------------------------------------------
    def start(self) -> EmbeddedAWS:
        if self._server is not None:
            return self
        extensions.install()
        self.reset()
        RUNTIME.timings = self._initial_timings
        RUNTIME.start()
        self.iam = enforce(DomainDispatcherApplication(create_backend_app), self._authorizer())
        self.control.iam = self.iam
        app = control_middleware(service_fault_middleware(self.iam, RUNTIME.service_faults), self.control)
        self._server = make_server(
            self.host, self._requested_port, app, threaded=True, request_handler=_QuietRequestHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="embedded-aws", daemon=True
        )
        self._thread.start()
        EmbeddedAWS._running = self
        logger.info("embedded AWS listening on %s", self.endpoint_url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        if EmbeddedAWS._running is self:
            EmbeddedAWS._running = None
        RUNTIME.scheduler.clear()
        RUNTIME.scheduler.resume()
        RUNTIME.schedules.clear()
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> EmbeddedAWS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every resource in every service, scheduled transitions, faults, the event log, the credentials
        handed out and IAM's decisions."""
        self.control.reset()
        if self.iam is not None:
            self.iam.authorizer.principals.clear()
            self.iam.log.reset()

    # -- access ---------------------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("EmbeddedAWS is not started")
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def timings(self) -> Timings:
        return RUNTIME.timings

    @property
    def emitted_events(self) -> list[dict[str, Any]]:
        """Every event emitted so far (oldest first), whether or not a rule matched it."""
        return list(RUNTIME.emitted_events)

    def account_credentials(self, account_id: str) -> SessionCredentials:
        """Credentials of an administrator of ``account_id``: ``ADMINISTRATOR`` (never evaluated) in the default
        account, else the account's IAM user ``administrator`` with ``AdministratorAccess`` (evaluated as any
        principal is; created on first use, again after ``start()``/``reset()``)."""
        if account_id == self.account_id:
            return ADMINISTRATOR
        return administrator_credentials(account_id)

    def client(self, service: str, *, account_id: str | None = None, **kwargs: Any) -> Any:
        """A boto3 client for this embedded AWS, as the administrator of ``account_id`` (default: the default
        account's, with fake credentials)."""
        credentials = self.account_credentials(account_id or self.account_id)
        return boto3.client(  # type: ignore[call-overload]  # the service name is a str, not one stub's Literal
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            **credentials.client_kwargs(),
            **kwargs,
        )

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3 in another process at this embedded AWS."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }

    # -- events ---------------------------------------------------------------------------------------------------
    def emit(
        self,
        detail_type: str,
        detail: Mapping[str, Any],
        resources: Iterable[str],
        time: str | None = None,
    ) -> dict[str, Any]:
        """Put an ``aws.sagemaker`` event on the default bus (as SageMaker would); returns it once delivered."""
        return events.emit(
            detail_type, detail, resources, account=self.account_id, region=self.region, time=time, wait=True
        )

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Until due transitions have run and queued events are delivered (held transitions do not count)."""
        RUNTIME.wait_idle(timeout)
