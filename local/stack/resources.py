"""Creates the resources of a translated template in the embedded AWS, the way CloudFormation would.

Each supported type has a provisioner that calls the service's API (boto3 against the embedded endpoint) and returns
what ``Ref`` and ``Fn::GetAtt`` give for it. Physical names follow CloudFormation's ``<stack>-<LogicalId>-<RANDOM>``
scheme for resources the template does not name.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.stack import event_resources as events
from local.stack import security_resources as security
from local.stack.security_resources import as_json
from local.stack.template import TemplateError, UnsupportedResourceError

logger = logging.getLogger(__name__)

_SUFFIX_ALPHABET = string.ascii_uppercase + string.digits
_DASHBOARD_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")


def physical_name(stack_name: str, logical_id: str, *, max_length: int = 255, lowercase: bool = False) -> str:
    """``<stack>-<LogicalId>-<SUFFIX>`` cut to ``max_length`` the way CloudFormation shortens long names."""
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(12 if max_length >= 64 else 8))
    room = max_length - len(suffix) - 2
    stack_part, logical_part = stack_name, logical_id
    if len(stack_part) + len(logical_part) > room:
        logical_part = logical_part[: max(room // 2, room - len(stack_part))]
        stack_part = stack_part[: room - len(logical_part)]
    name = f"{stack_part}-{logical_part}-{suffix}"
    return name.lower() if lowercase else name


def tags_dict(tags: Any) -> dict[str, str]:
    if isinstance(tags, dict):
        return {str(key): str(value) for key, value in tags.items()}
    return {tag["Key"]: str(tag["Value"]) for tag in tags or []}


@dataclass
class Provisioned:
    """A created resource: its ``Ref`` value and its ``Fn::GetAtt`` attributes."""

    logical_id: str
    type: str
    ref: Any
    attributes: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)

    def get_att(self, attribute: str) -> Any:
        if attribute not in self.attributes:
            raise UnsupportedResourceError(f"{self.logical_id} ({self.type}) has no attribute {attribute} locally")
        return self.attributes[attribute]


class Provisioners:
    """One method per CloudFormation type, each ``(logical_id, properties) -> Provisioned``."""

    def __init__(self, client: Callable[[str], Any], *, stack_name: str, region: str, account_id: str) -> None:
        self.client = client
        self.stack_name = stack_name
        self.region = region
        self.account_id = account_id
        self.handlers: dict[str, Callable[[str, dict[str, Any]], Provisioned]] = {
            "AWS::SNS::Topic": self.sns_topic,
            "AWS::SNS::Subscription": self.sns_subscription,
            "AWS::SNS::TopicPolicy": self.sns_topic_policy,
            "AWS::SQS::Queue": self.sqs_queue,
            "AWS::SQS::QueuePolicy": self.sqs_queue_policy,
            "AWS::DynamoDB::Table": self.dynamodb_table,
            "AWS::S3::Bucket": self.s3_bucket,
            "AWS::S3::BucketPolicy": self.s3_bucket_policy,
            "AWS::IAM::Role": self.iam_role,
            "AWS::CloudWatch::Alarm": self.cloudwatch_alarm,
            "AWS::CloudWatch::Dashboard": self.cloudwatch_dashboard,
            "AWS::Logs::LogGroup": self.log_group,
            "AWS::SageMaker::ModelPackageGroup": self.model_package_group,
            "AWS::IAM::Policy": self._security(lambda lid, p: security.iam_policy(self.client, lid, p)),
            "AWS::IAM::ManagedPolicy": self._security(
                lambda lid, p: security.iam_managed_policy(self.client, self._name(lid, max_length=128), p)
            ),
            "AWS::KMS::Key": self._security(lambda lid, p: security.kms_key(self.client, p)),
            "AWS::KMS::Alias": self._security(lambda lid, p: security.kms_alias(self.client, p)),
            "AWS::Events::EventBus": self._security(lambda lid, p: events.event_bus(self.client, p)),
            "AWS::Events::EventBusPolicy": self._security(lambda lid, p: events.event_bus_policy(self.client, p)),
            "AWS::Scheduler::ScheduleGroup": self._security(
                lambda lid, p: events.schedule_group(self.client, self._name(lid, max_length=64), p)
            ),
            "AWS::Scheduler::Schedule": self._security(
                lambda lid, p: events.schedule(self.client, self._name(lid, max_length=64), p)
            ),
        }

    @staticmethod
    def _security(
        create: Callable[[str, dict[str, Any]], tuple[str, dict[str, Any]]],
    ) -> Callable[[str, dict[str, Any]], Provisioned]:
        """A handler of :mod:`local.stack.security_resources` or :mod:`local.stack.event_resources`: ``(ref,
        attributes)`` made a ``Provisioned``."""

        def handler(logical_id: str, props: dict[str, Any]) -> Provisioned:
            ref, attributes = create(logical_id, props)
            return Provisioned(logical_id, "", ref, attributes)

        return handler

    def supports(self, resource_type: str) -> bool:
        return resource_type in self.handlers

    def create(self, logical_id: str, resource_type: str, properties: dict[str, Any]) -> Provisioned:
        created = self.handlers[resource_type](logical_id, properties)
        created.type = created.type or resource_type
        created.properties = properties
        return created

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"

    def _name(self, logical_id: str, **kwargs: Any) -> str:
        return physical_name(self.stack_name, logical_id, **kwargs)

    # ------------------------------------------------------------------ SNS
    def sns_topic(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        fifo = str(props.get("FifoTopic", "false")).lower() == "true"
        name = props.get("TopicName") or self._name(logical_id, max_length=251 if fifo else 256)
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {
            key: as_json(props[key]) if key in {"DeliveryPolicy", "DataProtectionPolicy"} else str(props[key])
            for key in ("DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication", "DeliveryPolicy")
            if key in props
        }
        for key in ("FifoTopic", "ContentBasedDeduplication"):
            if key in attributes:
                attributes[key] = attributes[key].lower()
        tags = [{"Key": k, "Value": v} for k, v in tags_dict(props.get("Tags")).items()]
        arn = self.client("sns").create_topic(Name=name, Attributes=attributes, Tags=tags)["TopicArn"]
        for subscription in props.get("Subscription", []):
            self.client("sns").subscribe(
                TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"]
            )
        return Provisioned(logical_id, "AWS::SNS::Topic", arn, {"TopicArn": arn, "TopicName": name})

    def sns_subscription(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        attributes = {
            key: as_json(props[key]) if key in {"FilterPolicy", "RedrivePolicy", "DeliveryPolicy"} else str(props[key])
            for key in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy", "DeliveryPolicy")
            if key in props
        }
        if "RawMessageDelivery" in attributes:
            attributes["RawMessageDelivery"] = attributes["RawMessageDelivery"].lower()
        response = self.client("sns").subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props.get("Endpoint", ""),
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )
        arn = response["SubscriptionArn"]
        return Provisioned(logical_id, "AWS::SNS::Subscription", arn, {"Arn": arn})

    def sns_topic_policy(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        for topic in props["Topics"]:
            self.client("sns").set_topic_attributes(
                TopicArn=topic, AttributeName="Policy", AttributeValue=as_json(props["PolicyDocument"])
            )
        return Provisioned(logical_id, "AWS::SNS::TopicPolicy", self._name(logical_id))

    # ------------------------------------------------------------------ SQS
    _QUEUE_ATTRIBUTES = (
        "DelaySeconds",
        "MaximumMessageSize",
        "MessageRetentionPeriod",
        "ReceiveMessageWaitTimeSeconds",
        "VisibilityTimeout",
        "FifoQueue",
        "ContentBasedDeduplication",
        "DeduplicationScope",
        "FifoThroughputLimit",
        "KmsMasterKeyId",
        "KmsDataKeyReusePeriodSeconds",
        "SqsManagedSseEnabled",
        "RedrivePolicy",
        "RedriveAllowPolicy",
    )

    def sqs_queue(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        fifo = str(props.get("FifoQueue", "false")).lower() == "true"
        name = props.get("QueueName") or self._name(logical_id, max_length=75 if fifo else 80)
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes: dict[str, str] = {}
        for key in self._QUEUE_ATTRIBUTES:
            if key in props:
                value = props[key]
                attributes[key] = as_json(value) if isinstance(value, dict) else str(value)
                if isinstance(value, bool):
                    attributes[key] = str(value).lower()
        url = self.client("sqs").create_queue(QueueName=name, Attributes=attributes, tags=tags_dict(props.get("Tags")))[
            "QueueUrl"
        ]
        arn = self.arn("sqs", name)
        return Provisioned(logical_id, "AWS::SQS::Queue", url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def sqs_queue_policy(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        for queue_url in props["Queues"]:
            self.client("sqs").set_queue_attributes(
                QueueUrl=queue_url, Attributes={"Policy": as_json(props["PolicyDocument"])}
            )
        return Provisioned(logical_id, "AWS::SQS::QueuePolicy", self._name(logical_id))

    # ------------------------------------------------------------------ S3 (policy)
    def s3_bucket_policy(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        """The bucket's policy (``Ref``: the bucket's name, as CloudFormation returns it)."""
        bucket = str(props["Bucket"])
        self.client("s3").put_bucket_policy(Bucket=bucket, Policy=as_json(props["PolicyDocument"]))
        return Provisioned(logical_id, "AWS::S3::BucketPolicy", bucket)

    # ------------------------------------------------------------------ DynamoDB
    def dynamodb_table(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        name = props.get("TableName") or self._name(logical_id)
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if "ProvisionedThroughput" in props:
            request["ProvisionedThroughput"] = {k: int(v) for k, v in props["ProvisionedThroughput"].items()}
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "TableClass", "DeletionProtectionEnabled"):
            if key in props:
                request[key] = props[key]
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        sse = props.get("SSESpecification")
        if sse:
            request["SSESpecification"] = {
                "Enabled": bool(sse.get("SSEEnabled")),
                **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {}),
                **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if "KMSMasterKeyId" in sse else {}),
            }
        if props.get("Tags"):
            request["Tags"] = props["Tags"]
        dynamodb = self.client("dynamodb")
        table = dynamodb.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
            )
        pitr = props.get("PointInTimeRecoverySpecification", {})
        if pitr.get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        attributes = {"Arn": table["TableArn"]}
        if "LatestStreamArn" in table:
            attributes["StreamArn"] = table["LatestStreamArn"]
        return Provisioned(logical_id, "AWS::DynamoDB::Table", name, attributes)

    # ------------------------------------------------------------------ S3
    def s3_bucket(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        name = props.get("BucketName") or self._name(logical_id, max_length=63, lowercase=True)
        s3 = self.client("s3")
        if self.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
        if props.get("VersioningConfiguration"):
            s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]}
            )
        if props.get("BucketEncryption"):
            rules = []
            for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]:
                api_rule: dict[str, Any] = {}
                if "ServerSideEncryptionByDefault" in rule:
                    api_rule["ApplyServerSideEncryptionByDefault"] = rule["ServerSideEncryptionByDefault"]
                if "BucketKeyEnabled" in rule:
                    api_rule["BucketKeyEnabled"] = bool(rule["BucketKeyEnabled"])
                rules.append(api_rule)
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if props.get("PublicAccessBlockConfiguration"):
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if props.get("Tags"):
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": props["Tags"]})
        attributes = {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
            "DualStackDomainName": f"{name}.s3.dualstack.{self.region}.amazonaws.com",
            "WebsiteURL": f"http://{name}.s3-website-{self.region}.amazonaws.com",
        }
        return Provisioned(logical_id, "AWS::S3::Bucket", name, attributes)

    # ------------------------------------------------------------------ IAM
    def iam_role(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        name = props.get("RoleName") or self._name(logical_id, max_length=64)
        iam = self.client("iam")
        request: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": as_json(props["AssumeRolePolicyDocument"]),
            "Path": props.get("Path", "/"),
        }
        for key in ("Description", "MaxSessionDuration", "PermissionsBoundary"):
            if key in props:
                request[key] = props[key]
        if props.get("Tags"):
            request["Tags"] = props["Tags"]
        role = iam.create_role(**request)["Role"]
        for policy in props.get("Policies", []):
            document = policy["PolicyDocument"]
            if isinstance(document, dict) and "Version" not in document:
                # IAM accepts a policy without Version (it means 2008-10-17); moto insists on 2012-10-17
                document = {"Version": "2012-10-17", **document}
            iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=as_json(document))
        for policy_arn in props.get("ManagedPolicyArns", []):
            try:
                iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
            except iam.exceptions.NoSuchEntityException:
                logger.debug("%s: managed policy %s unknown to the embedded IAM; not attached", logical_id, policy_arn)
        return Provisioned(logical_id, "AWS::IAM::Role", name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    # ------------------------------------------------------------------ CloudWatch
    _ALARM_KEYS = (
        "AlarmDescription",
        "ActionsEnabled",
        "OKActions",
        "AlarmActions",
        "InsufficientDataActions",
        "MetricName",
        "Namespace",
        "Statistic",
        "ExtendedStatistic",
        "Dimensions",
        "Period",
        "Unit",
        "EvaluationPeriods",
        "DatapointsToAlarm",
        "Threshold",
        "ComparisonOperator",
        "TreatMissingData",
        "EvaluateLowSampleCountPercentile",
        "Metrics",
        "ThresholdMetricId",
        "Tags",
    )

    def cloudwatch_alarm(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        name = props.get("AlarmName") or self._name(logical_id)
        request: dict[str, Any] = {"AlarmName": name}
        for key in self._ALARM_KEYS:
            if key in props:
                request[key] = props[key]
        for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if key in request:
                request[key] = int(request[key])
        if "Threshold" in request:
            request["Threshold"] = float(request["Threshold"])
        self.client("cloudwatch").put_metric_alarm(**request)
        return Provisioned(logical_id, "AWS::CloudWatch::Alarm", name, {"Arn": self.arn("cloudwatch", f"alarm:{name}")})

    def cloudwatch_dashboard(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        """``PutDashboard``; ``Ref``: the name (CloudFormation gives the type no ``Fn::GetAtt`` attribute)."""
        name = props.get("DashboardName") or self._name(logical_id, max_length=255)
        body = props["DashboardBody"]
        if not isinstance(body, str):  # CloudFormation's schema: a string (of JSON), not an object
            raise TemplateError(f"{logical_id}: DashboardBody must be a string of JSON, got {type(body).__name__}")
        # What CloudWatch refuses (InvalidParameterInput) and moto accepts: a name of other characters, a body
        # without a widgets array. A body that is not JSON, moto refuses itself.
        if not _DASHBOARD_NAME.fullmatch(name):
            raise TemplateError(
                f"{logical_id}: DashboardName {name!r} must be 1 to 255 alphanumerics, dashes (-) and underscores (_)"
            )
        try:
            parsed = json.loads(body)
        except ValueError:
            pass  # PutDashboard refuses it
        else:
            if not isinstance(parsed, dict) or not isinstance(parsed.get("widgets"), list):
                raise TemplateError(f"{logical_id}: DashboardBody is invalid: it should have a 'widgets' array")
        self.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=body)
        return Provisioned(logical_id, "AWS::CloudWatch::Dashboard", name)

    # ------------------------------------------------------------------ Logs
    def log_group(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        name = props.get("LogGroupName") or self._name(logical_id, max_length=512)
        logs = self.client("logs")
        request: dict[str, Any] = {"logGroupName": name}
        if props.get("KmsKeyId"):
            request["kmsKeyId"] = props["KmsKeyId"]
        if props.get("Tags"):
            request["tags"] = tags_dict(props["Tags"])
        logs.create_log_group(**request)
        if "RetentionInDays" in props:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        return Provisioned(logical_id, "AWS::Logs::LogGroup", name, {"Arn": self.arn("logs", f"log-group:{name}:*")})

    # ------------------------------------------------------------------ SageMaker
    def model_package_group(self, logical_id: str, props: dict[str, Any]) -> Provisioned:
        name = props.get("ModelPackageGroupName") or self._name(logical_id, max_length=63)
        request: dict[str, Any] = {"ModelPackageGroupName": name}
        if "ModelPackageGroupDescription" in props:
            request["ModelPackageGroupDescription"] = props["ModelPackageGroupDescription"]
        if props.get("Tags"):
            request["Tags"] = props["Tags"]
        sagemaker = self.client("sagemaker")
        arn = sagemaker.create_model_package_group(**request)["ModelPackageGroupArn"]
        if props.get("ModelPackageGroupPolicy"):  # CloudFormation: a JSON object (or its text)
            policy = props["ModelPackageGroupPolicy"]
            policy_text = policy if isinstance(policy, str) else json.dumps(policy)
            sagemaker.put_model_package_group_policy(ModelPackageGroupName=name, ResourcePolicy=policy_text)
        attributes = {"ModelPackageGroupArn": arn, "ModelPackageGroupStatus": "Completed"}
        return Provisioned(logical_id, "AWS::SageMaker::ModelPackageGroup", arn, attributes)


def lambda_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{account_id}:function:{name}"


def cloudformation_attributes(provisioned: Mapping[str, Provisioned]) -> dict[str, dict[str, Any]]:
    """``{logical_id: {"Ref": ..., **attributes}}`` (for debugging and ``serve`` output)."""
    return {lid: {"Ref": item.ref, **item.attributes} for lid, item in provisioned.items()}
