"""Contract tests: SageMaker endpoints in the embedded AWS behave as the SageMaker API reference describes."""

from __future__ import annotations

import json
import urllib.error
from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/SageMakerExecutionRole"
ENDPOINT_EVENTS = {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Endpoint State Change"]}
DEPLOYMENT_EVENTS = {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Endpoint Deployment State Change"]}
BLUE_GREEN = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "CANARY",
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50},
            "WaitIntervalInSeconds": 300,
        },
        "TerminationWaitInSeconds": 600,
        "MaximumExecutionTimeoutInSeconds": 1800,
    },
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "fraud-detector-dev-5xx"}]},
}


def make_config(sm: Any, name: str, image: str = "img:1", count: int = 1, capture: bool = False) -> None:
    sm.create_model(ModelName=f"{name}-model", PrimaryContainer={"Image": image}, ExecutionRoleArn=ROLE)
    kwargs: dict[str, Any] = {}
    if capture:
        kwargs["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": 20,
            "DestinationS3Uri": "s3://bucket/capture",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        }
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-model",
                "InitialInstanceCount": count,
                "InstanceType": "ml.m5.large",
            }
        ],
        **kwargs,
    )


@pytest.fixture
def live_endpoint(embedded_aws: Any, sagemaker: Any) -> str:
    make_config(sagemaker, "cfg-v1")
    sagemaker.create_endpoint(EndpointName="ep", EndpointConfigName="cfg-v1", Tags=[{"Key": "env", "Value": "dev"}])
    embedded_aws.wait_idle()
    return "ep"


def error_of(call: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]


def test_create_endpoint_goes_creating_then_in_service_and_emits_each_state(embedded_aws, sagemaker, event_queue):
    # GIVEN a rule routing endpoint state changes to a queue, and transitions held
    read = event_queue(ENDPOINT_EVENTS)
    make_config(sagemaker, "cfg-v1")
    embedded_aws.control.pause_transitions()

    # WHEN the endpoint is created
    arn = sagemaker.create_endpoint(EndpointName="ep", EndpointConfigName="cfg-v1")["EndpointArn"]

    # THEN it is Creating until SageMaker finishes, then InService
    assert sagemaker.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "Creating"
    embedded_aws.control.resume_transitions()
    embedded_aws.wait_idle()
    described = sagemaker.describe_endpoint(EndpointName="ep")
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == "cfg-v1"
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 1
    events = read()
    assert [e["detail"]["EndpointStatus"] for e in events] == ["CREATING", "IN_SERVICE"]
    last = events[-1]
    assert last["resources"] == [arn]
    assert last["detail"]["EndpointArn"] == arn
    assert last["detail"]["EndpointConfigName"] == "cfg-v1"
    assert isinstance(last["detail"]["CreationTime"], float)
    assert last["time"].isdigit()  # epoch milliseconds, as the documented sample
    assert last["detail"]["Tags"] == {}


def test_update_endpoint_is_refused_while_the_endpoint_is_updating(embedded_aws, sagemaker, live_endpoint):
    # GIVEN an endpoint whose update is in progress
    make_config(sagemaker, "cfg-v2", count=2)
    make_config(sagemaker, "cfg-v3")
    embedded_aws.control.pause_transitions()
    sagemaker.update_endpoint(EndpointName=live_endpoint, EndpointConfigName="cfg-v2")

    # WHEN a second update arrives
    error = error_of(sagemaker.update_endpoint, EndpointName=live_endpoint, EndpointConfigName="cfg-v3")

    # THEN SageMaker refuses it as it refuses any operation on an in-progress endpoint
    arn = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep"
    assert error == {"Code": "ValidationException", "Message": f'Cannot update in-progress endpoint "{arn}".'}
    # AND while updating, DescribeEndpoint shows the running config and the pending one
    described = sagemaker.describe_endpoint(EndpointName=live_endpoint)
    assert described["EndpointStatus"] == "Updating"
    assert described["EndpointConfigName"] == "cfg-v1"
    assert described["PendingDeploymentSummary"]["EndpointConfigName"] == "cfg-v2"
    assert error_of(sagemaker.delete_endpoint, EndpointName=live_endpoint)["Message"].startswith(
        "Cannot update in-progress endpoint"
    )


def test_update_endpoint_completes_on_the_new_config(embedded_aws, sagemaker, live_endpoint, event_queue):
    # GIVEN a live endpoint and a new config
    read = event_queue(ENDPOINT_EVENTS)
    make_config(sagemaker, "cfg-v2", count=2)

    # WHEN it is updated with a blue/green deployment config
    arn = sagemaker.update_endpoint(
        EndpointName=live_endpoint, EndpointConfigName="cfg-v2", DeploymentConfig=BLUE_GREEN
    )["EndpointArn"]
    embedded_aws.wait_idle()

    # THEN it runs the new config and reports the deployment config it used
    described = sagemaker.describe_endpoint(EndpointName=live_endpoint)
    assert arn == described["EndpointArn"]
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == "cfg-v2"
    assert described["ProductionVariants"][0]["DesiredInstanceCount"] == 2
    assert "FailureReason" not in described
    assert "PendingDeploymentSummary" not in described
    assert described["LastDeploymentConfig"] == BLUE_GREEN
    events = read()
    assert [(e["detail"]["EndpointStatus"], e["detail"]["EndpointConfigName"]) for e in events] == [
        ("UPDATING", "cfg-v1"),
        ("IN_SERVICE", "cfg-v2"),
    ]
    assert events[-1]["detail"]["Tags"] == {"env": "dev"}


def test_blue_green_update_emits_deployment_state_changes(embedded_aws, sagemaker, live_endpoint, event_queue):
    # GIVEN a rule for deployment state changes
    read = event_queue(DEPLOYMENT_EVENTS)
    make_config(sagemaker, "cfg-v2", count=2)

    # WHEN a canary deployment runs
    sagemaker.update_endpoint(EndpointName=live_endpoint, EndpointConfigName="cfg-v2", DeploymentConfig=BLUE_GREEN)

    # THEN its phases are reported with the pending config, as in the documented example
    events = read()
    phases = [e["detail"]["PendingDeploymentSummary"]["ProductionVariants"][0]["VariantStatus"][0] for e in events]
    assert [p["Status"] for p in phases] == ["Creating", "ActivatingTraffic", "Baking"]
    assert phases[-1]["StatusMessage"] == (
        "Baking for 600 seconds (TerminationWaitInSeconds) with traffic enabled on canary capacity of 1 instance(s)."
    )
    assert {e["detail"]["EndpointStatus"] for e in events} == {"UPDATING"}
    assert {e["detail"]["PendingDeploymentSummary"]["EndpointConfigName"] for e in events} == {"cfg-v2"}


def test_update_of_a_missing_endpoint_or_to_a_missing_config_is_refused(embedded_aws, sagemaker, live_endpoint):
    # WHEN the endpoint or the config does not exist
    no_endpoint = error_of(sagemaker.update_endpoint, EndpointName="nope", EndpointConfigName="cfg-v1")
    no_config = error_of(sagemaker.update_endpoint, EndpointName=live_endpoint, EndpointConfigName="nope")

    # THEN SageMaker says which
    assert no_endpoint["Code"] == no_config["Code"] == "ValidationException"
    assert no_endpoint["Message"] == 'Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/nope".'
    assert no_config["Message"] == (
        'Could not find endpoint configuration "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/nope".'
    )
    assert sagemaker.describe_endpoint(EndpointName=live_endpoint)["EndpointStatus"] == "InService"


def test_injected_create_failure_leaves_the_endpoint_failed(embedded_aws, sagemaker, event_queue):
    # GIVEN the next creation of the endpoint will fail
    read = event_queue(ENDPOINT_EVENTS)
    make_config(sagemaker, "cfg-v1")
    embedded_aws.control.inject_endpoint_failure("ep", reason="container crashed")

    # WHEN it is created
    sagemaker.create_endpoint(EndpointName="ep", EndpointConfigName="cfg-v1")
    embedded_aws.wait_idle()

    # THEN it is Failed with the reason, and only DeleteEndpoint works on it
    described = sagemaker.describe_endpoint(EndpointName="ep")
    assert (described["EndpointStatus"], described["FailureReason"]) == ("Failed", "container crashed")
    assert [(e["detail"]["EndpointStatus"], e["detail"].get("FailureReason")) for e in read()] == [
        ("CREATING", None),
        ("FAILED", "container crashed"),
    ]
    refused = error_of(sagemaker.update_endpoint, EndpointName="ep", EndpointConfigName="cfg-v1")
    assert refused["Message"] == 'Cannot update failed endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep".'
    sagemaker.delete_endpoint(EndpointName="ep")
    embedded_aws.wait_idle()
    assert error_of(sagemaker.describe_endpoint, EndpointName="ep")["Message"].startswith("Could not find endpoint")


def test_failed_update_returns_the_endpoint_to_service_on_its_old_config(embedded_aws, sagemaker, live_endpoint):
    # GIVEN the next update fails
    make_config(sagemaker, "cfg-v2")
    embedded_aws.control.inject_endpoint_failure(live_endpoint, operation="update")

    # WHEN the endpoint is updated
    sagemaker.update_endpoint(EndpointName=live_endpoint, EndpointConfigName="cfg-v2")
    embedded_aws.wait_idle()

    # THEN it serves the old config again, with the reason of the failure
    described = sagemaker.describe_endpoint(EndpointName=live_endpoint)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == "cfg-v1"
    assert "did not pass the ping health check" in described["FailureReason"]
    # AND the fault is spent: the next update succeeds and clears the reason
    sagemaker.update_endpoint(EndpointName=live_endpoint, EndpointConfigName="cfg-v2")
    embedded_aws.wait_idle()
    described = sagemaker.describe_endpoint(EndpointName=live_endpoint)
    assert (described["EndpointConfigName"], described.get("FailureReason")) == ("cfg-v2", None)


def test_guardrail_rollback_returns_to_the_old_config_naming_the_alarm(
    embedded_aws, sagemaker, live_endpoint, event_queue
):
    # GIVEN an alarm will trip while the next deployment bakes
    read = event_queue(ENDPOINT_EVENTS)
    make_config(sagemaker, "cfg-v2")
    embedded_aws.control.inject_guardrail_rollback(live_endpoint)

    # WHEN the endpoint is updated with auto-rollback alarms
    sagemaker.update_endpoint(EndpointName=live_endpoint, EndpointConfigName="cfg-v2", DeploymentConfig=BLUE_GREEN)
    embedded_aws.wait_idle()

    # THEN it is back in service on the old config and the reason names the alarm
    described = sagemaker.describe_endpoint(EndpointName=live_endpoint)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "cfg-v1")
    assert "fraud-detector-dev-5xx" in described["FailureReason"]
    final = read()[-1]["detail"]
    assert (final["EndpointStatus"], final["EndpointConfigName"]) == ("IN_SERVICE", "cfg-v1")
    assert "fraud-detector-dev-5xx" in final["FailureReason"]


def test_guardrail_rollback_puts_the_rollback_alarm_in_alarm_history(embedded_aws, sagemaker, live_endpoint):
    # GIVEN the rollback alarm exists in CloudWatch and will trip while the next deployment bakes
    cloudwatch = embedded_aws.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="fraud-detector-dev-5xx",
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": live_endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    make_config(sagemaker, "cfg-v2")
    embedded_aws.control.inject_guardrail_rollback(live_endpoint)

    # WHEN the update rolls back
    sagemaker.update_endpoint(EndpointName=live_endpoint, EndpointConfigName="cfg-v2", DeploymentConfig=BLUE_GREEN)
    embedded_aws.wait_idle()

    # THEN the alarm's history shows it in ALARM during the deployment, and OK again after the rollback
    items = cloudwatch.describe_alarm_history(
        AlarmName="fraud-detector-dev-5xx", HistoryItemType="StateUpdate", ScanBy="TimestampAscending"
    )["AlarmHistoryItems"]
    assert [item["HistorySummary"] for item in items] == [
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
    ]
    assert cloudwatch.describe_alarms(AlarmNames=["fraud-detector-dev-5xx"])["MetricAlarms"][0]["StateValue"] == "OK"


def test_control_route_injects_faults_from_another_process(embedded_aws, sagemaker, live_endpoint, control_http):
    # GIVEN a failure injected over HTTP, as a test driving a separate process would
    make_config(sagemaker, "cfg-v2")
    answer = control_http({"action": "inject_guardrail_rollback", "endpoint_name": "ep", "alarm_name": "p99"})
    assert answer == {"ok": True, "result": None}

    # WHEN the endpoint is updated
    sagemaker.update_endpoint(EndpointName="ep", EndpointConfigName="cfg-v2")
    embedded_aws.wait_idle()

    # THEN the injected rollback happened
    assert "p99" in sagemaker.describe_endpoint(EndpointName="ep")["FailureReason"]


def test_control_route_rejects_unknown_actions(control_http):
    with pytest.raises(urllib.error.HTTPError) as info:
        control_http({"action": "format_disk"})
    assert info.value.code == 400
    assert "unknown action" in json.loads(info.value.read())["error"]


def test_creating_what_already_exists_is_refused(embedded_aws, sagemaker, live_endpoint):
    # WHEN a model, a config or an endpoint is created again under the same name
    model = error_of(
        sagemaker.create_model, ModelName="cfg-v1-model", PrimaryContainer={"Image": "x"}, ExecutionRoleArn=ROLE
    )
    config = error_of(
        sagemaker.create_endpoint_config,
        EndpointConfigName="cfg-v1",
        ProductionVariants=[
            {"VariantName": "A", "ModelName": "cfg-v1-model", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
        ],
    )
    endpoint = error_of(sagemaker.create_endpoint, EndpointName=live_endpoint, EndpointConfigName="cfg-v1")

    # THEN each is refused with SageMaker's words, which deterministic names rely on
    prefix = "arn:aws:sagemaker:us-east-1:123456789012"
    assert model["Message"] == f'Cannot create already existing model "{prefix}:model/cfg-v1-model".'
    assert (
        config["Message"] == f'Cannot create already existing endpoint configuration "{prefix}:endpoint-config/cfg-v1".'
    )
    assert endpoint["Message"] == f'Cannot create already existing endpoint "{prefix}:endpoint/ep".'


def test_data_capture_config_is_kept_on_the_config_and_summarised_on_the_endpoint(embedded_aws, sagemaker):
    # GIVEN a config with data capture
    make_config(sagemaker, "cfg-v1", capture=True)

    # WHEN an endpoint runs it
    sagemaker.create_endpoint(EndpointName="ep", EndpointConfigName="cfg-v1")
    embedded_aws.wait_idle()

    # THEN the config returns the capture config as given, the endpoint its summary
    config = sagemaker.describe_endpoint_config(EndpointConfigName="cfg-v1")["DataCaptureConfig"]
    assert config["InitialSamplingPercentage"] == 20
    assert config["CaptureOptions"] == [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
    summary = sagemaker.describe_endpoint(EndpointName="ep")["DataCaptureConfig"]
    assert summary == {
        "EnableCapture": True,
        "CaptureStatus": "Started",
        "CurrentSamplingPercentage": 20,
        "DestinationS3Uri": "s3://bucket/capture",
    }


def test_retain_all_variant_properties_keeps_the_running_capacity(embedded_aws, sagemaker, live_endpoint):
    # GIVEN a live endpoint with 1 instance and a new config asking for 3
    make_config(sagemaker, "cfg-v2", count=3)

    # WHEN it is updated retaining variant properties except the weight
    sagemaker.update_endpoint(
        EndpointName=live_endpoint,
        EndpointConfigName="cfg-v2",
        RetainAllVariantProperties=True,
        ExcludeRetainedVariantProperties=[{"VariantPropertyType": "DesiredWeight"}],
    )
    embedded_aws.wait_idle()

    # THEN the running capacity is kept
    variant = sagemaker.describe_endpoint(EndpointName=live_endpoint)["ProductionVariants"][0]
    assert variant["DesiredInstanceCount"] == 1


def test_delete_endpoint_config_and_tags_on_endpoint_resources(embedded_aws, sagemaker, live_endpoint):
    # GIVEN tags on the endpoint, its config and its model
    arns = {
        "endpoint": sagemaker.describe_endpoint(EndpointName=live_endpoint)["EndpointArn"],
        "config": sagemaker.describe_endpoint_config(EndpointConfigName="cfg-v1")["EndpointConfigArn"],
        "model": sagemaker.describe_model(ModelName="cfg-v1-model")["ModelArn"],
    }
    for arn in arns.values():
        sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "package", "Value": "g/1"}])
        sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "package", "Value": "g/2"}])  # overwrites

    # THEN each lists its tags once, latest value
    assert sagemaker.list_tags(ResourceArn=arns["endpoint"])["Tags"] == [
        {"Key": "env", "Value": "dev"},
        {"Key": "package", "Value": "g/2"},
    ]
    assert sagemaker.list_tags(ResourceArn=arns["config"])["Tags"] == [{"Key": "package", "Value": "g/2"}]
    assert sagemaker.list_tags(ResourceArn=arns["model"])["Tags"] == [{"Key": "package", "Value": "g/2"}]

    # AND an endpoint config can be deleted
    sagemaker.delete_endpoint_config(EndpointConfigName="cfg-v1")
    assert error_of(sagemaker.describe_endpoint_config, EndpointConfigName="cfg-v1")["Code"] == "ValidationException"


def test_a_rollback_alarm_that_goes_off_during_the_update_rolls_it_back(embedded_aws, sagemaker, live_endpoint):
    # GIVEN the deployment's rollback alarm exists, and the update takes a while
    cloudwatch = embedded_aws.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="fraud-detector-dev-5xx",
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": live_endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    embedded_aws.control.set_timings(endpoint_update=1.0)
    make_config(sagemaker, "cfg-v2")
    sagemaker.update_endpoint(EndpointName=live_endpoint, EndpointConfigName="cfg-v2", DeploymentConfig=BLUE_GREEN)

    # WHEN the alarm goes off while the new fleet takes traffic, and recovers before the bake ends (no injected fault)
    cloudwatch.set_alarm_state(AlarmName="fraud-detector-dev-5xx", StateValue="ALARM", StateReason="5xx burst")
    cloudwatch.set_alarm_state(AlarmName="fraud-detector-dev-5xx", StateValue="OK", StateReason="recovered")
    embedded_aws.wait_idle()

    # THEN SageMaker rolled the update back to the old config, naming the alarm
    described = sagemaker.describe_endpoint(EndpointName=live_endpoint)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "cfg-v1")
    assert "fraud-detector-dev-5xx went into ALARM" in described["FailureReason"]


def test_an_update_whose_alarms_stay_ok_completes(embedded_aws, sagemaker, live_endpoint):
    cloudwatch = embedded_aws.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="fraud-detector-dev-5xx",
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName="fraud-detector-dev-5xx", StateValue="ALARM", StateReason="before the update")
    cloudwatch.set_alarm_state(AlarmName="fraud-detector-dev-5xx", StateValue="OK", StateReason="before the update")
    make_config(sagemaker, "cfg-v2")
    sagemaker.update_endpoint(EndpointName=live_endpoint, EndpointConfigName="cfg-v2", DeploymentConfig=BLUE_GREEN)
    embedded_aws.wait_idle()
    described = sagemaker.describe_endpoint(EndpointName=live_endpoint)
    assert (described["EndpointConfigName"], described.get("FailureReason")) == ("cfg-v2", None)


def test_endpoint_timings_keep_the_endpoint_in_transition(embedded_aws, sagemaker):
    # GIVEN creation takes a while
    embedded_aws.control.set_timings(endpoint_create=30.0)
    make_config(sagemaker, "cfg-v1")

    # WHEN the endpoint is created
    sagemaker.create_endpoint(EndpointName="ep", EndpointConfigName="cfg-v1")

    # THEN the request returned at once and the endpoint is still Creating
    assert sagemaker.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "Creating"
    assert sagemaker.list_endpoints(StatusEquals="Creating")["Endpoints"][0]["EndpointName"] == "ep"


def pct(value: int) -> dict[str, Any]:
    return {"Type": "CAPACITY_PERCENT", "Value": value}


def count(value: int) -> dict[str, Any]:
    return {"Type": "INSTANCE_COUNT", "Value": value}


def _rollout(routing: dict[str, Any], termination: int = 300, timeout: int = 3600) -> dict[str, Any]:
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": termination,
            "MaximumExecutionTimeoutInSeconds": timeout,
        }
    }


@pytest.mark.parametrize(
    ("deployment_config", "refused"),
    [
        # CanarySize: at most 50 % of the variant's instances (TrafficRoutingConfig)
        (_rollout({"Type": "CANARY", "WaitIntervalInSeconds": 60, "CanarySize": pct(60)}), "CanarySize"),
        (_rollout({"Type": "CANARY", "WaitIntervalInSeconds": 60, "CanarySize": count(3)}), "CanarySize"),
        # LinearStepSize: 10 to 50 % of the variant's instances
        (_rollout({"Type": "LINEAR", "WaitIntervalInSeconds": 60, "LinearStepSize": pct(5)}), "LinearStepSize"),
        (_rollout({"Type": "LINEAR", "WaitIntervalInSeconds": 60, "LinearStepSize": pct(75)}), "LinearStepSize"),
        # MaximumExecutionTimeoutInSeconds: larger than the waits of TerminationWaitInSeconds and WaitIntervalInSeconds
        (
            _rollout({"Type": "CANARY", "WaitIntervalInSeconds": 600, "CanarySize": pct(50)}, 600, 1200),
            "MaximumExecutionTimeoutInSeconds",
        ),
    ],
)
def test_update_endpoint_refuses_rollouts_outside_the_api_rules(
    sagemaker: Any, live_endpoint: str, deployment_config: dict[str, Any], refused: str
) -> None:
    # GIVEN a new config of 4 instances
    make_config(sagemaker, "cfg-v2", count=4)

    # WHEN UpdateEndpoint is asked for a rollout the API reference does not allow
    error = error_of(
        sagemaker.update_endpoint,
        EndpointName=live_endpoint,
        EndpointConfigName="cfg-v2",
        DeploymentConfig=deployment_config,
    )

    # THEN it is a ValidationException naming the offending field, and the endpoint was not touched
    assert error["Code"] == "ValidationException"
    assert refused in error["Message"]
    described = sagemaker.describe_endpoint(EndpointName=live_endpoint)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "cfg-v1")


def test_update_endpoint_accepts_rollouts_at_the_limits_of_the_rules(
    embedded_aws: Any, sagemaker: Any, live_endpoint: str
) -> None:
    # GIVEN a new config of 4 instances, and rollouts at the limits of each rule
    make_config(sagemaker, "cfg-v2", count=4)
    rollouts = [
        _rollout({"Type": "CANARY", "WaitIntervalInSeconds": 600, "CanarySize": count(2)}, 600, 1201),
        _rollout({"Type": "LINEAR", "WaitIntervalInSeconds": 60, "LinearStepSize": pct(10)}),
        _rollout({"Type": "LINEAR", "WaitIntervalInSeconds": 60, "LinearStepSize": pct(50)}),
        _rollout({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}, 0, 600),
    ]
    for rollout in rollouts:
        # WHEN the endpoint is updated with one
        embedded_aws.control.pause_transitions()
        sagemaker.update_endpoint(EndpointName=live_endpoint, EndpointConfigName="cfg-v2", DeploymentConfig=rollout)

        # THEN the update runs
        assert sagemaker.describe_endpoint(EndpointName=live_endpoint)["EndpointStatus"] == "Updating"
        embedded_aws.control.resume_transitions()
        embedded_aws.wait_idle()
