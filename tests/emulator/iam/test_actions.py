"""Every operation the functions and the pipeline's jobs make, as botocore sends it, to the IAM checks it needs.

Each row: the boto3 call, then the (action, resource) pairs AWS authorizes for it, in order.
"""

from __future__ import annotations

from typing import Any

import pytest

from local.iam.actions import ApiCall, UnmappedRequest, checks_for
from local.iam.catalogue import Catalogue
from local.iam.wire import http_request, parse_request

A = "123456789012"
SM = f"arn:aws:sagemaker:us-east-1:{A}"
ROLE = f"arn:aws:iam::{A}:role/stack-sagemaker-execution"
PACKAGE = f"{SM}:model-package/churn-models/3"
EXECUTION = f"{SM}:pipeline/churn/execution/abc123"
TOPIC = f"arn:aws:sns:us-east-1:{A}:alerts"
QUEUE_URL = f"https://sqs.us-east-1.amazonaws.com/{A}/promote-dlq"
TABLE = f"arn:aws:dynamodb:us-east-1:{A}:table/ledger"
LOGS = f"arn:aws:logs:us-east-1:{A}:log-group:/aws/sagemaker/TrainingJobs"
TAGS = [{"Key": "env", "Value": "dev"}]
ITEM = {"pk": {"S": "x"}}
VARIANT = [
    {"VariantName": "AllTraffic", "ModelName": "Churn-v3", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
]

FUNCTION_CALLS: list[tuple[str, str, dict[str, Any], list[tuple[str, str]]]] = [
    (
        "sagemaker",
        "describe_model_package",
        {"ModelPackageName": PACKAGE},
        [("sagemaker:DescribeModelPackage", PACKAGE)],
    ),
    (
        "sagemaker",
        "list_model_packages",
        {"ModelPackageGroupName": "churn-models"},
        [("sagemaker:ListModelPackages", "*")],
    ),
    (
        "sagemaker",
        "update_model_package",
        {"ModelPackageArn": PACKAGE, "ModelApprovalStatus": "Approved"},
        [("sagemaker:UpdateModelPackage", PACKAGE)],
    ),
    (
        "sagemaker",
        "describe_endpoint",
        {"EndpointName": "Churn"},
        [("sagemaker:DescribeEndpoint", f"{SM}:endpoint/churn")],
    ),
    (
        "sagemaker",
        "describe_endpoint_config",
        {"EndpointConfigName": "churn-v3"},
        [("sagemaker:DescribeEndpointConfig", f"{SM}:endpoint-config/churn-v3")],
    ),
    ("sagemaker", "describe_model", {"ModelName": "churn-v3"}, [("sagemaker:DescribeModel", f"{SM}:model/churn-v3")]),
    ("sagemaker", "list_tags", {"ResourceArn": PACKAGE}, [("sagemaker:ListTags", PACKAGE)]),
    (
        "sagemaker",
        "add_tags",
        {"ResourceArn": f"{SM}:training-job/pipelines-abc-train", "Tags": TAGS},
        [("sagemaker:AddTags", f"{SM}:training-job/pipelines-abc-train")],
    ),
    (
        "sagemaker",
        "create_model",
        {
            "ModelName": "Churn-v3",
            "ExecutionRoleArn": ROLE,
            "Tags": TAGS,
            "PrimaryContainer": {"Image": "i", "ModelPackageName": PACKAGE},
        },
        [
            ("sagemaker:CreateModel", f"{SM}:model/churn-v3"),
            ("iam:PassRole", ROLE),
            ("sagemaker:AddTags", f"{SM}:model/churn-v3"),
        ],
    ),
    (
        "sagemaker",
        "create_endpoint_config",
        {"EndpointConfigName": "churn-v3", "ProductionVariants": VARIANT},
        [("sagemaker:CreateEndpointConfig", f"{SM}:endpoint-config/churn-v3")],
    ),
    (
        "sagemaker",
        "create_endpoint",
        {"EndpointName": "churn", "EndpointConfigName": "churn-v3", "Tags": TAGS},
        [
            ("sagemaker:CreateEndpoint", f"{SM}:endpoint/churn"),
            ("sagemaker:CreateEndpoint", f"{SM}:endpoint-config/churn-v3"),
            ("sagemaker:AddTags", f"{SM}:endpoint/churn"),
        ],
    ),
    (
        "sagemaker",
        "update_endpoint",
        {"EndpointName": "churn", "EndpointConfigName": "churn-v4"},
        [
            ("sagemaker:UpdateEndpoint", f"{SM}:endpoint/churn"),
            ("sagemaker:UpdateEndpoint", f"{SM}:endpoint-config/churn-v4"),
        ],
    ),
    (
        "sagemaker",
        "describe_pipeline_execution",
        {"PipelineExecutionArn": EXECUTION},
        [("sagemaker:DescribePipelineExecution", EXECUTION)],
    ),
    (
        "sagemaker",
        "list_pipeline_execution_steps",
        {"PipelineExecutionArn": EXECUTION},
        [("sagemaker:ListPipelineExecutionSteps", EXECUTION)],
    ),
    (
        "sagemaker",
        "list_pipeline_parameters_for_execution",
        {"PipelineExecutionArn": EXECUTION},
        [("sagemaker:ListPipelineParametersForExecution", EXECUTION)],
    ),
    (
        "sagemaker",
        "describe_training_job",
        {"TrainingJobName": "pipelines-abc-Train"},
        [("sagemaker:DescribeTrainingJob", f"{SM}:training-job/pipelines-abc-train")],
    ),
    (
        "sagemaker",
        "describe_processing_job",
        {"ProcessingJobName": "pipelines-abc-Eval"},
        [("sagemaker:DescribeProcessingJob", f"{SM}:processing-job/pipelines-abc-eval")],
    ),
    (
        "sagemaker",
        "describe_transform_job",
        {"TransformJobName": "pipelines-abc-Batch"},
        [("sagemaker:DescribeTransformJob", f"{SM}:transform-job/pipelines-abc-batch")],
    ),
    (
        "s3",
        "get_object",
        {"Bucket": "artifacts", "Key": "churn/run/evaluation.json"},
        [("s3:GetObject", "arn:aws:s3:::artifacts/churn/run/evaluation.json")],
    ),
    (
        "s3",
        "get_object",
        {"Bucket": "artifacts", "Key": "churn/m.json", "VersionId": "v2"},
        [("s3:GetObjectVersion", "arn:aws:s3:::artifacts/churn/m.json")],
    ),
    (
        "s3",
        "head_object",
        {"Bucket": "artifacts", "Key": "churn/model.tar.gz"},
        [("s3:GetObject", "arn:aws:s3:::artifacts/churn/model.tar.gz")],
    ),
    (
        "s3",
        "list_objects_v2",
        {"Bucket": "artifacts", "Prefix": "churn/"},
        [("s3:ListBucket", "arn:aws:s3:::artifacts")],
    ),
    (
        "s3",
        "get_object_tagging",
        {"Bucket": "artifacts", "Key": "churn/m.tar.gz"},
        [("s3:GetObjectTagging", "arn:aws:s3:::artifacts/churn/m.tar.gz")],
    ),
    (
        "s3",
        "get_object_tagging",
        {"Bucket": "artifacts", "Key": "churn/m.tar.gz", "VersionId": "v1"},
        [("s3:GetObjectVersionTagging", "arn:aws:s3:::artifacts/churn/m.tar.gz")],
    ),
    (
        "s3",
        "put_object_tagging",
        {"Bucket": "artifacts", "Key": "churn/m.tar.gz", "Tagging": {"TagSet": TAGS}},
        [("s3:PutObjectTagging", "arn:aws:s3:::artifacts/churn/m.tar.gz")],
    ),
    (
        "s3",
        "put_object_tagging",
        {"Bucket": "artifacts", "Key": "churn/m.tar.gz", "VersionId": "v1", "Tagging": {"TagSet": TAGS}},
        [("s3:PutObjectVersionTagging", "arn:aws:s3:::artifacts/churn/m.tar.gz")],
    ),
    ("sns", "publish", {"TopicArn": TOPIC, "Message": "m"}, [("sns:Publish", TOPIC)]),
    (
        "sqs",
        "send_message",
        {"QueueUrl": QUEUE_URL, "MessageBody": "m"},
        [("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{A}:promote-dlq")],
    ),
    ("dynamodb", "get_item", {"TableName": "ledger", "Key": ITEM}, [("dynamodb:GetItem", TABLE)]),
    ("dynamodb", "put_item", {"TableName": "ledger", "Item": ITEM}, [("dynamodb:PutItem", TABLE)]),
    ("dynamodb", "update_item", {"TableName": "ledger", "Key": ITEM}, [("dynamodb:UpdateItem", TABLE)]),
    ("dynamodb", "delete_item", {"TableName": "ledger", "Key": ITEM}, [("dynamodb:DeleteItem", TABLE)]),
    ("dynamodb", "query", {"TableName": "ledger", "KeyConditionExpression": "pk = :p"}, [("dynamodb:Query", TABLE)]),
    (
        "dynamodb",
        "query",
        {"TableName": "ledger", "IndexName": "by-endpoint", "KeyConditionExpression": "pk = :p"},
        [("dynamodb:Query", f"{TABLE}/index/by-endpoint")],
    ),
    (
        "cloudwatch",
        "put_metric_data",
        {"Namespace": "SageMakerLifecycle", "MetricData": [{"MetricName": "m", "Value": 1.0}]},
        [("cloudwatch:PutMetricData", "*")],
    ),
    (
        "cloudwatch",
        "describe_alarms",
        {"AlarmNames": ["a", "b"]},
        [
            ("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:us-east-1:{A}:alarm:a"),
            ("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:us-east-1:{A}:alarm:b"),
        ],
    ),
    ("xray", "put_trace_segments", {"TraceSegmentDocuments": ["{}"]}, [("xray:PutTraceSegments", "*")]),
]

SERVING_CALLS: list[tuple[str, str, dict[str, Any], list[tuple[str, str]]]] = [
    (
        "sagemaker-runtime",
        "invoke_endpoint",
        {"EndpointName": "Churn", "Body": b"1,2"},
        [("sagemaker:InvokeEndpoint", f"{SM}:endpoint/churn")],
    ),
]

JOB_CALLS: list[tuple[str, str, dict[str, Any], list[tuple[str, str]]]] = [
    (
        "s3",
        "put_object",
        {"Bucket": "artifacts", "Key": "churn/run/model.tar.gz", "Body": b"x"},
        [("s3:PutObject", "arn:aws:s3:::artifacts/churn/run/model.tar.gz")],
    ),
    (
        "s3",
        "delete_object",
        {"Bucket": "artifacts", "Key": "churn/tmp"},
        [("s3:DeleteObject", "arn:aws:s3:::artifacts/churn/tmp")],
    ),
    (
        "s3",
        "delete_object",
        {"Bucket": "artifacts", "Key": "churn/tmp", "VersionId": "v1"},
        [("s3:DeleteObjectVersion", "arn:aws:s3:::artifacts/churn/tmp")],
    ),
    ("s3", "list_objects_v2", {"Bucket": "artifacts"}, [("s3:ListBucket", "arn:aws:s3:::artifacts")]),
    ("s3", "get_bucket_location", {"Bucket": "artifacts"}, [("s3:GetBucketLocation", "arn:aws:s3:::artifacts")]),
    (
        "sagemaker",
        "create_model_package_group",
        {"ModelPackageGroupName": "Churn-Models"},
        [("sagemaker:CreateModelPackageGroup", f"{SM}:model-package-group/churn-models")],
    ),
    (
        "sagemaker",
        "describe_model_package_group",
        {"ModelPackageGroupName": "churn-models"},
        [("sagemaker:DescribeModelPackageGroup", f"{SM}:model-package-group/churn-models")],
    ),
    (
        "sagemaker",
        "create_model_package",
        {"ModelPackageGroupName": "churn-models", "ModelApprovalStatus": "PendingManualApproval"},
        [("sagemaker:CreateModelPackage", f"{SM}:model-package-group/churn-models")],
    ),
    (
        "sagemaker",
        "create_processing_job",
        {
            "ProcessingJobName": "pipelines-abc-Evaluate",
            "RoleArn": ROLE,
            "AppSpecification": {"ImageUri": "i"},
            "ProcessingResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}
            },
        },
        [("sagemaker:CreateProcessingJob", f"{SM}:processing-job/pipelines-abc-evaluate"), ("iam:PassRole", ROLE)],
    ),
    (
        "sagemaker",
        "create_training_job",
        {
            "TrainingJobName": "pipelines-abc-Train",
            "RoleArn": ROLE,
            "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "i"},
            "OutputDataConfig": {"S3OutputPath": "s3://b/o"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 60},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        },
        [("sagemaker:CreateTrainingJob", f"{SM}:training-job/pipelines-abc-train"), ("iam:PassRole", ROLE)],
    ),
    ("logs", "create_log_group", {"logGroupName": "/aws/sagemaker/TrainingJobs"}, [("logs:CreateLogGroup", LOGS)]),
    (
        "logs",
        "create_log_stream",
        {"logGroupName": "/aws/sagemaker/TrainingJobs", "logStreamName": "job/algo-1"},
        [("logs:CreateLogStream", f"{LOGS}:log-stream:job/algo-1")],
    ),
    (
        "logs",
        "put_log_events",
        {
            "logGroupName": "/aws/sagemaker/TrainingJobs",
            "logStreamName": "job/algo-1",
            "logEvents": [{"timestamp": 1, "message": "m"}],
        },
        [("logs:PutLogEvents", f"{LOGS}:log-stream:job/algo-1")],
    ),
    (
        "logs",
        "describe_log_streams",
        {"logGroupName": "/aws/sagemaker/TrainingJobs"},
        [("logs:DescribeLogStreams", LOGS)],
    ),
    ("ecr", "get_authorization_token", {}, [("ecr:GetAuthorizationToken", "*")]),
    (
        "ecr",
        "batch_get_image",
        {"repositoryName": "sklearn", "registryId": "683313688378", "imageIds": [{"imageTag": "1"}]},
        [("ecr:BatchGetImage", "arn:aws:ecr:us-east-1:683313688378:repository/sklearn")],
    ),
    (
        "ecr",
        "get_download_url_for_layer",
        {"repositoryName": "sklearn", "layerDigest": "sha256:0"},
        [("ecr:GetDownloadUrlForLayer", f"arn:aws:ecr:us-east-1:{A}:repository/sklearn")],
    ),
    ("sts", "assume_role", {"RoleArn": ROLE, "RoleSessionName": "SageMaker"}, [("sts:AssumeRole", ROLE)]),
    ("sts", "get_caller_identity", {}, []),
]


def _checks_from_the_wire(
    botocore_request: Any, service: str, method: str, params: dict[str, Any]
) -> list[tuple[str, str]]:
    environ, body = botocore_request(service, method, **params)
    parsed = parse_request(http_request(environ, body), environ["HTTP_HOST"])
    call = ApiCall(parsed.iam_prefix, parsed.operation, parsed.params, A, parsed.credentials.region)  # type: ignore[union-attr]
    return [(check.action, check.resource) for check in checks_for(call)]


@pytest.mark.parametrize(
    ("service", "method", "params", "expected"),
    FUNCTION_CALLS + SERVING_CALLS,
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_the_functions_and_serving_calls(
    botocore_request: Any, service: str, method: str, params: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert _checks_from_the_wire(botocore_request, service, method, params) == expected


@pytest.mark.parametrize(
    ("service", "method", "params", "expected"), JOB_CALLS, ids=lambda v: v if isinstance(v, str) else ""
)
def test_the_pipeline_jobs_calls(
    botocore_request: Any, service: str, method: str, params: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert _checks_from_the_wire(botocore_request, service, method, params) == expected


def call(service: str, operation: str, **params: Any) -> ApiCall:
    return ApiCall(service, operation, params, A, "us-east-1")


def test_pass_role_says_which_service_it_is_passed_to() -> None:
    checks = checks_for(call("sagemaker", "CreateModel", ModelName="m", ExecutionRoleArn=ROLE))
    pass_role = next(c for c in checks if c.action == "iam:PassRole")
    assert pass_role.context == {
        "iam:PassedToService": "sagemaker.amazonaws.com",
        "iam:AssociatedResourceArn": f"{SM}:model/m",
    }
    assert pass_role.why == "dependent"


def test_tagging_on_creation_carries_the_request_tags() -> None:
    checks = checks_for(call("sagemaker", "CreateEndpoint", EndpointName="e", EndpointConfigName="c", Tags=TAGS))
    add_tags = checks[-1]
    assert add_tags.action == "sagemaker:AddTags"
    assert add_tags.context == {
        "aws:RequestTag/env": "dev",
        "aws:TagKeys": ["env"],
        "sagemaker:TaggingAction": "CreateEndpoint",
    }
    assert [
        c.action for c in checks_for(call("sagemaker", "CreateEndpoint", EndpointName="e", EndpointConfigName="c"))
    ] == ["sagemaker:CreateEndpoint", "sagemaker:CreateEndpoint"]  # no tags: no AddTags


def test_request_condition_keys_come_from_the_parameters() -> None:
    (listing,) = checks_for(call("s3", "ListObjectsV2", Bucket="b", Prefix="churn/", Delimiter="/", MaxKeys=10))
    assert listing.context == {"s3:prefix": "churn/", "s3:delimiter": "/", "s3:max-keys": 10}
    (metric,) = checks_for(call("cloudwatch", "PutMetricData", Namespace="SageMaker/Pipelines"))
    assert metric.context == {"cloudwatch:namespace": "SageMaker/Pipelines"}
    (update,) = checks_for(
        call(
            "sagemaker",
            "UpdateModelPackage",
            ModelPackageArn=PACKAGE,
            ModelApprovalStatus="Approved",
            ModelLifeCycle={"Stage": "Production", "StageStatus": "Approved"},
            CustomerMetadataProperties={"gate": "passed"},
        )
    )
    assert update.context == {
        "sagemaker:ModelApprovalStatus": "Approved",
        "sagemaker:ModelLifeCycle:Stage": "Production",
        "sagemaker:ModelLifeCycle:StageStatus": "Approved",
        "sagemaker:CustomerMetadataProperties/gate": "passed",
    }


def test_sagemaker_names_are_lower_cased_and_given_arns_kept() -> None:
    (by_name,) = checks_for(call("sagemaker", "DescribeModelPackageGroup", ModelPackageGroupName="Churn-Models"))
    assert by_name.resource == f"{SM}:model-package-group/churn-models"
    given = f"{SM}:model-package-group/Churn-Models"
    (by_arn,) = checks_for(call("sagemaker", "DescribeModelPackageGroup", ModelPackageGroupName=given))
    assert by_arn.resource == given


def test_another_accounts_registry_is_authorized_on_its_arns() -> None:
    registry = "arn:aws:sagemaker:us-east-1:999999999999"
    (listing,) = checks_for(
        call("sagemaker", "ListModelPackages", ModelPackageGroupName=f"{registry}:model-package-group/g")
    )
    assert listing.resource == f"{registry}:model-package-group/g"
    (by_name,) = checks_for(call("sagemaker", "ListModelPackages", ModelPackageGroupName="g"))
    assert by_name.resource == "*"
    foreign = f"{registry}:model-package/g/1"
    model = checks_for(
        call(
            "sagemaker",
            "CreateModel",
            ModelName="m",
            ExecutionRoleArn=ROLE,
            Containers=[{"ModelPackageName": foreign}, {"ModelPackageName": PACKAGE}],
        )
    )
    assert [(c.action, c.resource, c.why) for c in model] == [
        ("sagemaker:CreateModel", f"{SM}:model/m", "requested"),
        ("sagemaker:CreateModel", foreign, "foreign source"),
        ("iam:PassRole", ROLE, "dependent"),
    ]


def test_iam_arns_hold_the_entitys_path() -> None:
    (created,) = checks_for(call("iam", "CreateRole", RoleName="r", Path="/service/", AssumeRolePolicyDocument="{}"))
    assert created.resource == f"arn:aws:iam::{A}:role/service/r"
    (inline,) = checks_for(call("iam", "PutRolePolicy", RoleName="r", PolicyName="p", PolicyDocument="{}"))
    assert inline.resource == f"arn:aws:iam::{A}:role/r"


def test_batch_and_copy_operations() -> None:
    deletes = checks_for(
        call("s3", "DeleteObjects", Bucket="b", Delete={"Objects": [{"Key": "a"}, {"Key": "c", "VersionId": "2"}]})
    )
    assert [(c.action, c.resource) for c in deletes] == [
        ("s3:DeleteObject", "arn:aws:s3:::b/a"),
        ("s3:DeleteObjectVersion", "arn:aws:s3:::b/c"),
    ]
    copy = checks_for(call("s3", "CopyObject", Bucket="b", Key="dst", CopySource="src/a%20b?versionId=7"))
    assert [(c.action, c.resource, c.why) for c in copy] == [
        ("s3:PutObject", "arn:aws:s3:::b/dst", "requested"),
        ("s3:GetObjectVersion", "arn:aws:s3:::src/a b", "copy source"),
    ]
    (batch,) = checks_for(call("sqs", "SendMessageBatch", QueueUrl=QUEUE_URL, Entries=[]))
    assert batch.action == "sqs:SendMessage"


def test_requests_the_reference_cannot_authorize_are_unmapped() -> None:
    with pytest.raises(UnmappedRequest, match="no action sagemaker:MakeItSo"):
        checks_for(call("sagemaker", "MakeItSo"))
    with pytest.raises(UnmappedRequest, match="names no endpoint"):
        checks_for(call("sagemaker", "DescribeEndpoint"))


def test_the_catalogue_loads_only_the_services_asked_for() -> None:
    catalogue = Catalogue()
    assert catalogue.loaded() == []
    checks_for(call("sqs", "SendMessage", QueueUrl=QUEUE_URL), catalogue)
    assert catalogue.loaded() == ["sqs"]
    privilege = catalogue.privilege("SQS".lower(), "sendmessage")
    assert privilege is not None and privilege.action == "sqs:SendMessage"
    assert catalogue.service("no-such-service") is None
    assert len(catalogue.prefixes()) > 400
