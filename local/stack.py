"""The application's stack on the embedded AWS, deployed from template.yaml and run as Lambda would run it.

``deploy()`` creates the template's resources (CloudFormation's job); every ``AWS::Events::Rule`` that targets a
function becomes a rule in the embedded EventBridge whose target is an SQS queue of that function, so EventBridge
(moto) alone decides which events reach which function. ``start()`` polls those queues and invokes the functions
asynchronously, with Lambda's retries and dead-letter queues (``local.lambda_runtime``), and evaluates the template's
CloudWatch alarms (``local.alarms``).

    stack = LocalStack(aws, env="dev", retry_delays=(0.0, 0.0))
    outputs = stack.deploy()
    stack.start()
    records = stack.replay([event])      # through EventBridge; one record per handler invocation
    stack.wait_idle(timeout=30)
    stack.stop()
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from local.alarms import AlarmEmulator
from local.lambda_runtime import (
    ERROR_MESSAGE_LIMIT,
    LAMBDA_RETRY_DELAYS,
    FunctionRunner,
    FunctionSpec,
    Invocation,
    worker_environment,
)
from local.resources import Provisioned, Provisioners, lambda_arn, physical_name
from local.template import Resolver, Template, TemplateError, UnsupportedResourceError, load_template, references

logger = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 4
# one botocore session for every client of the process: service models are loaded once, not per stack
_SESSION = boto3.session.Session()
_SESSION_LOCK = threading.Lock()
_DESCRIPTOR_TYPES = {
    "AWS::Lambda::Function",
    "AWS::Lambda::LayerVersion",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::Permission",
    "AWS::Events::Rule",
}
_MOTO_TARGET_SERVICES = {"sqs", "logs", "events"}  # targets the embedded EventBridge delivers itself


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
        alarm_interval: float = 0.25,
        python: str = sys.executable,
    ) -> None:
        self.aws = aws
        self.region: str = aws.region
        self.account_id: str = aws.account_id
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
        self.default_concurrency = default_concurrency
        self.python = python
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self.provisioners = Provisioners(
            self.client, stack_name=self.stack_name, region=self.region, account_id=self.account_id
        )
        self.resolver = Resolver(self.template, account_id=self.account_id, ref=self._ref, get_att=self._get_att)
        self.resources: dict[str, Provisioned] = {}
        self.skipped: dict[str, str] = {}  # logical id -> type, for types not created locally
        self.functions: dict[str, FunctionSpec] = {}  # by logical id
        self.rules: dict[str, list[str]] = {}  # rule logical id -> function logical ids it targets
        self.outputs: dict[str, Any] = {}
        self.runners: dict[str, FunctionRunner] = {}
        self.invocations: list[dict[str, Any]] = []
        self.alarms = AlarmEmulator(
            self.client,
            region=self.region,
            account_id=self.account_id,
            queue_url=self._queue_url_by_name,
            interval=alarm_interval,
        )
        self._layers: dict[str, Path] = {}  # layer version ARN -> folder holding the layer's Python packages
        self._log_streams: set[str] = set()
        self._log_streams_lock = threading.Lock()
        self._inflight = 0
        self._idle = threading.Condition()
        self._stopping = threading.Event()
        self._pollers: list[threading.Thread] = []
        self._deployed = False
        self._started = False

    # ------------------------------------------------------------------ AWS clients
    def client(self, service: str) -> Any:
        with self._clients_lock, _SESSION_LOCK:
            if service not in self._clients:
                self._clients[service] = _SESSION.client(
                    service,
                    region_name=self.region,
                    endpoint_url=self.aws.endpoint_url,
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",  # noqa: S106 - the embedded AWS's fixed credentials
                    config=Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=50),
                )
            return self._clients[service]

    # ------------------------------------------------------------------ intrinsics
    def _created(self, logical_id: str) -> Provisioned:
        if logical_id in self.skipped:
            raise UnsupportedResourceError(
                f"{logical_id} ({self.skipped[logical_id]}) is not created by the local stack, yet it is referenced"
            )
        resource = self.template.resources.get(logical_id, {})
        if "Condition" in resource and not self.resolver.condition(resource["Condition"]):
            raise TemplateError(f"{logical_id} is not created (condition {resource['Condition']}) but referenced")
        if logical_id not in self.resources:
            raise TemplateError(f"{logical_id} is referenced before it exists (circular dependency?)")
        return self.resources[logical_id]

    def _ref(self, logical_id: str) -> Any:
        return self._created(logical_id).ref

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        return self._created(logical_id).get_att(attribute)

    def physical_id(self, logical_id: str) -> Any:
        """What ``Ref`` gives for a resource of the template (SAM logical ids of layers are accepted too)."""
        if logical_id not in self.resources:
            for candidate in self.resources.values():
                if (
                    candidate.type == "AWS::Lambda::LayerVersion"
                    and candidate.properties.get("LayerName") == logical_id
                ):
                    return candidate.ref
        return self._ref(logical_id)

    # ------------------------------------------------------------------ deploy
    def _order(self) -> list[str]:
        resources = self.template.resources
        ordered: list[str] = []
        state: dict[str, int] = {}

        def visit(logical_id: str, path: tuple[str, ...]) -> None:
            if state.get(logical_id) == 2:
                return
            if state.get(logical_id) == 1:
                raise TemplateError(f"circular dependency: {' -> '.join((*path, logical_id))}")
            state[logical_id] = 1
            resource = resources[logical_id]
            depends = set(references(resource.get("Properties", {})))
            depends.update(_as_list(resource.get("DependsOn")))
            for dependency in sorted(depends):
                if dependency in resources:
                    visit(dependency, (*path, logical_id))
            state[logical_id] = 2
            ordered.append(logical_id)

        for logical_id in resources:
            visit(logical_id, ())
        return ordered

    def deploy(self) -> dict[str, Any]:
        """Create the template's resources in the embedded AWS; return the template's Outputs, resolved."""
        if self._deployed:
            return self.outputs
        for logical_id in self._order():
            resource = self.template.resources[logical_id]
            resource_type = resource["Type"]
            if "Condition" in resource and not self.resolver.condition(resource["Condition"]):
                logger.debug("%s: condition %s is false; not created", logical_id, resource["Condition"])
                continue
            if resource_type not in _DESCRIPTOR_TYPES and not self.provisioners.supports(resource_type):
                logger.debug("%s: type %s is not created locally", logical_id, resource_type)
                self.skipped[logical_id] = resource_type
                continue
            properties = self.resolver.resolve(resource.get("Properties", {}))
            if resource_type in _DESCRIPTOR_TYPES:
                created = self._create_lambda_resource(logical_id, resource_type, properties)
            else:
                created = self.provisioners.create(logical_id, resource_type, properties)
            created.properties = properties
            self.resources[logical_id] = created
            if resource_type == "AWS::CloudWatch::Alarm":
                self.alarms.add(created.ref, created.attributes["Arn"], properties)
            logger.debug("%s (%s): %s", logical_id, resource_type, created.ref)
        for spec in self.functions.values():
            self._finish_function(spec)
        self.outputs = {}
        for name, output in self.template.outputs.items():
            if "Condition" in output and not self.resolver.condition(output["Condition"]):
                continue
            self.outputs[name] = self.resolver.resolve(output["Value"])
        self._deployed = True
        logger.info(
            "stack %s deployed: %d resources, %d functions", self.stack_name, len(self.resources), len(self.functions)
        )
        return self.outputs

    def _create_lambda_resource(self, logical_id: str, resource_type: str, props: dict[str, Any]) -> Provisioned:
        if resource_type == "AWS::Lambda::LayerVersion":
            name = props.get("LayerName") or physical_name(self.stack_name, logical_id, max_length=140)
            arn = f"arn:aws:lambda:{self.region}:{self.account_id}:layer:{name}:1"
            folder = self.template.code_dir(props["Content"])
            build_method = str(self.template.resources[logical_id].get("Metadata", {}).get("BuildMethod", ""))
            # Lambda extracts a layer in /opt and Python finds packages in /opt/python: `sam build` with a pythonX.Y
            # build method puts the ContentUri folder there; otherwise the folder must hold python/ itself
            self._layers[arn] = folder if build_method.startswith("python") else folder / "python"
            return Provisioned(logical_id, resource_type, arn)
        if resource_type == "AWS::Lambda::Function":
            return self._create_function(logical_id, props)
        if resource_type == "AWS::Lambda::EventInvokeConfig":
            spec = self._function_by_name(props["FunctionName"])
            spec.max_retries = int(props.get("MaximumRetryAttempts", spec.max_retries))
            spec.max_event_age = float(props.get("MaximumEventAgeInSeconds", spec.max_event_age))
            destinations = props.get("DestinationConfig", {})
            spec.on_failure_arn = destinations.get("OnFailure", {}).get("Destination")
            spec.on_success_arn = destinations.get("OnSuccess", {}).get("Destination")
            return Provisioned(logical_id, resource_type, f"{spec.name}|$LATEST")
        if resource_type == "AWS::Lambda::Permission":
            return Provisioned(logical_id, resource_type, physical_name(self.stack_name, logical_id))
        return self._create_rule(logical_id, props)

    def _function_by_name(self, name_or_arn: str) -> FunctionSpec:
        for spec in self.functions.values():
            if name_or_arn in {spec.name, spec.arn}:
                return spec
        raise UnsupportedResourceError(f"function {name_or_arn} is not a function of this stack")

    def _create_function(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        name = props.get("FunctionName") or physical_name(self.stack_name, logical_id, max_length=64)
        arn = lambda_arn(self.region, self.account_id, name)
        if props.get("PackageType") == "Image" or "ZipFile" in props.get("Code", {}):
            raise TemplateError(f"{logical_id}: only local code folders run locally")
        if str(props.get("Runtime", "")).split(".")[0] not in {"python3"}:
            raise TemplateError(f"{logical_id}: runtime {props.get('Runtime')} cannot run locally")
        reserved = props.get("ReservedConcurrentExecutions")
        dead_letter = props.get("DeadLetterConfig", {}).get("TargetArn")
        log_group = props.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{name}"
        queue_name = physical_name(self.stack_name, f"{logical_id}-async", max_length=80)
        queue_url = self.client("sqs").create_queue(QueueName=queue_name, Attributes={"VisibilityTimeout": "900"})[
            "QueueUrl"
        ]
        spec = FunctionSpec(
            logical_id=logical_id,
            name=name,
            arn=arn,
            handler=props["Handler"],
            code_dir=self.template.code_dir(props["Code"]),
            layer_dirs=[],
            environment=dict(props.get("Environment", {}).get("Variables", {})),
            timeout=float(props.get("Timeout", 3)),
            memory_size=int(props.get("MemorySize", 128)),
            max_concurrency=int(reserved) if reserved is not None else self.default_concurrency,
            dead_letter_arn=dead_letter,
            log_group=log_group,
            queue_url=queue_url,
            queue_arn=f"arn:aws:sqs:{self.region}:{self.account_id}:{queue_name}",
        )
        spec.layer_dirs = [self._layer_dir(layer) for layer in props.get("Layers", [])]
        self.functions[logical_id] = spec
        return Provisioned(logical_id, "AWS::Lambda::Function", name, {"Arn": arn})

    def _layer_dir(self, layer_arn: str) -> Path:
        if layer_arn not in self._layers:
            raise TemplateError(f"layer {layer_arn} is not a layer of this template")
        return self._layers[layer_arn]

    def _finish_function(self, spec: FunctionSpec) -> None:
        variables = {key: _env_value(value) for key, value in spec.environment.items()}
        spec.environment = worker_environment(
            variables,
            function_name=spec.name,
            handler=spec.handler,
            memory_size=spec.memory_size,
            code_dir=spec.code_dir,
            layer_dirs=spec.layer_dirs,
            log_group=spec.log_group,
            region=self.region,
            endpoint_url=self.aws.endpoint_url,
        )

    def _create_rule(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        events = self.client("events")
        name = props.get("Name") or physical_name(self.stack_name, logical_id, max_length=64)
        bus = props.get("EventBusName", "default")
        request: dict[str, Any] = {"Name": name, "State": props.get("State", "ENABLED"), "EventBusName": bus}
        if "EventPattern" in props:
            pattern = props["EventPattern"]
            request["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        for key in ("ScheduleExpression", "Description", "RoleArn"):
            if key in props:
                request[key] = props[key]
        arn = events.put_rule(**request)["RuleArn"]
        targets, functions = [], []
        for target in props.get("Targets", []):
            entry = {key: value for key, value in target.items() if key in {"Id", "InputTransformer", "SqsParameters"}}
            entry.update(_as_input_transformer(target))
            spec = next((spec for spec in self.functions.values() if spec.arn == target["Arn"]), None)
            if spec is not None:
                functions.append(spec.logical_id)
                targets.append({**entry, "Arn": spec.queue_arn})
            elif target["Arn"].split(":")[2] in _MOTO_TARGET_SERVICES:
                targets.append({**entry, "Arn": target["Arn"]})
            else:
                logger.warning("%s: target %s is not delivered locally", logical_id, target["Arn"])
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        self.rules[logical_id] = functions
        ref = name if bus == "default" else f"{bus}|{name}"
        return Provisioned(logical_id, "AWS::Events::Rule", ref, {"Arn": arn})

    def _queue_url_by_name(self, queue_name: str) -> str | None:
        for resource in self.resources.values():
            if resource.type == "AWS::SQS::Queue" and resource.attributes["QueueName"] == queue_name:
                return resource.ref
        try:
            return self.client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]
        except self.client("sqs").exceptions.QueueDoesNotExist:
            return None

    def function_env(self, logical_id: str) -> dict[str, str]:
        """The process environment the function's handler runs with."""
        return dict(self.functions[logical_id].environment)

    # ------------------------------------------------------------------ run
    def start(self) -> LocalStack:
        """Start polling the functions' event queues, the function workers and the alarm evaluation."""
        if not self._deployed:
            self.deploy()
        if self._started:
            return self
        self._started = True
        for logical_id, spec in self.functions.items():
            runner = FunctionRunner(
                spec,
                retry_delays=self.retry_delays,
                on_finished=self._finished,
                on_attempt=self._attempted,
                on_logs=self._ship_logs,
                python=self.python,
            )
            self.runners[logical_id] = runner
            poller = threading.Thread(target=self._poll, args=(runner,), daemon=True, name=f"poll-{logical_id}")
            poller.start()
            self._pollers.append(poller)
        self.alarms.start()
        logger.info("stack %s running (%s)", self.stack_name, ", ".join(self.functions) or "no functions")
        return self

    def _poll(self, runner: FunctionRunner) -> None:
        sqs = self.client("sqs")
        while not self._stopping.is_set():
            try:
                response = sqs.receive_message(
                    QueueUrl=runner.spec.queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=1,
                    AttributeNames=["SentTimestamp"],
                )
            except Exception:
                if self._stopping.is_set():
                    return
                logger.exception("%s: polling its event queue failed", runner.spec.logical_id)
                time.sleep(0.5)
                continue
            for message in response.get("Messages", []):
                if self._stopping.is_set():
                    return
                with self._idle:
                    self._inflight += 1
                sent = float(message.get("Attributes", {}).get("SentTimestamp", time.time() * 1000)) / 1000
                invocation = Invocation(event=json.loads(message["Body"]), enqueued_at=sent)
                sqs.delete_message(QueueUrl=runner.spec.queue_url, ReceiptHandle=message["ReceiptHandle"])
                runner.submit(invocation)

    def invoke_async(self, function: str, event: Any) -> None:
        """``lambda invoke --invocation-type Event`` on a function of the stack (by logical id)."""
        spec = self.functions[function]
        self.client("sqs").send_message(QueueUrl=spec.queue_url, MessageBody=json.dumps(event))

    def _ship_logs(self, spec: FunctionSpec, stream: str, events: list[tuple[int, str]]) -> None:
        """Write a function's log lines to its log group, as Lambda does (group created on first use)."""
        logs = self.client("logs")
        with self._log_streams_lock:
            if stream not in self._log_streams:
                with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                    logs.create_log_group(logGroupName=spec.log_group)
                logs.create_log_stream(logGroupName=spec.log_group, logStreamName=stream)
                self._log_streams.add(stream)
        logs.put_log_events(
            logGroupName=spec.log_group,
            logStreamName=stream,
            logEvents=[{"timestamp": stamp, "message": line} for stamp, line in sorted(events, key=lambda e: e[0])],
        )

    def _attempted(self, spec: FunctionSpec, ok: bool, duration_ms: float) -> None:
        self.alarms.lambda_datapoint(spec.name, error=not ok)
        dimensions = [{"Name": "FunctionName", "Value": spec.name}]
        with contextlib.suppress(Exception):
            self.client("cloudwatch").put_metric_data(
                Namespace="AWS/Lambda",
                MetricData=[
                    {"MetricName": "Invocations", "Dimensions": dimensions, "Value": 1.0, "Unit": "Count"},
                    {"MetricName": "Errors", "Dimensions": dimensions, "Value": 0.0 if ok else 1.0, "Unit": "Count"},
                    {"MetricName": "Duration", "Dimensions": dimensions, "Value": duration_ms, "Unit": "Milliseconds"},
                ],
            )

    def _finished(self, spec: FunctionSpec, invocation: Invocation, status: str, result: Any) -> None:
        try:
            if self._stopping.is_set():  # an attempt cut short by stop(): the stack and its AWS are going away
                return
            error = invocation.last_error or {}
            outcome = "ok" if status == "ok" else "error"
            if status == "expired" and not error:
                error = {"errorType": "EventAgeExceeded", "errorMessage": "event older than MaximumEventAgeInSeconds"}
            if status != "ok":
                if self._dead_letter(spec, invocation, error):
                    outcome = "dead-lettered"
                self._destination(spec.on_failure_arn, spec, invocation, error, status)
                logger.warning(
                    "%s: request %s (event %s) %s after %d attempt(s): %s",
                    spec.logical_id,
                    invocation.request_id,
                    invocation.event_id,
                    outcome,
                    invocation.attempts,
                    error.get("errorMessage"),
                )
            else:
                self._destination(spec.on_success_arn, spec, invocation, result, status)
            record = {
                "event_id": invocation.event_id,
                "function": spec.logical_id,
                "function_name": spec.name,
                "request_id": invocation.request_id,
                "outcome": outcome,
                "error": None if outcome == "ok" else error.get("errorMessage"),
                "error_type": None if outcome == "ok" else error.get("errorType"),
                "attempts": invocation.attempts,
                "result": result if outcome == "ok" else None,
            }
            self.invocations.append(record)
        finally:
            with self._idle:
                self._inflight -= 1
                self._idle.notify_all()

    def _dead_letter(self, spec: FunctionSpec, invocation: Invocation, error: Mapping[str, Any]) -> bool:
        if not spec.dead_letter_arn:
            return False
        body = json.dumps(invocation.event)
        message = str(error.get("errorMessage", ""))[:ERROR_MESSAGE_LIMIT]
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": invocation.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": message or "Unhandled"},
        }
        try:
            self._send(spec.dead_letter_arn, body, attributes)
        except Exception:
            logger.exception(
                "%s: could not send request %s to its dead-letter queue", spec.logical_id, invocation.request_id
            )
            return False
        return True

    def _destination(
        self, arn: str | None, spec: FunctionSpec, invocation: Invocation, payload: Any, status: str
    ) -> None:
        if not arn:
            return
        condition = {"ok": "Success", "expired": "EventAgeExceeded"}.get(status, "RetriesExhausted")
        record = {
            "version": "1.0",
            "timestamp": datetime.now().astimezone().isoformat(timespec="milliseconds"),
            "requestContext": {
                "requestId": invocation.request_id,
                "functionArn": f"{spec.arn}:$LATEST",
                "condition": condition,
                "approximateInvokeCount": invocation.attempts,
            },
            "requestPayload": invocation.event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "responsePayload": payload,
        }
        if status != "ok":
            record["responseContext"]["functionError"] = "Unhandled"
        try:
            self._send(arn, json.dumps(record), {})
        except Exception:
            logger.exception("%s: could not deliver to destination %s", spec.logical_id, arn)

    def _send(self, arn: str, body: str, attributes: dict[str, Any]) -> None:
        service = arn.split(":")[2]
        if service == "sqs":
            name, owner = arn.split(":")[5], arn.split(":")[4]
            url = self.client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=owner)["QueueUrl"]
            self.client("sqs").send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)
        elif service == "sns":
            self.client("sns").publish(TopicArn=arn, Message=body, MessageAttributes=attributes)
        elif service == "lambda":
            self.invoke_async(self._function_by_name(arn.split(":")[6]).logical_id, json.loads(body))
        elif service == "events":
            detail_type = "Lambda Function Invocation Result - " + (
                "Success" if json.loads(body)["requestContext"]["condition"] == "Success" else "Failure"
            )
            self.client("events").put_events(
                Entries=[{"Source": "lambda", "DetailType": detail_type, "Detail": body, "EventBusName": arn}]
            )
        else:
            raise ValueError(f"unsupported destination {arn}")

    # ------------------------------------------------------------------ events
    def put_events(self, events: Iterable[Mapping[str, Any]]) -> list[str]:
        """Send AWS-shaped events (``source``, ``detail-type``, ``detail``...) through EventBridge; their new ids.

        SageMaker's events (``aws.sagemaker``) come from the service, not from PutEvents (which refuses ``aws.*``
        sources): they are emitted by the embedded SageMaker (``aws.emit``) with their ``time`` as written. Other
        events go through PutEvents. Either way EventBridge assigns a fresh ``id``.
        """
        ids: list[str] = []
        entries: list[dict[str, Any]] = []
        for event in events:
            if event.get("source") == "aws.sagemaker" and callable(getattr(self.aws, "emit", None)):
                self._flush_entries(entries, ids)
                emitted = self.aws.emit(
                    event["detail-type"], event.get("detail", {}), event.get("resources", []), time=event.get("time")
                )
                ids.append(emitted["id"])
            else:
                entries.append(_entry(event))
        self._flush_entries(entries, ids)
        return ids

    def _flush_entries(self, entries: list[dict[str, Any]], ids: list[str]) -> None:
        for start in range(0, len(entries), 10):
            response = self.client("events").put_events(Entries=entries[start : start + 10])
            for entry, result in zip(entries[start : start + 10], response["Entries"], strict=True):
                if "EventId" not in result:
                    raise ValueError(f"EventBridge refused {entry['DetailType']}: {result.get('ErrorMessage')}")
                ids.append(result["EventId"])
        entries.clear()

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
    def _queues_empty(self) -> bool:
        sqs = self.client("sqs")
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        for spec in self.functions.values():
            attributes = sqs.get_queue_attributes(QueueUrl=spec.queue_url, AttributeNames=names)["Attributes"]
            if any(int(attributes.get(name, 0)) for name in names):
                return False
        return True

    def _wait_inflight(self, deadline: float, timeout: float) -> None:
        with self._idle:
            while self._inflight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self._inflight} invocation(s) still in flight after {timeout}s")
                self._idle.wait(min(remaining, 0.5))

    def _is_quiet(self) -> bool:
        with self._idle:
            if self._inflight:
                return False
        return self._queues_empty()

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
            self._wait_inflight(deadline, timeout)
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
        self.alarms.stop()
        for runner in self.runners.values():
            runner.stop()
        # pollers finish their current long poll (at most 1 s) on their own: daemon threads, nothing to wait for
        self._pollers.clear()

    def __enter__(self) -> LocalStack:
        self.deploy()
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _as_input_transformer(target: Mapping[str, Any]) -> dict[str, Any]:
    """A target's ``Input`` (constant JSON) or ``InputPath`` as the InputTransformer that delivers the same thing."""
    if "Input" in target:
        return {"InputTransformer": {"InputPathsMap": {}, "InputTemplate": target["Input"]}}
    if "InputPath" in target:
        return {"InputTransformer": {"InputPathsMap": {"value": target["InputPath"]}, "InputTemplate": "<value>"}}
    return {}


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | dict):
        raise TemplateError(f"environment variable value {value!r} is not a string")
    return str(value)


def _entry(event: Mapping[str, Any]) -> dict[str, Any]:
    """A PutEvents entry from an event in EventBridge's delivered shape (or already an entry)."""
    if "DetailType" in event:
        return dict(event)
    entry: dict[str, Any] = {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event.get("detail", {})),
        "Resources": list(event.get("resources", [])),
    }
    if event.get("time"):
        with contextlib.suppress(ValueError):
            entry["Time"] = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    return entry
