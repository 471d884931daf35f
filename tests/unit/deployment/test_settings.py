"""Deployment settings, names and request shapes, and events → triggers (no AWS)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sm_lifecycle.deployment import DEPLOY_EVENTS, DeploySettings
from sm_lifecycle.deployment import trigger_from_event as trigger_of
from sm_lifecycle.kernel.errors import ConfigurationError, ForeignEventError
from sm_lifecycle.kernel.events import parse_one_of


def trigger_from_event(event: Any, settings: DeploySettings) -> Any:
    """The deploy function's parsing (the handler factory's) then its trigger."""
    return trigger_of(parse_one_of(event, DEPLOY_EVENTS), settings)


AWS_EVENTS = Path(__file__).resolve().parents[3] / "events"
ARN = "arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud-detector/2"


def environment(**changes: str) -> dict[str, str]:
    env = {
        "ENVIRONMENT": "staging",
        "TEAM": "ml-platform",
        "PIPELINE_NAME": "fraud-pipeline",
        "MODEL_PACKAGE_GROUP_NAME": "fraud-detector",
        "ENDPOINT_NAME": "fraud-detector-prod",
        "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:111122223333:alerts",
        "IDEMPOTENCY_TABLE_NAME": "idempotency",
        "SAGEMAKER_EXECUTION_ROLE_ARN": "arn:aws:iam::111122223333:role/sagemaker",
        "DEPLOYMENT_STATE_TABLE_NAME": "deployments",
        "ENDPOINT_INSTANCE_TYPE": "ml.m5.large",
        "ENDPOINT_INSTANCE_COUNT": "2",
        "DATA_CAPTURE_S3_URI": "s3://artifacts/data-capture/",
        "DEPLOYMENT_STRATEGY": "Canary",
        "DEPLOYMENT_TRAFFIC_STEP_PERCENT": "50",
        "ROLLBACK_ALARM_NAMES": "ep-5xx, ep-latency",
    }
    env.update(changes)
    return env


def test_names_are_deterministic_and_follow_every_setting() -> None:
    # GIVEN the same settings twice
    one, two = DeploySettings.from_env(environment()), DeploySettings.from_env(environment())
    model = one.model_name(ARN, 2)

    # THEN the same package gets the same names (a retry finds what a previous attempt made)
    assert model == two.model_name(ARN, 2)
    assert one.endpoint_config_name(model, 2) == two.endpoint_config_name(model, 2)
    assert model.startswith("fraud-detector-prod-v2-")
    # AND any change of what the config holds gives it a new name
    for change in ({"ENDPOINT_INSTANCE_COUNT": "3"}, {"DATA_CAPTURE_SAMPLING_PERCENTAGE": "5"}):
        other = DeploySettings.from_env(environment(**change))
        assert other.endpoint_config_name(model, 2) != one.endpoint_config_name(model, 2)
    # AND another role makes another model
    other_role = DeploySettings.from_env(environment(SAGEMAKER_EXECUTION_ROLE_ARN="arn:aws:iam::1:role/x"))
    assert other_role.model_name(ARN, 2) != model


def test_rollout_and_capture_request_shapes() -> None:
    settings = DeploySettings.from_env(environment())
    deployment = settings.deployment_config()
    routing = deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing == {
        "Type": "CANARY",
        "WaitIntervalInSeconds": 300,
        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50},
    }
    assert deployment["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": "ep-5xx"}, {"AlarmName": "ep-latency"}]}
    linear = DeploySettings.from_env(environment(DEPLOYMENT_STRATEGY="Linear")).deployment_config()
    assert linear["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["LinearStepSize"]["Value"] == 50
    all_at_once = DeploySettings.from_env(environment(DEPLOYMENT_STRATEGY="AllAtOnce", ROLLBACK_ALARM_NAMES=""))
    assert (
        all_at_once.deployment_config()["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "ALL_AT_ONCE"
    )
    assert "AutoRollbackConfiguration" not in all_at_once.deployment_config()

    capture = settings.data_capture_config(3)
    # each version's config captures in its own folder: a record's key names the version that served it
    assert capture["DestinationS3Uri"] == f"s3://artifacts/data-capture/{settings.endpoint_name}/v3"
    assert settings.data_capture_config(4)["DestinationS3Uri"].endswith(f"/{settings.endpoint_name}/v4")
    assert capture["InitialSamplingPercentage"] == 20
    assert "KmsKeyId" not in capture
    encrypted = DeploySettings.from_env(environment(DATA_CAPTURE_KMS_KEY_ID="alias/capture")).data_capture_config(1)
    assert encrypted["KmsKeyId"] == "alias/capture"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ENVIRONMENT": "qa"}, "ENVIRONMENT"),
        ({"ENVIRONMENT": ""}, "ENVIRONMENT"),
        ({"DEPLOYMENT_STRATEGY": "Rolling"}, "DEPLOYMENT_STRATEGY"),
        ({"DATA_CAPTURE_SAMPLING_PERCENTAGE": "101"}, "DATA_CAPTURE_SAMPLING_PERCENTAGE"),
        ({"SAGEMAKER_EXECUTION_ROLE_ARN": ""}, "SAGEMAKER_EXECUTION_ROLE_ARN"),
        ({"ENDPOINT_NAME": "e" * 50}, "too long"),
    ],
)
def test_unknown_environment_and_bad_settings_are_configuration_errors(change: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        DeploySettings.from_env(environment(**change))


def _event(name: str) -> dict:
    return json.loads((AWS_EVENTS / name).read_text())


def test_approval_event_becomes_a_package_trigger_naming_the_package_only() -> None:
    event = _event("model-package-approved.json")
    settings = DeploySettings.from_env(environment(MODEL_PACKAGE_GROUP_NAME=event["detail"]["ModelPackageGroupName"]))
    trigger = trigger_from_event(event, settings)
    assert trigger.kind == "model-package"
    assert trigger.package_version == event["detail"]["ModelPackageVersion"]
    assert trigger.approval_changed is True
    assert trigger.approves(event["detail"]["ModelPackageArn"])
    # nothing else of the event is carried: the reconciler reads the package from the registry
    assert not hasattr(trigger, "package") and not hasattr(trigger, "changed_at")


def test_event_of_another_group_or_endpoint_is_foreign() -> None:
    settings = DeploySettings.from_env(environment(MODEL_PACKAGE_GROUP_NAME="other"))
    with pytest.raises(ForeignEventError) as caught:
        trigger_from_event(_event("model-package-approved.json"), settings)
    assert caught.value.field == "detail.ModelPackageGroupName"

    endpoint_event = _event("endpoint-in-service.json")
    endpoint_event["detail"]["EndpointName"] = "someone-elses"
    with pytest.raises(ForeignEventError) as caught:
        trigger_from_event(endpoint_event, DeploySettings.from_env(environment()))
    assert caught.value.field == "detail.EndpointName"


@pytest.mark.parametrize(
    ("changes", "parameter"),
    [
        ({"DEPLOYMENT_STRATEGY": "Canary", "DEPLOYMENT_TRAFFIC_STEP_PERCENT": "60"}, "DEPLOYMENT_TRAFFIC_STEP_PERCENT"),
        ({"DEPLOYMENT_STRATEGY": "Linear", "DEPLOYMENT_TRAFFIC_STEP_PERCENT": "5"}, "DEPLOYMENT_TRAFFIC_STEP_PERCENT"),
        ({"DEPLOYMENT_STRATEGY": "Linear", "DEPLOYMENT_TRAFFIC_STEP_PERCENT": "75"}, "DEPLOYMENT_TRAFFIC_STEP_PERCENT"),
        (
            {
                "DEPLOYMENT_STRATEGY": "Linear",
                "DEPLOYMENT_TRAFFIC_STEP_PERCENT": "10",
                "DEPLOYMENT_WAIT_INTERVAL_SECONDS": "600",
                "DEPLOYMENT_MAX_EXECUTION_TIMEOUT_SECONDS": "3600",
            },
            "DEPLOYMENT_MAX_EXECUTION_TIMEOUT_SECONDS",
        ),
        (
            {
                "DEPLOYMENT_STRATEGY": "AllAtOnce",
                "DEPLOYMENT_WAIT_INTERVAL_SECONDS": "300",
                "DEPLOYMENT_TERMINATION_WAIT_SECONDS": "300",
                "DEPLOYMENT_MAX_EXECUTION_TIMEOUT_SECONDS": "600",
            },
            "DEPLOYMENT_MAX_EXECUTION_TIMEOUT_SECONDS",
        ),
    ],
)
def test_rollouts_sagemaker_would_refuse_fail_at_the_first_invocation(changes: dict[str, str], parameter: str) -> None:
    # GIVEN rollout settings that UpdateEndpoint refuses (canary > 50 %, linear outside 10-50 %, a timeout that the
    # rollout's waits exceed: every traffic shift waits WaitIntervalInSeconds, the old fleet TerminationWaitInSeconds)
    # WHEN the deploy function reads its settings
    # THEN it fails with a ConfigurationError naming the parameter, before any deployment
    with pytest.raises(ConfigurationError, match=parameter):
        DeploySettings.from_env(environment(**changes))


def test_the_rollouts_of_every_environment_are_accepted() -> None:
    # GIVEN samconfig.toml's rollouts: dev all at once, staging canary 50 %, prod linear 25 % over 4 instances
    rollouts = [
        {"DEPLOYMENT_STRATEGY": "AllAtOnce", "DEPLOYMENT_WAIT_INTERVAL_SECONDS": "0"},
        {"DEPLOYMENT_STRATEGY": "Canary", "DEPLOYMENT_TRAFFIC_STEP_PERCENT": "50"},
        {
            "DEPLOYMENT_STRATEGY": "Linear",
            "DEPLOYMENT_TRAFFIC_STEP_PERCENT": "25",
            "DEPLOYMENT_WAIT_INTERVAL_SECONDS": "600",
            "DEPLOYMENT_TERMINATION_WAIT_SECONDS": "600",
            "DEPLOYMENT_MAX_EXECUTION_TIMEOUT_SECONDS": "7200",
            "ENDPOINT_INSTANCE_COUNT": "4",
        },
    ]
    # WHEN they are read, THEN they are valid
    for changes in rollouts:
        assert DeploySettings.from_env(environment(**changes)).deployment_config()
