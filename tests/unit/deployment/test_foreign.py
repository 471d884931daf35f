"""Events about what is not this stack's (another account, model package group or endpoint) are ignored by the deploy
function: logged with the reason, no alert, no dead letter, no call that changes anything.

The deploy function's handler in this process, on the embedded AWS with the stack's resources. Each foreign event
arrives while an approved version waits to be deployed: had the handler reconciled, it would have updated the
endpoint."""

from __future__ import annotations

import copy
import importlib.util
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sm_lifecycle.deployment import reconciler_for
from tests.conftest import SnsInbox
from tests.support import LambdaContext

if TYPE_CHECKING:
    from tests.unit.deployment.conftest import Env

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[3] / "functions" / "deploy" / "app.py"
OTHER_ACCOUNT = "210987654321"


def deploy_handler() -> Any:
    spec = importlib.util.spec_from_file_location(f"deploy_app_{uuid.uuid4().hex}", APP)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


def foreign(env: Env, approval: dict[str, Any], how: str) -> tuple[dict[str, Any], str]:
    """``approval`` made another account's, another group's, or an endpoint event of another endpoint."""
    event = copy.deepcopy(approval)
    if how == "account":
        event["account"] = OTHER_ACCOUNT
        return event, "account"
    if how == "group":
        event["detail"]["ModelPackageGroupName"] = "another-team-models"
        return event, "detail.ModelPackageGroupName"
    endpoint_event = next(
        e for e in reversed(env.aws.emitted_events) if e["detail-type"] == "SageMaker Endpoint State Change"
    )
    event = copy.deepcopy(endpoint_event)
    event["detail"]["EndpointName"] = "another-teams-endpoint"
    return event, "detail.EndpointName"


@pytest.mark.parametrize("how", ["account", "group", "endpoint"])
def test_a_foreign_event_is_ignored_without_alert_or_mutation(env: Env, how: str) -> None:
    # GIVEN v1 live and v2 approved, not yet deployed
    assert env.run(reconciler_for(env.settings), env.approved(), "request-1") == "created"
    approval = env.approved()
    inbox = SnsInbox(env.aws, env.outputs["AlertTopicArn"], f"foreign-{how}-inbox")
    event, field = foreign(env, approval, how)
    context = LambdaContext(
        function_name="DeployFunction",
        invoked_function_arn=f"arn:aws:lambda:us-east-1:{approval['account']}:function:DeployFunction",
    )

    # WHEN a foreign event reaches the deploy function
    result = deploy_handler()(event, context)
    env.aws.wait_idle()

    # THEN it is ignored with the reason, and nothing is updated, alerted or dead-lettered
    assert (result["status"], result["field"]) == ("foreign", field)
    assert env.updates() == 0
    assert inbox.messages(wait=0.5) == []
    sqs = env.aws.client("sqs")
    assert sqs.receive_message(QueueUrl=env.outputs["DeployDeadLetterQueueUrl"]).get("Messages", []) == []

    # AND the same event, as this stack's, deploys v2 (the handler was able to)
    assert deploy_handler()(approval, context)["status"] == "updated"
    assert env.updates() == 1
