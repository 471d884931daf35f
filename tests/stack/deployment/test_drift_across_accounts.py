"""Drift checks of the deployment accounts' endpoints: staging and prod (each its own account) serve the registry's
version, their schedules check the requests each captured against that version's training baseline, which stays in
the registry's bucket, readable by the deployment accounts' drift-check starters alone. Staging's policy is
``alert``: drift alerts on staging's topic. Prod's is ``retrain``: drift alerts on prod's topic and starts the
registry's training pipeline through the registry's retrain role. IAM enforced."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

from local.aws import EmbeddedAWS, Timings
from local.aws.scheduler.models import FIRINGS
from local.aws.sessions import SessionCredentials
from local.pipelines import PipelineRunner
from local.stack.clients import AwsClients
from local.stack.landscape import Landscape
from pipeline.data import default_dataset
from tests.conftest import SnsInbox
from tests.support import DRIFT_CHECKS_ON_DEMAND
from tests.worlds.deployment import World, served_package
from tests.worlds.drift import (
    FEATURES,
    create_training_pipeline,
    preprocess,
    send_to,
    serve_with_baseline,
    shifted,
    upsert_drift_pipeline_in,
)

pytestmark = pytest.mark.slow

CHECKED = {**DRIFT_CHECKS_ON_DEMAND, "DataCaptureSamplingPercentage": "100", "DriftWindowHours": "1"}
# prod follows staging's bake without a person (the gate is not what these tests are about), and retrains for drift
PROD = {**CHECKED, "StagePolicy": "auto", "DriftPolicy": "retrain"}


@pytest.fixture(scope="module")
def landscape(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Landscape, pd.DataFrame, str]]:
    aws = EmbeddedAWS(timings=Timings(schedule_scale=0.0005)).start()
    overrides = {"dev": CHECKED, "staging": CHECKED, "prod": PROD}
    world = Landscape(aws, ["dev", "staging", "prod"], overrides=overrides, retry_delays=(0.0, 0.0))
    try:
        world.deploy()
        world.start()
        data = preprocess.transform(default_dataset())
        dev = World.on(aws, world["dev"], world["dev"].outputs)
        arn = serve_with_baseline(dev, data, tmp_path_factory.mktemp("baselines"))
        until(world, lambda: serving(world, "staging") == arn and serving(world, "prod") == arn, timeout=180)
        for env in ("staging", "prod"):
            upsert_drift_pipeline_in(aws, world[env].outputs, world[env].account_id)
        create_training_pipeline(dev)
        yield world, data[FEATURES], arn
    finally:
        world.stop()
        aws.stop()


def until(landscape: Landscape, predicate: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        landscape.wait_idle(60)
        time.sleep(0.2)


def serving(landscape: Landscape, env: str) -> str | None:
    stack = landscape[env]
    sm = landscape.aws.client("sagemaker", account_id=stack.account_id)
    return served_package(sm, stack.outputs["EndpointName"])


def records(landscape: Landscape, env: str, function: str) -> list[dict[str, Any]]:
    return [r for r in landscape[env].invocations if r["function"] == function]


def check_now(landscape: Landscape, env: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The environment's drift schedule fires now; the starter's and the monitor's outcomes once the check ran."""
    before = len(records(landscape, env, "DriftMonitorFunction"))
    with PipelineRunner(landscape.aws) as runner:
        FIRINGS.fire_now(landscape[env].outputs["DriftCheckScheduleArn"])
        landscape.wait_idle(60)
        started = records(landscape, env, "DriftCheckFunction")[-1]["result"]
        if started.get("status") == "started":
            runner.wait(started["execution_arn"], timeout=120)
            until(landscape, lambda: len(records(landscape, env, "DriftMonitorFunction")) > before)
    after = records(landscape, env, "DriftMonitorFunction")
    return started, (after[-1]["result"] if len(after) > before else {})


def test_staging_checks_its_own_traffic_against_the_registrys_baseline_and_alerts(
    landscape: tuple[Landscape, pd.DataFrame, str],
) -> None:
    world, features, arn = landscape
    staging = world["staging"]
    inbox = SnsInbox(world.aws, staging.outputs["AlertTopicArn"], "staging-drift", account_id=staging.account_id)
    runtime = world.aws.client("sagemaker-runtime", account_id=staging.account_id)

    # GIVEN staging's clients sending requests unlike the training data (balances tripled, the student flag flipped)
    send_to(runtime, staging.outputs["EndpointName"], shifted(features.sample(n=300, random_state=5)))

    # WHEN staging's drift schedule fires
    started, monitored = check_now(world, "staging")

    # THEN staging's check ran in staging's account, on the version the registry registered, with its baseline
    assert (started["status"], started["version"]) == ("started", 1), started
    assert started["execution_arn"].split(":")[4] == staging.account_id
    s3 = world.aws.client("s3", account_id=staging.account_id)
    staged = s3.list_objects_v2(
        Bucket=staging.outputs["ArtifactBucketName"], Prefix=f"drift/{staging.outputs['EndpointName']}/"
    )
    assert any(o["Key"].endswith("/baselines/v1/constraints.json") for o in staged.get("Contents", []))
    # AND it found the drift, and alerted on staging's topic (policy alert: no retraining)
    assert monitored["status"] == "alerted", monitored
    assert monitored["records"] == 300
    (alert,) = [m for m in inbox.messages() if m.attributes.get("kind") == "drift"]
    assert "balance" in alert.subject and "student" in alert.subject and "[staging]" in alert.subject
    assert arn.endswith("/1") and "served with v1 of fraud-detector-dev" in alert.message
    registry = world.aws.client("sagemaker")
    training = world["dev"].outputs["PipelineName"]
    assert registry.list_pipeline_executions(PipelineName=training)["PipelineExecutionSummaries"] == []
    # AND IAM denied nothing in either account (the suite fails a test whose requests were denied)


@pytest.mark.expect_denials
def test_the_registrys_baselines_are_readable_by_the_deployment_accounts_drift_checks_alone(
    landscape: tuple[Landscape, pd.DataFrame, str],
) -> None:
    world, _, arn = landscape
    staging = world["staging"]
    package = world.aws.client("sagemaker").describe_model_package(ModelPackageName=arn)
    uri = package["DriftCheckBaselines"]["ModelDataQuality"]["Constraints"]["S3Uri"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    # the starter reads it (as its role)
    starter = staging.role_clients(staging.functions["DriftCheckFunction"])
    assert starter("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    # staging's deployer, whose role has no grant of it, does not; nor does the starter read the trained models
    deployer = staging.role_clients(staging.functions["DeployFunction"])
    with pytest.raises(deployer("s3").exceptions.ClientError, match="AccessDenied"):
        deployer("s3").get_object(Bucket=bucket, Key=key)
    model_key = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"].split("/", 3)[3]
    with pytest.raises(starter("s3").exceptions.ClientError, match="AccessDenied"):
        starter("s3").get_object(Bucket=bucket, Key=model_key)


def test_a_failed_drift_check_in_staging_alerts_on_stagings_topic(
    landscape: tuple[Landscape, pd.DataFrame, str],
) -> None:
    world, _, _ = landscape
    staging = world["staging"]
    inbox = SnsInbox(world.aws, staging.outputs["AlertTopicArn"], "staging-failures", account_id=staging.account_id)
    sm = world.aws.client("sagemaker", account_id=staging.account_id)
    folder = f"s3://{staging.outputs['ArtifactBucketName']}/drift/{staging.outputs['EndpointName']}/missing"
    monitored = len(records(world, "staging", "DriftMonitorFunction"))
    # GIVEN a drift check of staging whose manifest of captured requests is not there
    with PipelineRunner(world.aws) as runner:
        arn = sm.start_pipeline_execution(
            PipelineName=staging.outputs["DriftCheckPipelineName"],
            PipelineParameters=[
                {"Name": "CaptureManifestUri", "Value": f"{folder}/capture.manifest"},
                {"Name": "BaselinesUri", "Value": f"{folder}/baselines"},
                {"Name": "OutputUri", "Value": f"{folder}/result"},
            ],
        )["PipelineExecutionArn"]
        # WHEN it fails
        assert runner.wait(arn, timeout=120)["PipelineExecutionStatus"] == "Failed"
    # THEN staging's alert function alerts on staging's topic, like any failed pipeline execution
    until(world, lambda: any(m.attributes.get("kind") == "pipeline-execution" for m in inbox.messages()))
    (alert,) = [m for m in inbox.messages() if m.attributes.get("kind") == "pipeline-execution"]
    assert arn.rsplit("/", 1)[1] in alert.message and alert.attributes["environment"] == "staging"
    # AND the monitor, which acts on checks that succeeded, is not woken
    assert len(records(world, "staging", "DriftMonitorFunction")) == monitored


def test_prod_retrains_for_drift_through_the_registrys_role(landscape: tuple[Landscape, pd.DataFrame, str]) -> None:
    world, features, _ = landscape
    prod, dev = world["prod"], world["dev"]
    inbox = SnsInbox(world.aws, prod.outputs["AlertTopicArn"], "prod-drift", account_id=prod.account_id)
    registry = world.aws.client("sagemaker")
    runtime = world.aws.client("sagemaker-runtime", account_id=prod.account_id)

    # GIVEN prod's clients sending requests unlike the training data
    send_to(runtime, prod.outputs["EndpointName"], shifted(features.sample(n=300, random_state=7)))

    # WHEN prod's drift schedule fires
    started, monitored = check_now(world, "prod")

    # THEN prod's check ran in prod's account and found the drift
    assert started["status"] == "started" and started["execution_arn"].split(":")[4] == prod.account_id, started
    # AND prod's monitor started the registry's training pipeline (in the registry's account), as the registry's role
    assert monitored["status"] == "retrain-started", monitored
    training = dev.outputs["PipelineName"]
    (execution,) = registry.list_pipeline_executions(PipelineName=training)["PipelineExecutionSummaries"]
    assert execution["PipelineExecutionArn"] == monitored["retraining"]
    assert monitored["retraining"].split(":")[4] == dev.account_id
    check_id = started["execution_arn"].rsplit("/", 1)[1]
    assert execution["PipelineExecutionDisplayName"] == f"drift-retrain-{check_id}"
    parameters = registry.list_pipeline_parameters_for_execution(PipelineExecutionArn=execution["PipelineExecutionArn"])
    assert {p["Name"]: p["Value"] for p in parameters["PipelineParameters"]}["GitSha"] == prod.function_env(
        "DriftMonitorFunction"
    )["GIT_SHA"]
    # AND the alert on prod's topic names the retraining
    (alert,) = [m for m in inbox.messages() if m.attributes.get("kind") == "drift"]
    assert "[prod]" in alert.subject and f"Retraining started: {monitored['retraining']}" in alert.message

    # WHEN prod's next check finds drift again THEN the registry's execution in flight holds it: none is started
    send_to(runtime, prod.outputs["EndpointName"], shifted(features.sample(n=300, random_state=8)))
    _, again = check_now(world, "prod")
    assert again["status"] in {"retrain-in-flight", "retrain-cooldown"}, again
    assert len(registry.list_pipeline_executions(PipelineName=training)["PipelineExecutionSummaries"]) == 1


@pytest.mark.expect_denials
def test_only_the_deployment_accounts_drift_monitors_assume_the_registrys_retrain_role(
    landscape: tuple[Landscape, pd.DataFrame, str],
) -> None:
    world, _, _ = landscape
    prod, staging = world["prod"], world["staging"]
    role = world["dev"].outputs["DriftRetrainRequestRoleArn"]
    assert prod.function_env("DriftMonitorFunction")["DRIFT_RETRAIN_ROLE_ARN"] == role
    # staging's policy is alert: its monitor is not told the role, and its own policy does not allow assuming it
    assert "DRIFT_RETRAIN_ROLE_ARN" not in staging.function_env("DriftMonitorFunction")
    callers = [stack.role_clients(stack.functions[f])("sts") for stack, f in ((staging, "DriftMonitorFunction"),)]
    # nor may prod's administrator (its policy allows everything; the role's trust admits drift monitors only), nor
    # an account the registry does not grant
    callers += [world.aws.client("sts", account_id=account) for account in (prod.account_id, "444444444444")]
    for sts in callers:
        with pytest.raises(sts.exceptions.ClientError, match="AccessDenied"):
            sts.assume_role(RoleArn=role, RoleSessionName="not-a-drift-monitor")
    # prod's monitor may assume it, and as it may only list and start the training pipeline
    monitor_sts = prod.role_clients(prod.functions["DriftMonitorFunction"])("sts")
    keys = monitor_sts.assume_role(RoleArn=role, RoleSessionName="drift-retrain")["Credentials"]
    credentials = SessionCredentials(keys["AccessKeyId"], keys["SecretAccessKey"], keys["SessionToken"])
    as_role = AwsClients(world.aws.endpoint_url, world.aws.region, credentials)("sagemaker")
    as_role.list_pipeline_executions(PipelineName=world["dev"].outputs["PipelineName"])
    with pytest.raises(as_role.exceptions.ClientError, match="AccessDenied"):
        as_role.list_model_packages(ModelPackageGroupName=world["dev"].outputs["ModelPackageGroupName"])
