"""The application's stack on the embedded AWS, deployed from template.yaml and run as Lambda would run it.

``deploy()`` creates the template's resources (CloudFormation's job); every ``AWS::Events::Rule`` that targets a
function becomes a rule in the embedded EventBridge whose target is an SQS queue of that target, so EventBridge
alone decides which events reach which function. ``start()`` polls those queues, delivers their events to the
functions as EventBridge does (the target's retry policy and dead-letter queue, :mod:`.deliveries`), invokes the
functions asynchronously, with Lambda's retries and dead-letter queues (:mod:`.invoker`, :mod:`.outcomes`), and
evaluates the template's CloudWatch alarms (:mod:`.alarms`). EventBridge Scheduler's firings at a function of the
stack become asynchronous invocations of it (``FIRINGS.connect_function``) while the stack runs.

    stack = LocalStack(aws, env="dev", retry_delays=(0.0, 0.0))
    outputs = stack.deploy()
    stack.start()
    records = stack.replay([event])      # through EventBridge; one record per handler invocation
    stack.wait_idle(timeout=30)
    stack.stop()
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from local.aws.eventbridge.forwarding import FORWARDING
from local.aws.scheduler.models import FIRINGS
from local.aws.sessions import SessionCredentials, role_session
from local.stack.alarms import AlarmEmulator
from local.stack.clients import AwsClients
from local.stack.deliveries import EVENTBRIDGE_RETRY_DELAYS, EventBridgeDeliveries, RuleTarget
from local.stack.deployment import Deployment
from local.stack.event_queues import EventQueues, InFlight
from local.stack.events import put_events
from local.stack.functions import ACCOUNT_CONCURRENCY, FunctionSpec
from local.stack.intrinsics import Resolver
from local.stack.invoker import LAMBDA_RETRY_DELAYS, FunctionRunner
from local.stack.logs import FunctionLogs
from local.stack.outcomes import InvocationOutcomes
from local.stack.resources import Provisioned, Provisioners
from local.stack.template import Template, load_template

logger = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 4


class LocalStack:
    """One environment's stack of template.yaml, deployed into an embedded AWS and run locally."""

    def __init__(
        self,
        aws: Any,
        env: str = "dev",
        template_path: str | Path = "template.yaml",
        retry_delays: Iterable[float] = LAMBDA_RETRY_DELAYS,
        *,
        samconfig: str | Path | None = None,
        parameter_overrides: Mapping[str, str] | None = None,
        stack_name: str | None = None,
        default_concurrency: int = DEFAULT_CONCURRENCY,
        account_concurrency: int = ACCOUNT_CONCURRENCY,
        delivery_retry_delays: Iterable[float] = EVENTBRIDGE_RETRY_DELAYS,
        alarm_interval: float = 0.25,
        python: str = sys.executable,
        account_id: str | None = None,
    ) -> None:
        self.aws = aws
        self.region: str = aws.region
        # the account the stack is deployed in (default: the embedded AWS's default account), acting as its
        # administrator (CloudFormation's and the services' calls)
        self.account_id: str = account_id or aws.account_id
        self.template: Template = load_template(
            template_path,
            env,
            samconfig=samconfig,
            parameter_overrides=parameter_overrides,
            stack_name=stack_name,
            region=self.region,
        )
        self.env = env
        self.stack_name = self.template.stack_name
        self.retry_delays = tuple(retry_delays)
        self.python = python
        credentials = aws.account_credentials(self.account_id) if hasattr(aws, "account_credentials") else None
        self.client = AwsClients(aws.endpoint_url, self.region, *([credentials] if credentials else []))
        self._role_clients: dict[str, AwsClients] = {}
        self._role_clients_lock = threading.Lock()
        self.deployment = Deployment(
            self.template,
            self.client,
            account_id=self.account_id,
            region=self.region,
            endpoint_url=aws.endpoint_url,
            default_concurrency=default_concurrency,
            account_concurrency=account_concurrency,
            sessions=self._lambda_session,
        )
        self.alarms = AlarmEmulator(
            self.client,
            iam=self.iam,
            region=self.region,
            account_id=self.account_id,
            queue_url=self.deployment.queue_url_by_name,
            interval=alarm_interval,
        )
        self._stopping = threading.Event()
        self._inflight = InFlight()
        self.queues = EventQueues(self.client, self._inflight, self._stopping)
        self.outcomes = InvocationOutcomes(
            self.client,
            role_clients=self.role_clients,
            lambdas=self.deployment.lambdas,
            queues=self.queues,
            alarms=self.alarms,
            inflight=self._inflight,
            stopping=self._stopping,
        )
        self.function_logs = FunctionLogs(self.role_clients)
        self.runners: dict[str, FunctionRunner] = {}
        self.deliveries = EventBridgeDeliveries(
            self.client,
            runners=self.runners,
            permitted=self._events_may_invoke,
            count=lambda rule_name, metric: self.alarms.count("AWS/Events", rule_name, metric),
            inflight=self._inflight,
            retry_delays=delivery_retry_delays,
            iam=self.iam,
        )
        self._started = False

    # ------------------------------------------------------------------ who calls
    @property
    def iam(self) -> Any:
        """The embedded AWS's IAM enforcement (``local.iam.Enforcer``), or None where it has none."""
        return getattr(self.aws, "iam", None)

    def _lambda_session(self, role_arn: str, session_name: str, function_arn: str) -> SessionCredentials:
        return role_session(
            self.iam,
            role_arn,
            session_name,
            service="lambda.amazonaws.com",
            source_arn=function_arn,
            account=self.account_id,
            region=self.region,
        )

    def role_clients(self, spec: FunctionSpec) -> AwsClients:
        """Clients with the credentials of the function's execution role (what Lambda does on its behalf)."""
        with self._role_clients_lock:
            if spec.logical_id not in self._role_clients:
                self._role_clients[spec.logical_id] = AwsClients(self.aws.endpoint_url, self.region, spec.credentials)
            return self._role_clients[spec.logical_id]

    # ------------------------------------------------------------------ what is deployed
    @property
    def resources(self) -> dict[str, Provisioned]:
        return self.deployment.resources

    @property
    def skipped(self) -> dict[str, str]:
        """Logical id -> type, for resource types the local stack does not create."""
        return self.deployment.skipped

    @property
    def functions(self) -> dict[str, FunctionSpec]:
        """The stack's functions, by logical id."""
        return self.deployment.lambdas.functions

    @property
    def rules(self) -> dict[str, list[str]]:
        """Rule logical id -> the logical ids of the functions it targets."""
        return self.deployment.rules

    @property
    def outputs(self) -> dict[str, Any]:
        return self.deployment.outputs

    @property
    def provisioners(self) -> Provisioners:
        return self.deployment.provisioners

    @property
    def resolver(self) -> Resolver:
        return self.deployment.resolver

    @property
    def invocations(self) -> list[dict[str, Any]]:
        """One record per finished invocation, oldest first."""
        return self.outcomes.records

    def physical_id(self, logical_id: str) -> Any:
        """What ``Ref`` gives for a resource of the template (SAM logical ids of layers are accepted too)."""
        return self.deployment.physical_id(logical_id)

    def function_env(self, logical_id: str) -> dict[str, str]:
        """The process environment the function's handler runs with."""
        return dict(self.functions[logical_id].environment)

    # ------------------------------------------------------------------ deploy and run
    def deploy(self) -> dict[str, Any]:
        """Create the template's resources in the embedded AWS; return the template's Outputs, resolved."""
        if self.deployment.deployed:
            return self.outputs
        outputs = self.deployment.deploy()
        for alarm in self.deployment.of_type("AWS::CloudWatch::Alarm"):
            self.alarms.add(alarm.ref, alarm.attributes["Arn"], alarm.properties)
        logger.info(
            "stack %s deployed: %d resources, %d functions", self.stack_name, len(self.resources), len(self.functions)
        )
        return outputs

    def start(self) -> LocalStack:
        """Start polling the functions' event queues, the function workers and the alarm evaluation."""
        if not self.deployment.deployed:
            self.deploy()
        if self._started:
            return self
        self._started = True
        for logical_id, spec in self.functions.items():
            runner = FunctionRunner(
                spec,
                retry_delays=self.retry_delays,
                on_finished=self.outcomes.finished,
                on_attempt=self.outcomes.attempted,
                on_logs=self.function_logs.ship,
                python=self.python,
            )
            self.runners[logical_id] = runner
            self.queues.start(runner)
        for target in self.deployment.targets:
            self.queues.watch(f"rule-{target.rule_name}", target.queue_url, self.deliveries.handler(target))
        self._connect_event_sources()
        self.alarms.start()
        logger.info("stack %s running (%s)", self.stack_name, ", ".join(self.functions) or "no functions")
        return self

    def _connect_event_sources(self) -> None:
        """EventBridge Scheduler's firings at each function become its asynchronous invocations; rules forwarding
        events to a bus count their ``AWS/Events`` metrics for the alarm evaluation."""
        for logical_id, spec in self.functions.items():
            FIRINGS.connect_function(spec.arn, self._scheduled_invoker(logical_id))
        FORWARDING.listeners.append(self._count_forwarding)

    def _disconnect_event_sources(self) -> None:
        for spec in self.functions.values():
            FIRINGS.disconnect_function(spec.arn)
        if self._count_forwarding in FORWARDING.listeners:
            FORWARDING.listeners.remove(self._count_forwarding)

    def _scheduled_invoker(self, logical_id: str) -> Callable[[str], None]:
        """What a firing calls: Lambda's ``Event`` invocation of the function with the schedule's input (refused
        while :meth:`fail_deliveries` has a fault for the function: Scheduler then retries it, as its target says)."""

        def invoke(payload: str) -> None:
            fault = self.deliveries.faults.take(logical_id)
            if fault is not None:
                raise RuntimeError(f"Lambda refused the invocation of {logical_id}: {fault}")
            try:
                event: Any = json.loads(payload)
            except ValueError:
                event = payload
            self.invoke_async(logical_id, event)

        return invoke

    def _count_forwarding(self, rule_arn: str, rule_name: str, metric: str) -> None:
        if rule_arn.split(":")[4] == self.account_id:
            self.alarms.count("AWS/Events", rule_name, metric)

    def fail_deliveries(self, function: str, error_code: str = "THROTTLING", times: int | None = None) -> None:
        """EventBridge's (and EventBridge Scheduler's) next ``times`` calls to ``function`` (by logical id; all if
        ``None``) fail with
        ``error_code``: ``THROTTLING`` (retried by the rule target's RetryPolicy), ``NO_RESOURCE`` or
        ``NO_PERMISSIONS`` (not retried); see :mod:`local.stack.deliveries`."""
        self.deliveries.faults.inject(function, error_code, times)

    def _events_may_invoke(self, target: RuleTarget) -> bool:
        spec = self.functions[target.function]
        return self.deployment.lambdas.permits(spec, principal="events.amazonaws.com", source_arn=target.rule_arn)

    def invoke_async(self, function: str, event: Any) -> None:
        """``lambda invoke --invocation-type Event`` on a function of the stack (by logical id)."""
        self.queues.send(self.functions[function], event)

    # ------------------------------------------------------------------ events
    def put_events(self, events: Iterable[Mapping[str, Any]]) -> list[str]:
        """Send AWS-shaped events (``source``, ``detail-type``, ``detail``...) through EventBridge; their new ids
        (see :mod:`local.stack.events`)."""
        return put_events(self.aws, self.client, events)

    def replay(self, events: Iterable[Mapping[str, Any]], timeout: float = 60) -> list[dict[str, Any]]:
        """Put events through EventBridge, wait until handled; the invocation records of those events."""
        if not self._started:
            self.start()
        ids = self.put_events(events)
        self.wait_idle(timeout)
        order = {event_id: index for index, event_id in enumerate(ids)}
        records = [record for record in self.invocations if record["event_id"] in order]
        return sorted(records, key=lambda record: (order[record["event_id"]], record["function"]))

    def records_for(self, event_id: str) -> list[dict[str, Any]]:
        return [record for record in self.invocations if record["event_id"] == event_id]

    def logs(self, function: str) -> list[str]:
        """Log lines of a function's handler (its stdout and stderr) so far."""
        runner = self.runners.get(function)
        return list(runner.logs) if runner else []

    # ------------------------------------------------------------------ idle / stop
    def _is_quiet(self) -> bool:
        return not self._inflight.busy() and self.queues.empty(self.queues.urls)

    def wait_idle(self, timeout: float = 30) -> None:
        """Return once no event is queued for a function, none is running and no retry is pending.

        The embedded AWS's own pending work (``aws.wait_idle``: scheduled SageMaker transitions and their events)
        is waited for too, and alarms are evaluated before returning, so their notifications are out as well.
        Raises TimeoutError otherwise.
        """
        deadline = time.monotonic() + timeout
        aws_wait_idle = getattr(self.aws, "wait_idle", None)
        stable = 0
        while True:
            self._inflight.wait_none(deadline, timeout)
            if callable(aws_wait_idle):
                aws_wait_idle(max(deadline - time.monotonic(), 0.05))
            # quiet twice in a row: a handler may cause an event, an event may start a handler
            stable = stable + 1 if self._is_quiet() else 0
            if stable >= 2:
                self.alarms.evaluate()
                if self._is_quiet():
                    return
                stable = 0
            if time.monotonic() > deadline:
                raise TimeoutError(f"stack not idle after {timeout}s")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop pollers, workers (killing their processes), pending retries and alarm evaluation."""
        self._stopping.set()
        self._disconnect_event_sources()
        self.deliveries.stop()
        self.alarms.stop()
        for runner in self.runners.values():
            runner.stop()
        self.queues.stop()

    def __enter__(self) -> LocalStack:
        self.deploy()
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
