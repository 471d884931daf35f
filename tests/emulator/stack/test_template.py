"""The local stack reads template.yaml as CloudFormation would: parameters, SAM transform, conditions, intrinsics."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from local.stack import LocalStack
from local.stack.template import TemplateError, UnsupportedResourceError, load_template

ROOT = Path(__file__).resolve().parents[3]
PROBE = ROOT / "tests" / "fixtures" / "stack" / "template.yaml"


def test_parameters_are_defaults_overridden_by_samconfig_then_by_the_caller() -> None:
    # GIVEN the probe template (Greeting defaults to "hi") and its samconfig.toml (dev: Greeting='hello world')
    # WHEN it is loaded for dev, then for dev with an explicit override
    dev = load_template(PROBE, "dev")
    overridden = load_template(PROBE, "dev", parameter_overrides={"Greeting": "bonjour"})
    prod = load_template(PROBE, "prod")

    # THEN samconfig wins over the default, the caller over samconfig, and the stack name comes from samconfig
    assert dev.parameters == {"Environment": "dev", "Greeting": "hello world"}
    assert overridden.parameters["Greeting"] == "bonjour"
    assert prod.parameters == {"Environment": "prod", "Greeting": "hi"}
    assert (dev.stack_name, prod.stack_name) == ("probe-dev", "probe-prod")


def test_a_parameter_outside_its_allowed_values_is_refused() -> None:
    with pytest.raises(TemplateError, match="Environment"):
        load_template(PROBE, "dev", parameter_overrides={"Environment": "qa"})


def test_the_sam_transform_yields_the_cloudformation_resources_of_a_function() -> None:
    # WHEN the project's template is expanded
    template = load_template(ROOT / "template.yaml", "dev")
    resources = template.resources

    # THEN the function, its invoke config, its role and its EventBridge rules exist as CloudFormation would create them
    assert resources["AlertFunction"]["Type"] == "AWS::Lambda::Function"
    assert resources["AlertFunctionEventInvokeConfig"]["Type"] == "AWS::Lambda::EventInvokeConfig"
    assert resources["AlertFunctionRole"]["Type"] == "AWS::IAM::Role"
    rules = [r for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    assert rules
    assert all("EventPattern" in rule["Properties"] for rule in rules)
    assert template.code_dirs["AlertFunction"] == ROOT / "functions" / "alert"


def test_function_environment_is_globals_plus_function_variables_resolved_locally(
    local_stack_factory: Callable[..., LocalStack], embedded_aws: Any
) -> None:
    # GIVEN the probe stack deployed for dev
    stack = local_stack_factory(PROBE, "dev")

    # WHEN the environment of its probe function is read
    env = stack.function_env("ProbeFunction")

    # THEN template Globals and the function's own variables are there, every reference resolved to a local resource
    topic_arn = stack.outputs["AlertTopicArn"]
    assert env["TOPIC_ARN"] == topic_arn
    assert topic_arn in [t["TopicArn"] for t in embedded_aws.client("sns").list_topics()["Topics"]]
    assert embedded_aws.client("dynamodb").describe_table(TableName=env["TABLE_NAME"])["Table"]["TableName"]
    assert env["DLQ_NAME"] == stack.outputs["DeadLetterQueueUrl"].rsplit("/", 1)[1]
    assert env["ENVIRONMENT"] == "dev"
    assert env["GREETING"] == "hello world"
    assert env["LEVEL"] == "DEBUG"
    assert env["PSEUDO"] == f"{embedded_aws.region}/{embedded_aws.account_id}/aws/probe-dev"
    assert env["JOINED"] == "dev-y"
    assert env["SIZE"] == "small"
    assert env["ROLE"] == "probe"
    # AND Lambda's own variables point at the embedded AWS
    assert env["AWS_ENDPOINT_URL"] == embedded_aws.endpoint_url
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == embedded_aws.region
    assert re.fullmatch(r"probe-dev-ProbeFunction-[A-Z0-9]{12}", env["AWS_LAMBDA_FUNCTION_NAME"])
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "192"
    assert env["POWERTOOLS_TRACE_DISABLED"] == "true"
    code, layer, *_runtime = env["PYTHONPATH"].split(":")
    assert Path(code) == PROBE.parent / "functions" / "probe"
    assert Path(layer) == PROBE.parent / "layer" / "python"
    assert stack.outputs["Greeting"] == "hello world from dev"


def test_conditions_follow_the_environment(local_stack_factory: Callable[..., LocalStack]) -> None:
    # GIVEN the probe stack of dev and of prod in the same account
    dev = local_stack_factory(PROBE, "dev")
    prod = local_stack_factory(PROBE, "prod")

    # THEN the prod-only queue and its output exist in prod only, and If picks the prod value
    assert "ProdOnlyQueue" not in dev.resources
    assert "ProdOnlyQueueUrl" not in dev.outputs
    assert prod.outputs["ProdOnlyQueueUrl"].rsplit("/", 1)[1].startswith("probe-prod-ProdOnlyQueue-")
    assert prod.function_env("ProbeFunction")["LEVEL"] == "INFO"


def test_resources_get_cloudformation_names_and_their_properties(local_stack: LocalStack, embedded_aws: Any) -> None:
    # GIVEN the project's stack deployed (dev)
    outputs = local_stack.outputs

    # THEN unnamed resources are named <stack>-<LogicalId>-<SUFFIX> and configured as the template says
    queue_name = outputs["AlertDeadLetterQueueUrl"].rsplit("/", 1)[1]
    assert re.fullmatch(r"sagemaker-lifecycle-dev-AlertDeadLetterQueue-[A-Z0-9]{12}", queue_name)
    dynamodb = embedded_aws.client("dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName=outputs["IdempotencyTableName"])["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    s3 = embedded_aws.client("s3")
    assert s3.get_bucket_versioning(Bucket=outputs["ArtifactBucketName"])["Status"] == "Enabled"
    group = embedded_aws.client("sagemaker").describe_model_package_group(
        ModelPackageGroupName=outputs["ModelPackageGroupName"]
    )
    assert group["ModelPackageGroupName"] == "fraud-detector-dev"
    alarms = embedded_aws.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert any(a["AlarmName"].startswith("sagemaker-lifecycle-dev-AlertDeadLetterAlarm-") for a in alarms)


UNSUPPORTED = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: api}
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      Tags: [{Key: root, Value: %s}]
"""


def test_an_unsupported_resource_is_skipped_unless_something_uses_it(tmp_path: Path, embedded_aws: Any) -> None:
    # GIVEN a template with a resource type the local stack does not create, that nothing refers to
    unused = tmp_path / "unused.yaml"
    unused.write_text(UNSUPPORTED % "plain", encoding="utf-8")
    used = tmp_path / "used.yaml"
    used.write_text(UNSUPPORTED % "!GetAtt Api.RootResourceId", encoding="utf-8")

    # WHEN deployed THEN it is skipped
    stack = LocalStack(embedded_aws, "dev", unused, stack_name="unused")
    stack.deploy()
    assert stack.skipped == {"Api": "AWS::ApiGateway::RestApi"}
    assert "Queue" in stack.resources

    # AND a reference to one of its attributes fails loudly
    with pytest.raises(UnsupportedResourceError, match="Api"):
        LocalStack(embedded_aws, "dev", used, stack_name="used").deploy()


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("DeploymentTrafficStepPercent", "0", "at least 1"),
        ("DeploymentWaitIntervalSeconds", "3601", "at most 3600"),
        ("EndpointName", "e-" * 23 + "e", "length must be at most 46"),
    ],
)
def test_parameters_outside_their_bounds_are_refused_as_cloudformation_refuses_them(
    name: str, value: str, error: str
) -> None:
    # GIVEN template.yaml's MinValue / MaxValue / MaxLength constraints
    # WHEN a parameter value lies outside them
    # THEN the stack is refused before anything is created, naming the parameter
    with pytest.raises(TemplateError, match=rf"{name}=.*{error}"):
        load_template(ROOT / "template.yaml", "dev", parameter_overrides={name: value})


RULES = """\
Parameters:
  Role: {Type: String}
  Policy: {Type: String}
  Names: {Type: CommaDelimitedList, Default: "a,b"}
Rules:
  DeploymentsDoNotRetrain:
    RuleCondition: !Equals [!Ref Role, deployment]
    Assertions:
      - Assert: !Not [!Equals [!Ref Policy, retrain]]
        AssertDescription: only the registry retrains
  NamesKnown:
    Assertions:
      - Assert: {"Fn::Contains": [!Ref Names, a]}
        AssertDescription: names must include a
Resources:
  Queue: {Type: AWS::SQS::Queue}
"""


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"Role": "deployment", "Policy": "retrain"}, "DeploymentsDoNotRetrain: only the registry retrains"),
        ({"Role": "registry", "Policy": "retrain", "Names": "b,c"}, "NamesKnown: names must include a"),
        ({"Role": "registry", "Policy": "retrain"}, None),  # the rule's condition does not hold
        ({"Role": "deployment", "Policy": "alert"}, None),
    ],
)
def test_template_rules_refuse_parameters_that_break_an_assertion_before_anything_is_created(
    tmp_path: Path, embedded_aws: Any, overrides: dict[str, str], error: str | None
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES, encoding="utf-8")
    stack = LocalStack(embedded_aws, "dev", path, stack_name="rules", parameter_overrides=overrides)
    if error is None:
        stack.deploy()
        assert "Queue" in stack.resources
        return
    with pytest.raises(TemplateError, match=error):
        stack.deploy()
    assert stack.resources == {}
    assert embedded_aws.client("sqs").list_queues().get("QueueUrls", []) == []


def test_a_deployment_stack_retrains_for_drift_only_through_the_registrys_role(embedded_aws: Any) -> None:
    # GIVEN a deployment stack (staging's parameters) told to retrain on drift, without the registry's role
    refused = {"DriftPolicy": "retrain", "RegistryDriftRetrainRoleArn": ""}
    stack = LocalStack(embedded_aws, "staging", parameter_overrides=refused)
    # WHEN it is deployed THEN it is refused: the training pipeline is the registry's
    with pytest.raises(TemplateError, match="DeploymentStacksRetrainThroughTheRegistry: DriftPolicy=retrain starts"):
        stack.deploy()
    assert stack.resources == {}
    # AND with the registry's role (samconfig.toml's) it deploys, and its drift monitor retrains through that role
    stack = LocalStack(embedded_aws, "staging", parameter_overrides={"DriftPolicy": "retrain"})
    stack.deploy()
    role = "arn:aws:iam::123456789012:role/sagemaker-lifecycle-dev-drift-retrain"
    assert stack.function_env("DriftMonitorFunction")["DRIFT_RETRAIN_ROLE_ARN"] == role
    # AND the registry (dev) retrains itself
    LocalStack(embedded_aws, "dev", parameter_overrides={"DriftPolicy": "retrain"}).deploy()
