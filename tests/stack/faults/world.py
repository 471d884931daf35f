"""A function of the stack run in this process as Lambda runs it (its environment, its role's credentials) against
the embedded AWS, with the calls it makes recorded and faults injected per call.

    world = FunctionWorld.deploy("DeployFunction")       # a fresh embedded AWS with template.yaml's resources
    calls = world.calls_of(lambda: world.invoke(event))  # every (service, operation) the invocation made
    world.aws.control.inject_service_fault("sagemaker", "UpdateEndpoint", kind="throttle")

The SDK's back-off sleeps are skipped (``no_backoff``): a fault past the SDK's six attempts takes milliseconds.
"""

from __future__ import annotations

import importlib.util
import time
import types
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from local.aws import EmbeddedAWS, Timings
from local.stack import LocalStack
from sm_lifecycle.kernel import clients
from tests.conftest import ROOT
from tests.support import LambdaContext

SERVICES = ("sagemaker", "s3", "sns", "sqs", "dynamodb")
FUNCTION_FOLDERS = {
    "AlertFunction": "alert",
    "DeployFunction": "deploy",
    "PromoteFunction": "promote",
    "TagArtifactsFunction": "tag_artifacts",
}


@contextmanager
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """botocore retries at once (its standard mode's jittered back-off is what makes a throttled call slow)."""
    shim = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
    shim.sleep = lambda seconds: None
    monkeypatch.setattr("botocore.endpoint.time", shim)
    yield


@dataclass
class FunctionWorld:
    aws: EmbeddedAWS
    stack: LocalStack
    outputs: dict[str, Any]
    function: str
    handler: Callable[[dict[str, Any], Any], Any]
    extras: dict[str, Any] = field(default_factory=dict)  # what a scene leaves for its check

    @classmethod
    def deploy(cls, function: str, monkeypatch: pytest.MonkeyPatch) -> FunctionWorld:
        aws = EmbeddedAWS(timings=Timings()).start()
        stack = LocalStack(aws, env="dev")
        outputs = stack.deploy()
        for name, value in stack.function_env(function).items():
            if name not in ("PATH", "PYTHONPATH"):
                monkeypatch.setenv(name, value)  # the role's credentials among them: IAM decides every call
        clients.reset()
        return cls(aws, stack, outputs, function, _load_handler(function))

    def invoke(self, event: dict[str, Any]) -> Any:
        spec = self.stack.functions[self.function]
        context = LambdaContext(spec.name, invoked_function_arn=spec.arn, aws_request_id=str(uuid.uuid4()))
        return self.handler(event, context)

    def calls_of(self, run: Callable[[], Any]) -> list[tuple[str, str]]:
        """The distinct (service, operation) calls ``run`` made, in the order first made."""
        control = self.aws.control
        before = len(control.service_fault_log())
        ids = [control.inject_service_fault(s, "*", kind="latency", latency=0.0001)["id"] for s in SERVICES]
        try:
            run()
        finally:
            for fault_id in ids:
                control.clear_service_faults(fault_id)
        seen: dict[tuple[str, str], None] = {}
        for hit in control.service_fault_log()[before:]:
            seen[(hit["service"], hit["operation"])] = None
        return list(seen)

    def stop(self) -> None:
        clients.reset()
        self.aws.stop()


def _load_handler(function: str) -> Callable[[dict[str, Any], Any], Any]:
    path = ROOT / "functions" / FUNCTION_FOLDERS[function] / "app.py"
    spec = importlib.util.spec_from_file_location(f"{FUNCTION_FOLDERS[function]}_app_{uuid.uuid4().hex}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Callable[[dict[str, Any], Any], Any] = module.lambda_handler
    return handler
