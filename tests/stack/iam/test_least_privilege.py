"""Least privilege, as the embedded AWS's IAM engine decides it for the roles template.yaml deploys: who may change
a package's approval, who may touch captured traffic, what each role may read and write, nothing broader."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from moto.iam.models import iam_backends

from local.aws import EmbeddedAWS
from local.iam import ApiCall
from local.iam.principals import role_session_from_arn
from local.stack import LocalStack


class Roles:
    """The deployed stack's roles, asked what IAM would decide for a call of one of them."""

    def __init__(self, aws: EmbeddedAWS, stack: LocalStack) -> None:
        assert aws.iam is not None
        self.aws, self.stack, self.outputs = aws, stack, stack.outputs
        self.authorizer = aws.iam.authorizer
        functions = {lid: spec.role_arn for lid, spec in stack.functions.items()}
        self.arns: dict[str, str] = {
            **functions,
            "pipeline": self.outputs["SageMakerPipelineRoleArn"],
            "job": self.outputs["SageMakerJobRoleArn"],
            "model": self.outputs["SageMakerModelRoleArn"],
        }
        self.bucket = self.outputs["ArtifactBucketName"]
        self.pipeline = self.outputs["PipelineName"]
        self.endpoint = self.outputs["EndpointName"]

    def allows(self, role: str, service: str, operation: str, params: Mapping[str, Any]) -> bool:
        principal = role_session_from_arn(self.arns[role], "least-privilege")
        call = ApiCall(service, operation, params, self.aws.account_id, self.aws.region)
        return self.authorizer.authorize_call(principal, call).allowed

    def s3(self, role: str, operation: str, key: str) -> bool:
        return self.allows(role, "s3", operation, {"Bucket": self.bucket, "Key": key})

    def version_arn(self, version: int = 1) -> str:
        group = self.outputs["ModelPackageGroupName"]
        return f"arn:aws:sagemaker:{self.aws.region}:{self.aws.account_id}:model-package/{group}/{version}"


@pytest.fixture(scope="module")
def roles() -> Iterator[Roles]:
    aws = EmbeddedAWS().start()
    try:
        stack = LocalStack(aws, env="dev")
        stack.deploy()
        yield Roles(aws, stack)
    finally:
        aws.stop()


def test_only_the_promote_function_changes_a_packages_approval(roles: Roles) -> None:
    may = {
        role
        for role in roles.arns
        if roles.allows(role, "sagemaker", "UpdateModelPackage", {"ModelPackageArn": roles.version_arn()})
    }
    assert may == {"PromoteFunction"}


def test_nobody_deletes_or_reads_captured_traffic_and_only_the_model_writes_it(roles: Roles) -> None:
    captured = f"data-capture/{roles.endpoint}/AllTraffic/2026/12/02/10/capture.jsonl"
    for role in roles.arns:
        assert not roles.s3(role, "DeleteObject", captured), role
        assert not roles.s3(role, "GetObject", captured), role
    assert {role for role in roles.arns if roles.s3(role, "PutObject", captured)} == {"model"}
    assert not roles.s3("model", "PutObject", "data-capture/another-endpoint/AllTraffic/x.jsonl")


def test_the_job_role_reads_data_and_writes_only_under_the_pipelines_prefix(roles: Roles) -> None:
    assert roles.s3("job", "GetObject", "datasets/default/raw/default.csv")
    assert roles.s3("job", "PutObject", f"{roles.pipeline}/exec-1/Train/model.tar.gz")
    assert not roles.s3("job", "PutObject", "datasets/default/raw/default.csv")
    assert not roles.s3("job", "DeleteObject", f"{roles.pipeline}/exec-1/Train/model.tar.gz")


def test_the_model_role_reads_training_outputs_only(roles: Roles) -> None:
    assert roles.s3("model", "GetObject", f"{roles.pipeline}/exec-1/Train/job/output/model.tar.gz")
    assert not roles.s3("model", "GetObject", f"{roles.pipeline}/exec-1/Preprocess/train/train.csv")
    assert not roles.s3("model", "GetObject", "datasets/default/raw/default.csv")


def test_promote_reads_reports_only_under_the_pipelines_prefix(roles: Roles) -> None:
    assert roles.s3("PromoteFunction", "GetObject", f"{roles.pipeline}/exec-1/Evaluate/evaluation/evaluation.json")
    assert not roles.s3("PromoteFunction", "GetObject", "elsewhere/evaluation.json")
    assert not roles.s3("PromoteFunction", "GetObject", "datasets/default/raw/default.csv")


def test_the_pipeline_passes_the_job_role_to_its_jobs_and_no_other(roles: Roles) -> None:
    def create_job(role_arn: str) -> bool:
        request = {"TrainingJobName": "pipelines-abc-Train-x1", "RoleArn": role_arn}
        return roles.allows("pipeline", "sagemaker", "CreateTrainingJob", request)

    assert create_job(roles.arns["job"])
    assert not create_job(roles.arns["model"])
    assert not create_job(roles.arns["pipeline"])
    assert not roles.allows("job", "sagemaker", "CreateTrainingJob", {"TrainingJobName": "pipelines-abc-Train-x1"})


@pytest.mark.parametrize("operation", ["Scan", "Query", "DescribeTable", "BatchWriteItem", "DeleteTable"])
def test_functions_make_item_calls_only_on_their_tables(roles: Roles, operation: str) -> None:
    tables = [roles.outputs["IdempotencyTableName"], roles.outputs["DeploymentStateTableName"]]
    for function in roles.stack.functions:
        for table in tables:
            params: dict[str, Any] = {"TableName": table}
            if operation == "BatchWriteItem":
                params = {"RequestItems": {table: []}}
            assert not roles.allows(function, "dynamodb", operation, params), (function, table)


def test_no_kms_statement_on_every_key(roles: Roles) -> None:
    backend = iam_backends[roles.aws.account_id]["aws"]
    for role in backend.roles.values():
        for name, document in role.policies.items():
            statements = json.loads(document)["Statement"]
            for statement in statements if isinstance(statements, list) else [statements]:
                actions = statement.get("Action", [])
                actions = [actions] if isinstance(actions, str) else actions
                if any(action.startswith("kms:") for action in actions):
                    assert statement.get("Resource") not in ("*", ["*"]), (role.name, name, statement)


def test_the_item_calls_the_functions_make_are_allowed(roles: Roles) -> None:
    idempotency, ledger = roles.outputs["IdempotencyTableName"], roles.outputs["DeploymentStateTableName"]
    key = {"id": {"S": "x"}}
    for function in ("PromoteFunction", "AlertFunction"):
        for operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
            assert roles.allows(function, "dynamodb", operation, {"TableName": idempotency, "Key": key}), function
    assert roles.allows("DeployFunction", "dynamodb", "UpdateItem", {"TableName": ledger, "Key": key})
    assert not roles.allows("DeployFunction", "dynamodb", "GetItem", {"TableName": idempotency, "Key": key})
