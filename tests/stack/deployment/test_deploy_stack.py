"""The deployer on the embedded AWS, through the real template rules and events, acting as a user would.

Every test counts endpoint mutations from the events SageMaker emits (``World.mutations``): each scenario must
converge on the newest approved version with exactly one mutation per version, and no error reaching ops.
"""

from __future__ import annotations

from typing import Any

import pytest

from local.stack import LocalStack
from local.stack.template import TemplateError
from tests.worlds.deployment import ENDPOINT_STATE_CHANGE, World

pytestmark = pytest.mark.slow


def test_first_approval_creates_the_endpoint_tagged_with_data_capture(world: World) -> None:
    # GIVEN a registered package, pending approval
    v1 = world.register(git_sha="feedbee")
    world.idle()
    assert world.mutations() == []

    # WHEN it is approved in the console
    world.approve(v1)
    world.idle()

    # THEN the endpoint exists, serves it, and was created exactly once
    endpoint = world.describe()
    assert endpoint["EndpointStatus"] == "InService"
    assert [status for status, _ in world.mutations()] == ["CREATING"]
    config = world.sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    assert config["EndpointConfigName"].startswith(f"{world.endpoint}-v1-")
    # data capture: 20 % of input and output, under the artifact bucket, in the folder of the version
    capture = config["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == 20
    bucket = world.outputs["ArtifactBucketName"]
    assert capture["DestinationS3Uri"] == f"s3://{bucket}/data-capture/{world.endpoint}/v1"
    assert sorted(o["CaptureMode"] for o in capture["CaptureOptions"]) == ["Input", "Output"]
    assert capture["CaptureContentTypeHeader"]["CsvContentTypes"] == ["text/csv"]
    # the model is made from the package and runs under the stack's SageMaker role
    model_name = config["ProductionVariants"][0]["ModelName"]
    model = world.sm.describe_model(ModelName=model_name)
    assert model["ExecutionRoleArn"] == world.outputs["SageMakerModelRoleArn"]
    assert model["Containers"][0]["ModelPackageName"] == v1
    # tags: model and config name the package; the endpoint, which outlives versions, carries the stable tags
    for arn in (model["ModelArn"], config["EndpointConfigArn"]):
        tags = {t["Key"]: t["Value"] for t in world.sm.list_tags(ResourceArn=arn)["Tags"]}
        assert tags["model-package-arn"] == v1
        assert tags["model-package-version"] == "1"
        assert tags["env"] == "dev"
        assert tags["team"] == "ml-platform"
        assert tags["git-sha"] == "feedbee"
    endpoint_tags = {t["Key"]: t["Value"] for t in world.sm.list_tags(ResourceArn=endpoint["EndpointArn"])["Tags"]}
    assert endpoint_tags["env"] == "dev"
    assert endpoint_tags["team"] == "ml-platform"
    assert endpoint_tags["model-package-group"] == world.group
    assert world.deploy_failures() == []


def test_newer_approval_updates_with_the_environment_rollout(deploy_world) -> None:
    # GIVEN staging's settings (canary rollout) on a stack with a group of its own, serving version 1
    world = deploy_world("staging", StackRole="registry", LifecycleStage="")
    v1 = world.register()
    world.approve(v1)
    world.idle()

    # WHEN version 2 is approved
    v2 = world.register()
    world.approve(v2)
    world.idle()

    # THEN one update moved the endpoint to version 2 with a canary and the auto-rollback alarms
    assert world.live_version() == 2
    assert [status for status, _ in world.mutations()] == ["CREATING", "UPDATING"]
    deployment = world.describe()["LastDeploymentConfig"]
    routing = deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing["Type"] == "CANARY"
    assert routing["CanarySize"]["Type"] == "CAPACITY_PERCENT"
    alarms = {a["AlarmName"] for a in deployment["AutoRollbackConfiguration"]["Alarms"]}
    assert alarms == set(world.outputs["EndpointRollbackAlarmNames"].split(","))
    assert world.deploy_failures() == []
    assert world.alerts() == []


def test_five_concurrent_duplicate_deliveries_update_the_endpoint_once(live_v1: tuple[World, str]) -> None:
    # GIVEN version 1 live and version 2 approved
    world, _ = live_v1
    v2 = world.register()
    world.idle()
    world.approve(v2)
    approval = world.package_event(v2, fields=["ModelApprovalStatus", "ApprovalDescription"])

    # WHEN EventBridge delivers that approval event 4 more times (same id), concurrently with the first delivery
    for _ in range(4):
        world.stack.invoke_async("DeployFunction", approval)
    world.idle()

    # THEN exactly one UpdateEndpoint happened, the endpoint serves version 2, and no error surfaced
    assert world.mutations_to(2) == 1, [(r["event_id"], r["result"]) for r in world.deploy_records()]
    assert world.live_version() == 2
    assert len([r for r in world.deploy_records() if r["event_id"] == approval["id"]]) == 5
    assert world.deploy_failures() == []
    assert world.alerts() == []
    assert world.dead_letters() == []


def test_re_emitted_package_events_after_a_metadata_update_change_nothing(live_v1: tuple[World, str]) -> None:
    world, v1 = live_v1
    before = world.mutations()
    approval = world.package_event(v1, fields=["ModelApprovalStatus", "ApprovalDescription"])

    # WHEN the package's metadata and approval text change, and SageMaker sends the approval event again
    world.sm.update_model_package(ModelPackageArn=v1, CustomerMetadataProperties={"reviewer": "ana"})
    world.sm.update_model_package(ModelPackageArn=v1, ApprovalDescription="approved, see ticket 42")
    world.stack.replay([approval])
    world.idle()

    # THEN no endpoint mutation, no error, no alert
    assert world.mutations() == before
    assert world.deploy_failures() == []
    assert world.alerts() == []


def test_version_approved_while_an_update_runs_is_deployed_when_it_ends(live_v1: tuple[World, str]) -> None:
    world, _ = live_v1
    v2, v3 = world.register(), world.register()
    world.idle()

    # WHEN v2 is approved and, while its update runs, v3 is approved too
    world.aws.control.pause_transitions()
    world.approve(v2)
    world.stack.wait_idle(timeout=60)  # the endpoint stays Updating: transitions are held
    assert world.describe()["EndpointStatus"] == "Updating"
    world.approve(v3)
    world.stack.wait_idle(timeout=60)
    assert world.mutations_to(3) == 0  # busy: nothing done, the end of the update wakes the deployer
    world.aws.control.resume_transitions()
    world.idle()

    # THEN the endpoint converged on v3, each version deployed exactly once
    assert world.live_version() == 3
    assert world.mutations_to(2) == 1
    assert world.mutations_to(3) == 1
    assert world.deploy_failures() == []
    assert world.alerts() == []


def test_out_of_order_approvals_converge_on_the_newest_version(live_v1: tuple[World, str]) -> None:
    world, _ = live_v1
    v2, v3 = world.register(), world.register()
    world.idle()

    # WHEN v3 is approved before v2
    world.approve(v3)
    world.idle()
    world.approve(v2)
    world.idle()

    # THEN v3 serves and v2 was never deployed
    assert world.live_version() == 3
    assert world.mutations_to(3) == 1
    assert world.mutations_to(2) == 0
    assert world.deploy_failures() == []


def test_rejecting_the_live_version_rolls_back_to_the_previous_approved_one(live_v1: tuple[World, str]) -> None:
    world, _ = live_v1
    v1_config = world.describe()["EndpointConfigName"]
    v2 = world.register()
    world.approve(v2)
    world.idle()
    assert world.live_version() == 2

    # WHEN the live version is rejected
    world.reject(v2, "bias found in review")
    world.idle()

    # THEN the endpoint is back on version 1's own config (reused, not recreated), with one more update
    assert world.describe()["EndpointConfigName"] == v1_config
    assert [status for status, _ in world.mutations()] == ["CREATING", "UPDATING", "UPDATING"]
    assert world.deploy_failures() == []


def test_rejecting_the_last_approved_version_keeps_the_endpoint_and_alerts(live_v1: tuple[World, str]) -> None:
    world, v1 = live_v1
    before = world.mutations()

    # WHEN the only approved version is rejected
    world.reject(v1)
    world.idle()

    # THEN the endpoint is left serving (never deleted silently) and ops are told
    assert world.describe()["EndpointStatus"] == "InService"
    assert world.mutations() == before
    alerts = world.alerts()
    assert len(alerts) == 1
    assert "no approved model left" in alerts[0]["Subject"]


def test_guardrail_rollback_is_detected_alerted_and_not_retried(live_v1: tuple[World, str]) -> None:
    world, _ = live_v1
    v1_config = world.describe()["EndpointConfigName"]
    v2 = world.register()
    world.idle()

    # GIVEN the next update trips an auto-rollback alarm while it bakes
    world.aws.control.inject_guardrail_rollback(world.endpoint)

    # WHEN v2 is approved
    world.approve(v2)
    world.idle()

    # THEN SageMaker rolled back to v1; the deployer noticed, alerted once, and did not try again
    endpoint = world.describe()
    assert endpoint["EndpointConfigName"] == v1_config
    assert endpoint["FailureReason"]
    assert world.mutations_to(2) == 1
    alerts = world.alerts()
    assert len(alerts) == 1
    assert "rolled back" in alerts[0]["Subject"]
    assert "rolled-back" in world.deploy_statuses()

    # WHEN more wake-ups arrive (EventBridge delivers the approval again, an endpoint event comes through)
    approval = world.package_event(v2, fields=["ModelApprovalStatus", "ApprovalDescription"])
    world.stack.invoke_async("DeployFunction", approval)
    world.stack.replay([world.events(ENDPOINT_STATE_CHANGE)[-1]])
    world.idle()

    # THEN still no retry and no new alert
    assert world.mutations_to(2) == 1
    assert len(world.alerts()) == 1

    # WHEN someone approves v2 again (explicit re-approval)
    world.approve(v2, "alarm was a false positive")
    world.idle()

    # THEN it is deployed once more, and this time it stays
    assert world.mutations_to(2) == 2
    assert world.live_version() == 2
    assert world.deploy_failures() == []


def test_failed_endpoint_is_alerted_and_left_alone(world: World) -> None:
    # GIVEN the endpoint's creation fails
    world.aws.control.inject_endpoint_failure(world.endpoint, "ping health check failed", operation="create")
    v1 = world.register()
    world.approve(v1)
    world.idle()
    assert world.describe()["EndpointStatus"] == "Failed"

    failed_alerts = len(world.alerts())
    failed_event = world.events("SageMaker Endpoint State Change")[-1]

    # WHEN the FAILED event is delivered again, and a newer version is approved
    world.stack.put_events([failed_event, failed_event])
    world.idle()
    redelivered_alerts = len(world.alerts())
    v2 = world.register()
    world.approve(v2)
    world.idle()

    # THEN nothing is updated or deleted; ops were told once that the endpoint is Failed, once more that v2 waits
    assert [status for status, _ in world.mutations()] == ["CREATING"]
    assert world.describe()["EndpointStatus"] == "Failed"
    assert (failed_alerts, redelivered_alerts) == (1, 1)
    alerts = world.alerts()
    assert len(alerts) == 2
    assert all("Failed" in a["Subject"] for a in alerts)
    assert world.deploy_failures() == []


# ---------------------------------------------------------------------------------------------------- bad inputs
def test_event_of_another_group_is_ignored_without_alert_or_mutation(live_v1: tuple[World, str]) -> None:
    world, v1 = live_v1
    before = world.mutations()
    foreign = world.package_event(v1, fields=["ModelApprovalStatus", "ApprovalDescription"])
    foreign = {**foreign, "id": "foreign-1", "detail": {**foreign["detail"], "ModelPackageGroupName": "other-team"}}

    # WHEN such an event reaches the function (the rule filters it; a misconfigured rule would not)
    world.stack.invoke_async("DeployFunction", foreign)
    world.idle()

    # THEN it is ignored with the reason (not another team's problem to be alerted of), and nothing changed
    record = next(r for r in world.deploy_records() if r["event_id"] == "foreign-1")
    assert (record["outcome"], record["attempts"]) == ("ok", 1)
    assert record["result"]["status"] == "foreign"
    assert record["result"]["field"] == "detail.ModelPackageGroupName"
    assert world.dead_letters() == []
    assert world.alerts(kind=None) == []
    assert world.mutations() == before


def test_approved_package_without_inference_specification_is_not_deployed(live_v1: tuple[World, str]) -> None:
    world, _ = live_v1
    before = world.mutations()

    # WHEN a package that has nothing to serve is approved
    v2 = world.register(inference=False)
    world.approve(v2)
    world.idle()

    # THEN the endpoint keeps version 1, ops are alerted once, and no error is retried
    assert world.mutations() == before
    assert world.live_version() == 1
    alerts = world.alerts()
    assert len(alerts) == 1
    assert "cannot be deployed" in alerts[0]["Subject"]
    assert "blocked" in world.deploy_statuses()
    assert world.deploy_failures() == []


def test_approval_event_of_a_deleted_package_changes_nothing(live_v1: tuple[World, str]) -> None:
    world, _ = live_v1
    v2 = world.register()
    world.idle()
    world.approve(v2)
    world.idle()
    approval = world.package_event(v2, fields=["ModelApprovalStatus", "ApprovalDescription"])
    world.reject(v2)
    world.idle()
    before = world.mutations()

    # WHEN v2 is deleted and its old approval event is delivered late
    world.sm.delete_model_package(ModelPackageName=v2)
    world.stack.replay([approval])
    world.idle()

    # THEN the endpoint stays on v1 and the error is logged
    assert world.mutations() == before
    assert world.live_version() == 1
    assert any("not an approved version" in line for line in world.stack.logs("DeployFunction"))
    assert world.deploy_failures() == []


def test_deleted_endpoint_config_of_a_rollback_target_is_recreated(live_v1: tuple[World, str]) -> None:
    world, _ = live_v1
    v1_config = world.describe()["EndpointConfigName"]
    v2 = world.register()
    world.approve(v2)
    world.idle()

    # GIVEN someone deleted version 1's endpoint config
    world.sm.delete_endpoint_config(EndpointConfigName=v1_config)

    # WHEN the live v2 is rejected
    world.reject(v2)
    world.idle()

    # THEN the deterministic config of v1 is made again and the endpoint rolls back to it, once
    assert world.describe()["EndpointConfigName"] == v1_config
    assert world.mutations_to(1) == 2  # its creation, and this rollback
    assert world.deploy_failures() == []


def test_a_rollout_sagemaker_would_refuse_is_a_configuration_error_before_any_update(deploy_world) -> None:
    # GIVEN a stack whose linear steps (5 %) are below the 10 % UpdateEndpoint requires (the template cannot tell a
    # linear step from a canary size: both are DeploymentTrafficStepPercent, 1-50)
    linear = {"DeploymentStrategy": "Linear", "DeploymentTrafficStepPercent": "5", "EndpointInstanceCount": "4"}
    world = deploy_world("dev", **linear)

    # WHEN a version is approved
    v1 = world.register()
    world.approve(v1)
    world.idle()

    # THEN the deploy function refuses to act on its settings: the event waits in the dead-letter queue, ops are
    # alerted with the parameter to fix, and no endpoint was created that an update could not follow
    [record] = world.deploy_records()
    assert record["result"]["status"] == "misconfigured"
    assert "DEPLOYMENT_TRAFFIC_STEP_PERCENT=5" in record["result"]["error"]
    assert len(world.dead_letters()) == 1
    assert any("DEPLOYMENT_TRAFFIC_STEP_PERCENT" in alert["Message"] for alert in world.alerts(kind=None))
    assert world.mutations() == []


def test_a_canary_above_half_the_fleet_is_refused_by_the_template(embedded_aws: Any) -> None:
    # GIVEN DeploymentTrafficStepPercent=60 (UpdateEndpoint allows a canary of at most 50 % of the fleet)
    overrides = {"DeploymentStrategy": "Canary", "DeploymentTrafficStepPercent": "60"}

    # WHEN the stack is deployed, THEN CloudFormation refuses the parameter
    with pytest.raises(TemplateError, match="DeploymentTrafficStepPercent"):
        LocalStack(embedded_aws, env="staging", parameter_overrides=overrides).deploy()


def test_a_package_not_registered_for_the_endpoint_instance_type_is_blocked_and_alerted(
    live_v1: tuple[World, str],
) -> None:
    # GIVEN dev's endpoint (ml.m5.large, EndpointInstanceType) serving version 1
    world, _ = live_v1
    before = world.mutations()

    # WHEN a version registered for real-time inference on ml.m5.xlarge only is approved
    v2 = world.register(instance_types=["ml.m5.xlarge"])
    world.approve(v2)
    world.idle()

    # THEN the endpoint keeps version 1: the version is blocked, alerted once with both instance types, not retried
    assert world.mutations() == before
    assert world.live_version() == 1
    [alert] = world.alerts()
    assert "cannot be deployed" in alert["Subject"]
    assert "ml.m5.large" in alert["Message"]
    assert "ml.m5.xlarge" in alert["Message"]
    assert "blocked" in world.deploy_statuses()
    assert world.deploy_failures() == []


def test_a_package_registered_for_the_endpoint_instance_type_is_deployed(live_v1: tuple[World, str]) -> None:
    # GIVEN dev's endpoint serving version 1, WHEN a version registered for ml.m5.large (among others) is approved
    world, _ = live_v1
    v2 = world.register(instance_types=["ml.m5.xlarge", "ml.m5.large"])
    world.approve(v2)
    world.idle()

    # THEN it is deployed
    assert world.live_version() == 2
    assert world.alerts() == []


@pytest.mark.parametrize("shape", ["absent", "empty", "given"])
def test_a_package_registered_approved_is_deployed_whatever_the_shape_of_its_creation_event(deploy_world, shape):
    # GIVEN the creation event without UpdatedModelPackageFields, with [], or naming the fields the request set
    world = deploy_world("dev")
    world.aws.control.set_package_creation_fields(shape)

    # WHEN a package is registered already approved
    world.register(status="Approved")
    world.idle()

    # THEN the deploy rule delivered the creation event and the endpoint serves it, created once
    assert world.live_version() == 1
    assert [status for status, _ in world.mutations()] == ["CREATING"]
    assert world.deploy_failures() == []
