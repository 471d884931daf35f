"""The pipeline definition the SDK builds (as SageMaker receives it) and its per-environment parameters."""

from __future__ import annotations

import dataclasses

import pytest

from local.stack import LocalStack
from pipeline import commands
from pipeline.config import ENVIRONMENTS, ConfigError, PipelineParams, Target, resolve_target
from pipeline.definition import APPROVAL_STATUS, AUC_JSON_PATH
from tools.artifacts import template_parameters

EXECUTION_ID = {"Get": "Execution.PipelineExecutionId"}


def _versioned_parts(world, value):
    """The parts after ``s3://<bucket>/<pipeline>/<execution id>/`` of a versioned Join, or None."""
    join = value.get("Std:Join") if isinstance(value, dict) else None
    if not join or join["On"] != "/":
        return None
    values = join["Values"]
    if values[:4] != ["s3:/", world.target.bucket, world.target.pipeline_name, EXECUTION_ID]:
        return None
    return values[4:]


def test_training_runs_on_spot_with_max_wait_at_least_max_run(world):
    # GIVEN the upserted pipeline definition
    arguments = world.step("Train")["Arguments"]
    # THEN training uses managed Spot with a wait budget covering the run budget
    assert arguments["EnableManagedSpotTraining"] is True
    stopping = arguments["StoppingCondition"]
    assert stopping["MaxWaitTimeInSeconds"] >= stopping["MaxRuntimeInSeconds"] > 0


def test_checkpoints_go_to_a_prefix_of_the_execution(world):
    checkpoint = world.step("Train")["Arguments"]["CheckpointConfig"]
    assert _versioned_parts(world, checkpoint["S3Uri"]) == ["checkpoints"]
    assert checkpoint["LocalPath"] == "/opt/ml/checkpoints"


def test_every_output_is_under_the_execution_and_step_prefix(world):
    # GIVEN the job steps' output locations
    preprocess = world.step("Preprocess")["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    evaluate = world.step("Evaluate")["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    train = world.step("Train")["Arguments"]["OutputDataConfig"]["S3OutputPath"]
    # THEN each is s3://bucket/pipeline/<execution id>/<step>/...
    assert {tuple(_versioned_parts(world, o["S3Output"]["S3Uri"])) for o in preprocess} == {
        ("Preprocess", "train"),
        ("Preprocess", "validation"),
        ("Preprocess", "test"),
        ("Preprocess", "baseline"),
    }
    assert [_versioned_parts(world, o["S3Output"]["S3Uri"]) for o in evaluate] == [["Evaluate", "evaluation"]]
    assert _versioned_parts(world, train) == ["Train"]


def test_job_steps_retry_capacity_errors(world):
    for name in ("Preprocess", "Train", "Evaluate"):
        policies = world.step(name)["RetryPolicies"]
        capacity = [p for p in policies if "SageMaker.CAPACITY_ERROR" in p["ExceptionType"]]
        assert capacity, name
        assert capacity[0]["MaxAttempts"] >= 2


def test_only_preprocessing_is_cached(world):
    assert world.step("Preprocess")["CacheConfig"]["Enabled"] is True
    assert "CacheConfig" not in world.step("Train")
    assert "CacheConfig" not in world.step("Evaluate")


def test_registration_is_conditional_on_the_auc_threshold(world):
    # GIVEN the condition step
    check = world.step("CheckAuc")["Arguments"]
    (condition,) = check["Conditions"]
    # THEN it compares the evaluation report's AUC with the AucThreshold parameter
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["LeftValue"]["Std:JsonGet"]["Path"] == AUC_JSON_PATH
    assert condition["LeftValue"]["Std:JsonGet"]["PropertyFile"] == {
        "Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"
    }
    assert condition["RightValue"] == {"Get": "Parameters.AucThreshold"}
    # AND registers when true, fails with a reason otherwise
    assert [s["Type"] for s in check["IfSteps"]] == ["RegisterModel"]
    assert [s["Type"] for s in check["ElseSteps"]] == ["Fail"]


def test_registration_awaits_manual_approval_with_metrics_and_serving_spec(world):
    register = world.step("Register-RegisterModel")["Arguments"]
    assert register["ModelApprovalStatus"] == APPROVAL_STATUS == "PendingManualApproval"
    assert register["ModelPackageGroupName"] == world.target.model_package_group_name
    statistics = register["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["ContentType"] == "application/json"
    inner = statistics["S3Uri"]["Std:Join"]["Values"]
    assert _versioned_parts(world, inner[0]) == ["Evaluate", "evaluation"]
    assert inner[1] == "evaluation.json"
    spec = register["InferenceSpecification"]
    assert spec["SupportedContentTypes"] == spec["SupportedResponseMIMETypes"] == ["text/csv"]
    (container,) = spec["Containers"]
    assert "sagemaker-xgboost" in container["Image"]
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert register["CustomerMetadataProperties"]["GitSha"] == {"Get": "Parameters.GitSha"}


def test_registration_carries_the_training_data_s_drift_baseline(world):
    baselines = world.step("Register-RegisterModel")["Arguments"]["DriftCheckBaselines"]["ModelDataQuality"]
    for kind, file_name in (("Statistics", "statistics.json"), ("Constraints", "constraints.json")):
        assert baselines[kind]["ContentType"] == "application/json"
        prefix, name = baselines[kind]["S3Uri"]["Std:Join"]["Values"]
        # the step's own output (a cached step's is the earlier execution's), not a path of this execution
        assert prefix == {"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['baseline'].S3Output.S3Uri"}
        assert name == file_name


def test_step_code_is_uploaded_to_the_artifact_bucket(world):
    # GIVEN the code locations the definition names
    code_inputs = [
        i["S3Input"]["S3Uri"]
        for name in ("Preprocess", "Evaluate")
        for i in world.step(name)["Arguments"]["ProcessingInputs"]
        if i["InputName"] == "code"
    ]
    submit = world.step("Train")["Arguments"]["HyperParameters"]["sagemaker_submit_directory"].strip('"')
    # THEN each object exists in the bucket
    for uri in [*code_inputs, submit]:
        bucket, _, key = uri[5:].partition("/")
        assert bucket == world.target.bucket
        assert world.s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_environment_has_valid_parameters(environment):
    params = PipelineParams.load(environment)
    assert params.max_wait_seconds >= params.max_run_seconds
    assert 0.5 < params.parameters["AucThreshold"] < 1


def test_prod_demands_at_least_the_dev_threshold():
    assert (
        PipelineParams.load("prod").parameters["AucThreshold"] >= PipelineParams.load("dev").parameters["AucThreshold"]
    )


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="environment"):
        PipelineParams.load("qa")


def test_target_from_the_line_local_serve_prints():
    # GIVEN the JSON line of `python -m local serve`
    line = (
        '{"endpoint_url": "http://127.0.0.1:1", "outputs": {"PipelineName": "p", "SageMakerPipelineRoleArn": "r",'
        ' "SageMakerJobRoleArn": "j", "ArtifactBucketName": "b", "ModelPackageGroupName": "g", "EndpointName": "e",'
        ' "EndpointInstanceType": "ml.m5.large"}}'
    )
    # WHEN the target is resolved from it
    target = resolve_target("dev", outputs=line, environ={})
    # THEN the stack outputs are used
    assert (target.pipeline_name, target.role_arn, target.bucket, target.model_package_group_name) == (
        "p",
        "r",
        "b",
        "g",
    )
    assert target.endpoint_instance_type == "ml.m5.large"
    assert target.step_role_arn == "j"  # the steps' jobs run as the job role, not the pipeline's


def test_missing_outputs_are_named():
    with pytest.raises(ConfigError, match="ArtifactBucketName"):
        resolve_target("dev", outputs={"PipelineName": "p"}, environ={})


def test_a_run_brings_the_data_set_along_only_when_the_bucket_has_none(world):
    # GIVEN a stack whose new artifact bucket holds no data yet
    target = dataclasses.replace(world.target, bucket="fresh-stack-artifacts")
    world.s3.create_bucket(Bucket=target.bucket)

    # WHEN a run makes sure of its input twice
    first = commands.ensure_data(target, boto_session=world.session)
    second = commands.ensure_data(target, boto_session=world.session)

    # THEN the data set is uploaded once, to the InputDataUri default, with every row
    assert first == "s3://fresh-stack-artifacts/datasets/default/raw/default.csv"
    assert second is None
    body = world.s3.get_object(Bucket=target.bucket, Key="datasets/default/raw/default.csv")["Body"].read()
    assert body.decode().count("\n") >= 10_000


def test_packages_are_registered_for_the_instance_type_of_every_stages_endpoint(world):
    # GIVEN the registry's stack (dev, samconfig.toml's parameters) deployed next to the pipeline's world
    outputs = LocalStack(world.aws, env="dev", stack_name="registration-dev").deploy()
    target = Target.from_outputs(outputs, world.aws.region)

    # WHEN the registry's pipeline definition is built for that stack
    definition = commands.definition(target, "dev", world.session)
    [check] = [step for step in definition["Steps"] if step["Type"] == "Condition"]
    [register] = [step for step in check["Arguments"]["IfSteps"] if step["Type"] == "RegisterModel"]
    specification = register["Arguments"]["InferenceSpecification"]

    # THEN its packages are registered for real-time inference on every environment's endpoint instance type (each
    # deployer refuses a package registered for other types; one version is promoted through them all)
    registered = specification["SupportedRealtimeInferenceInstanceTypes"]
    assert registered == outputs["InferenceInstanceTypes"].split(",")
    assert {template_parameters(env)["EndpointInstanceType"] for env in ENVIRONMENTS} <= set(registered)
