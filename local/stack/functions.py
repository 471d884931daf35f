"""The template's Lambda resources, created locally: layers, functions, their invoke configs and permissions.

Each function gets an SQS queue of its own in the embedded AWS: the rules that target the function deliver there
(:mod:`local.stack.rules`), and its asynchronous invocations are read from there (:mod:`local.stack.event_queues`).
A function's process environment is Lambda's reserved variables, then the template's variables.
"""

from __future__ import annotations

import os
import site
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.aws.sessions import ADMINISTRATOR, SessionCredentials
from local.stack.resources import Provisioned, lambda_arn, physical_name
from local.stack.template import Template, TemplateError, UnsupportedResourceError

ACCOUNT_CONCURRENCY = 1000  # Lambda's default concurrency quota per account and region (new accounts get less)
UNRESERVED_MINIMUM = 100  # what reservations must leave to the other functions (the whole quota, if smaller)
LAMBDA_TYPES = (
    "AWS::Lambda::Function",
    "AWS::Lambda::LayerVersion",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::Permission",
)


@dataclass
class FunctionSpec:
    """A deployed function as the local runtime needs it (from the translated template, resolved)."""

    logical_id: str
    name: str
    arn: str
    handler: str
    code_dir: Path
    layer_dirs: list[Path]
    environment: dict[str, str]
    timeout: float = 3.0
    memory_size: int = 128
    max_concurrency: int = 4
    reserved_concurrency: int | None = None  # ReservedConcurrentExecutions, if the function reserves any
    max_retries: int = 2
    max_event_age: float = 21600.0
    dead_letter_arn: str | None = None
    on_failure_arn: str | None = None
    on_success_arn: str | None = None
    log_group: str = ""
    queue_url: str = ""
    queue_arn: str = ""
    role_arn: str = ""
    credentials: SessionCredentials = ADMINISTRATOR  # of a session of the execution role, as Lambda gives them


# (role ARN, session name, function ARN) -> credentials of a session of the role that Lambda assumes
Sessions = Callable[[str, str, str], SessionCredentials]


class LambdaResources:
    """Creates a stack's Lambda resources and keeps its functions (``functions``, by logical id)."""

    def __init__(
        self,
        template: Template,
        client: Callable[[str], Any],
        *,
        account_id: str,
        region: str,
        endpoint_url: str,
        default_concurrency: int,
        account_concurrency: int = ACCOUNT_CONCURRENCY,
        sessions: Sessions | None = None,
    ) -> None:
        self.template = template
        self.sessions = sessions
        self.client = client
        self.stack_name = template.stack_name
        self.account_id = account_id
        self.region = region
        self.endpoint_url = endpoint_url
        self.default_concurrency = default_concurrency
        self.account_concurrency = account_concurrency
        self.functions: dict[str, FunctionSpec] = {}
        self._layers: dict[str, Path] = {}  # layer version ARN -> folder holding the layer's Python packages
        self.permissions: list[dict[str, Any]] = []  # AWS::Lambda::Permission properties (resource-based policy)

    def create(self, logical_id: str, resource_type: str, props: dict[str, Any]) -> Provisioned:
        if resource_type == "AWS::Lambda::LayerVersion":
            return self._create_layer(logical_id, props)
        if resource_type == "AWS::Lambda::Function":
            return self._create_function(logical_id, props)
        if resource_type == "AWS::Lambda::EventInvokeConfig":
            return self._configure_invocations(logical_id, props)
        if resource_type == "AWS::Lambda::Permission":
            self.permissions.append(dict(props))
        return Provisioned(logical_id, resource_type, physical_name(self.stack_name, logical_id))

    def permits(self, spec: FunctionSpec, *, principal: str, source_arn: str) -> bool:
        """Whether a permission lets ``principal`` invoke the function for ``source_arn`` (its resource policy)."""
        for permission in self.permissions:
            named = permission.get("FunctionName") in {spec.name, spec.arn, f"{spec.arn}:$LATEST"}
            action = permission.get("Action") in {"lambda:InvokeFunction", "lambda:*"}
            who = permission.get("Principal") in {principal, "*"}
            source = permission.get("SourceArn") in {None, source_arn}
            if named and action and who and source:
                return True
        return False

    def by_name(self, name_or_arn: str) -> FunctionSpec:
        for spec in self.functions.values():
            if name_or_arn in {spec.name, spec.arn}:
                return spec
        raise UnsupportedResourceError(f"function {name_or_arn} is not a function of this stack")

    def by_arn(self, arn: str) -> FunctionSpec | None:
        return next((spec for spec in self.functions.values() if spec.arn == arn), None)

    def _create_layer(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        name = props.get("LayerName") or physical_name(self.stack_name, logical_id, max_length=140)
        arn = f"arn:aws:lambda:{self.region}:{self.account_id}:layer:{name}:1"
        folder = self.template.code_dir(props["Content"])
        build_method = str(self.template.resources[logical_id].get("Metadata", {}).get("BuildMethod", ""))
        # Lambda extracts a layer in /opt and Python finds packages in /opt/python: `sam build` with a pythonX.Y
        # build method puts the ContentUri folder there; otherwise the folder must hold python/ itself
        self._layers[arn] = folder if build_method.startswith("python") else folder / "python"
        return Provisioned(logical_id, "AWS::Lambda::LayerVersion", arn)

    def _configure_invocations(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        spec = self.by_name(props["FunctionName"])
        spec.max_retries = int(props.get("MaximumRetryAttempts", spec.max_retries))
        spec.max_event_age = float(props.get("MaximumEventAgeInSeconds", spec.max_event_age))
        destinations = props.get("DestinationConfig", {})
        spec.on_failure_arn = destinations.get("OnFailure", {}).get("Destination")
        spec.on_success_arn = destinations.get("OnSuccess", {}).get("Destination")
        return Provisioned(logical_id, "AWS::Lambda::EventInvokeConfig", f"{spec.name}|$LATEST")

    def _create_function(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        name = props.get("FunctionName") or physical_name(self.stack_name, logical_id, max_length=64)
        arn = lambda_arn(self.region, self.account_id, name)
        if props.get("PackageType") == "Image" or "ZipFile" in props.get("Code", {}):
            raise TemplateError(f"{logical_id}: only local code folders run locally")
        if str(props.get("Runtime", "")).split(".")[0] not in {"python3"}:
            raise TemplateError(f"{logical_id}: runtime {props.get('Runtime')} cannot run locally")
        reserved = self._reserve(logical_id, props.get("ReservedConcurrentExecutions"))
        queue_name = physical_name(self.stack_name, f"{logical_id}-async", max_length=80)
        attributes = {"VisibilityTimeout": "900"}
        queue_url = self.client("sqs").create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
        spec = FunctionSpec(
            logical_id=logical_id,
            name=name,
            arn=arn,
            handler=props["Handler"],
            code_dir=self.template.code_dir(props["Code"]),
            layer_dirs=[self._layer_dir(layer) for layer in props.get("Layers", [])],
            environment=dict(props.get("Environment", {}).get("Variables", {})),
            timeout=float(props.get("Timeout", 3)),
            memory_size=int(props.get("MemorySize", 128)),
            max_concurrency=reserved if reserved is not None else self.default_concurrency,
            reserved_concurrency=reserved,
            dead_letter_arn=props.get("DeadLetterConfig", {}).get("TargetArn"),
            log_group=props.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{name}",
            queue_url=queue_url,
            queue_arn=f"arn:aws:sqs:{self.region}:{self.account_id}:{queue_name}",
            role_arn=str(props.get("Role", "")),
        )
        if self.sessions is not None and spec.role_arn:  # Lambda assumes the role at CreateFunction
            spec.credentials = self.sessions(spec.role_arn, name, arn)
        self.functions[logical_id] = spec
        return Provisioned(logical_id, "AWS::Lambda::Function", name, {"Arn": arn})

    def _reserve(self, logical_id: str, value: Any) -> int | None:
        """``ReservedConcurrentExecutions`` as Lambda's PutFunctionConcurrency grants it: at least
        ``min(100, quota)`` of the account's concurrency stays unreserved, else the function is refused."""
        if value is None:
            return None
        reserved = int(value)
        minimum = min(UNRESERVED_MINIMUM, self.account_concurrency)
        already = sum(spec.reserved_concurrency or 0 for spec in self.functions.values())
        if self.account_concurrency - already - reserved < minimum:
            raise TemplateError(
                f"{logical_id}: Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{minimum}]."
            )
        return reserved

    def _layer_dir(self, layer_arn: str) -> Path:
        if layer_arn not in self._layers:
            raise TemplateError(f"layer {layer_arn} is not a layer of this template")
        return self._layers[layer_arn]

    def finish(self) -> None:
        """Once every resource exists: each function's process environment, its template variables resolved."""
        for spec in self.functions.values():
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
                endpoint_url=self.endpoint_url,
                credentials=spec.credentials,
            )


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | dict):
        raise TemplateError(f"environment variable value {value!r} is not a string")
    return str(value)


def worker_environment(
    spec_env: dict[str, str],
    *,
    function_name: str,
    handler: str,
    memory_size: int,
    code_dir: Path,
    layer_dirs: list[Path],
    log_group: str,
    region: str,
    endpoint_url: str,
    credentials: SessionCredentials = ADMINISTRATOR,
) -> dict[str, str]:
    """The process environment of a function: Lambda's reserved variables (its role's credentials among them),
    then the template's variables."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        # the code folder, the layers, then the interpreter's third-party packages (Lambda's /var/runtime)
        "PYTHONPATH": os.pathsep.join(str(path) for path in [code_dir, *layer_dirs, *site.getsitepackages()]),
        "PYTHONUNBUFFERED": "1",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "_HANDLER": handler,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": log_group,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        **credentials.environment(),  # the role session's key, secret and token, as Lambda sets them
        "AWS_ENDPOINT_URL": endpoint_url,
        # no shared config or credentials files in Lambda: keep the developer's ~/.aws out of the function
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        # there is no X-Ray daemon locally
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    reserved = {key for key in env if key.startswith(("AWS_LAMBDA_", "LAMBDA_", "_"))} | {
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    }
    clash = reserved & set(spec_env)
    if clash:  # Lambda rejects the function at deployment
        raise ValueError(f"{function_name}: reserved environment variables set in the template: {sorted(clash)}")
    env.update(spec_env)
    return env
