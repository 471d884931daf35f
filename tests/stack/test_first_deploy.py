"""What the first `sam deploy` of the project's stack meets: the account's Lambda quotas and the API's name rules."""

from __future__ import annotations

from typing import Any

import pytest

from local.stack import LocalStack
from local.stack.template import TemplateError

NEW_ACCOUNT_CONCURRENCY = 10  # what Lambda gives many new accounts (the service default is 1,000)


REGISTRY_FUNCTIONS = {
    "AlertFunction",
    "PromoteFunction",
    "TagArtifactsFunction",
    "DeployFunction",
    "StageGateFunction",
    "DriftCheckFunction",  # started by EventBridge Scheduler
    "DriftMonitorFunction",
}
# a deployment stack: no training pipeline of its own; its endpoint's drift checks, and their alerts
DEPLOYMENT_FUNCTIONS = {
    "DeployFunction",
    "StageGateFunction",
    "AlertFunction",
    "DriftCheckFunction",
    "DriftMonitorFunction",
}


@pytest.mark.parametrize(("env", "functions"), [("dev", REGISTRY_FUNCTIONS), ("staging", DEPLOYMENT_FUNCTIONS)])
def test_the_stack_deploys_in_a_new_account_whose_concurrency_quota_is_10(
    embedded_aws: Any, env: str, functions: set[str]
) -> None:
    # GIVEN an account whose Lambda concurrency quota is that of a new account
    stack = LocalStack(embedded_aws, env=env, account_concurrency=NEW_ACCOUNT_CONCURRENCY)

    # WHEN the environment's stack is deployed with its samconfig.toml parameters
    stack.deploy()

    # THEN every function exists, none reserving concurrency (each runs with the runtime's default)
    assert set(stack.functions) == functions
    assert all(spec.reserved_concurrency is None for spec in stack.functions.values())


def test_reserved_concurrency_is_a_parameter_lambda_refuses_where_the_quota_cannot_hold_it(embedded_aws: Any) -> None:
    # GIVEN ReservedConcurrency=5, in a new account and in one with the service's default quota
    overrides = {"ReservedConcurrency": "5"}
    small = LocalStack(embedded_aws, env="dev", parameter_overrides=overrides, account_concurrency=10)
    default = LocalStack(embedded_aws, env="dev", parameter_overrides=overrides, stack_name="quota-default")

    # WHEN each is deployed
    # THEN Lambda refuses the first reservation where less than the minimum would stay unreserved (CREATE_FAILED)
    with pytest.raises(TemplateError, match=r"UnreservedConcurrentExecution below its minimum value of \[10\]"):
        small.deploy()
    default.deploy()
    # AND where the quota holds it, each function reserves 5 and the local runtime runs at most 5 at once
    assert {spec.reserved_concurrency for spec in default.functions.values()} == {5}
    assert {spec.max_concurrency for spec in default.functions.values()} == {5}


@pytest.mark.parametrize("parameter", ["EndpointName", "ModelPackageGroupName", "PipelineName"])
def test_names_that_sagemaker_lower_cases_in_arns_must_be_lower_case(embedded_aws: Any, parameter: str) -> None:
    # GIVEN a name in mixed case: SageMaker keeps it in the resource's name but lower-cases it in the resource's ARN,
    # and IAM matches the template's ARNs (built from the name) case-sensitively against those
    overrides = {parameter: "Fraud-Detector"}

    # WHEN the stack is deployed with it
    # THEN CloudFormation refuses the parameter before creating anything
    with pytest.raises(TemplateError, match=parameter):
        LocalStack(embedded_aws, env="dev", parameter_overrides=overrides).deploy()
    assert embedded_aws.client("sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"] == []
