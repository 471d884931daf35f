"""Where an API operation's IAM authorization differs from its name: the one table of exceptions.

Everything else comes from the Service Authorization Reference (``local.iam.catalogue``): an operation is
authorized as the action of the same name, on the resource types the reference lists, with the ARN formats it
gives, placeholders filled from the request parameters of the same name. The rows below are the operations and
parameters for which that is not so, each as the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/) lists it for the service.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

# (IAM service prefix, operation) -> action, when the action's name is not the operation's.
# "Amazon S3 actions" (list_amazons3.html): S3's actions are not its operations' names.
ACTION_OF_OPERATION: dict[tuple[str, str], str] = {
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjectVersions"): "ListBucketVersions",
    ("s3", "HeadObject"): "GetObject",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "CopyObject"): "PutObject",  # and s3:GetObject on the source: COPY_SOURCE below
    ("s3", "CreateMultipartUpload"): "PutObject",
    ("s3", "UploadPart"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
    ("s3", "ListMultipartUploads"): "ListBucketMultipartUploads",
    ("s3", "ListParts"): "ListMultipartUploadParts",
    ("s3", "DeleteObjects"): "DeleteObject",  # one check per object: PER_ITEM below
    ("s3", "GetBucketNotificationConfiguration"): "GetBucketNotification",
    ("s3", "PutBucketNotificationConfiguration"): "PutBucketNotification",
    ("s3", "GetBucketEncryption"): "GetEncryptionConfiguration",
    ("s3", "PutBucketEncryption"): "PutEncryptionConfiguration",
    ("s3", "GetBucketLifecycleConfiguration"): "GetLifecycleConfiguration",
    ("s3", "PutBucketLifecycleConfiguration"): "PutLifecycleConfiguration",
    ("s3", "GetPublicAccessBlock"): "GetBucketPublicAccessBlock",
    ("s3", "PutPublicAccessBlock"): "PutBucketPublicAccessBlock",
    ("s3", "GetBucketCors"): "GetBucketCORS",
    ("s3", "PutBucketCors"): "PutBucketCORS",
    ("s3", "PutBucketOwnershipControls"): "PutBucketOwnershipControls",
    # "Amazon SQS actions" (list_amazonsqs.html): batch operations are authorized as their single action.
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    # "AWS Lambda actions" (list_awslambda.html)
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
}

# S3 operations on a specific object version are authorized as the ...Version actions when VersionId is given.
VERSIONED_ACTION: dict[tuple[str, str], str] = {
    ("s3", "GetObject"): "GetObjectVersion",
    ("s3", "HeadObject"): "GetObjectVersion",
    ("s3", "DeleteObject"): "DeleteObjectVersion",
    ("s3", "DeleteObjects"): "DeleteObjectVersion",
    ("s3", "GetObjectTagging"): "GetObjectVersionTagging",
    ("s3", "PutObjectTagging"): "PutObjectVersionTagging",
    ("s3", "DeleteObjectTagging"): "DeleteObjectVersionTagging",
    ("s3", "GetObjectAcl"): "GetObjectVersionAcl",
    ("s3", "PutObjectAcl"): "PutObjectVersionAcl",
}

# Operations that need no authorization: "No permissions are required to perform this operation" (STS API
# reference, GetCallerIdentity); an explicit deny does not stop it either.
UNAUTHORIZED_OPERATIONS: frozenset[tuple[str, str]] = frozenset({("sts", "GetCallerIdentity")})

# Operations authorized on another resource type than the one the reference marks required.
# DynamoDB: a Query or Scan of a secondary index is authorized on the index's ARN.
RESOURCE_TYPE_BY_PARAMETER: dict[tuple[str, str], tuple[str, str]] = {
    ("dynamodb", "Query"): ("IndexName", "index"),
    ("dynamodb", "Scan"): ("IndexName", "index"),
}

# Operations whose parameter may be a resource's ARN instead of a name: authorized on that ARN when it is one.
# ListModelPackages names a group by name or ARN; by ARN (how another account lists the registry account's
# versions) the group's resource policy decides, which AWS's cross-account examples grant on the group's ARN
# ("Cross-account discoverability", SageMaker Developer Guide). By name it stays the reference's ``*``.
ARN_PARAMETER: dict[tuple[str, str], str] = {("sagemaker", "ListModelPackages"): "ModelPackageGroupName"}

# Operations that use another account's resource named in a member of the request: the action is authorized on that
# resource as well, so its resource policy must admit the caller. CreateModel with a container's ModelPackageName
# of another account's version: the model package group's policy grants ``sagemaker:CreateModel`` on its versions
# ("Deploy a Model Version from a Different Account"). Within one account the reference lists no such resource.
FOREIGN_SOURCES: dict[tuple[str, str], str] = {("sagemaker", "CreateModel"): "ModelPackageName"}

# Operations that are one check per item of a list parameter: (list parameter, member holding the key, version).
PER_ITEM: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "DeleteObjects"): ("Delete", "Objects"),
}

# CopyObject reads its source: s3:GetObject (s3:GetObjectVersion with ?versionId=) on ``CopySource``.
COPY_SOURCE: dict[tuple[str, str], str] = {("s3", "CopyObject"): "CopySource", ("s3", "UploadPartCopy"): "CopySource"}


def _queue_url_part(index: int) -> Callable[[Mapping[str, Any]], str | None]:
    def part(params: Mapping[str, Any]) -> str | None:
        url = params.get("QueueUrl")
        if not isinstance(url, str):
            return None
        pieces = [p for p in urlparse(url).path.split("/") if p]
        return pieces[index] if len(pieces) == 2 else None

    return part


def _parameter(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda params: params.get(name)


def _with_path(name: str) -> Callable[[Mapping[str, Any]], str | None]:
    """IAM's ``<Entity>NameWithPath``: the request's ``Path`` (``/`` when it gives none) and the entity's name."""

    def with_path(params: Mapping[str, Any]) -> str | None:
        value = params.get(name)
        if not isinstance(value, str) or not value:
            return None
        path = params.get("Path")
        return f"{(path if isinstance(path, str) else '/').lstrip('/')}{value}"

    return with_path


# ARN placeholders that the request names differently: IAM service prefix -> placeholder -> value from the
# parameters. (SQS addresses a queue by URL ``https://sqs.<region>.amazonaws.com/<account>/<name>``; ECR's
# ``registryId`` is the registry's account; IAM's ARNs hold the entity's path and name, e.g. ``role/${
# RoleNameWithPath}``: a request that gives no ``Path`` names an entity of the path ``/``.)
PLACEHOLDER_ALIASES: dict[str, dict[str, Callable[[Mapping[str, Any]], Any]]] = {
    "s3": {"BucketName": _parameter("Bucket"), "ObjectName": _parameter("Key")},
    "sqs": {"QueueName": _queue_url_part(1), "Account": _queue_url_part(0)},
    "ecr": {"Account": _parameter("registryId")},
    "iam": {
        "RoleNameWithPath": _with_path("RoleName"),
        "UserNameWithPath": _with_path("UserName"),
        "GroupNameWithPath": _with_path("GroupName"),
        "InstanceProfileNameWithPath": _with_path("InstanceProfileName"),
        "PolicyNameWithPath": _with_path("PolicyName"),
    },
}

# The same, where it depends on the operation: EventBridge Scheduler names a schedule ``Name`` in its group
# ``GroupName`` (``default`` when absent: schedule/<group>/<name>), and a schedule group ``Name``.
_SCHEDULE = {"ScheduleName": _parameter("Name"), "GroupName": lambda params: params.get("GroupName") or "default"}
_SCHEDULE_GROUP = {"GroupName": _parameter("Name")}
OPERATION_PLACEHOLDER_ALIASES: dict[tuple[str, str], dict[str, Callable[[Mapping[str, Any]], Any]]] = {
    **{("scheduler", op): _SCHEDULE for op in ("CreateSchedule", "GetSchedule", "UpdateSchedule", "DeleteSchedule")},
    **{("scheduler", op): _SCHEDULE_GROUP for op in ("CreateScheduleGroup", "GetScheduleGroup", "DeleteScheduleGroup")},
}

# The signing name of a service where it differs from its IAM prefix (CloudWatch signs as "monitoring").
IAM_PREFIX_OF_SIGNING_NAME: dict[str, str] = {"monitoring": "cloudwatch"}

# SageMaker builds its ARNs from lower-cased names (an endpoint "My-Endpoint" is ".../endpoint/my-endpoint").
LOWER_CASED_NAMES: frozenset[str] = frozenset({"sagemaker"})

# Dependent actions (the reference's "dependent actions" column) that the request's shape decides.
TAGGING_ACTIONS: frozenset[str] = frozenset({"AddTags", "TagResource", "CreateTags"})
