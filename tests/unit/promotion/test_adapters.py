"""The boto3 adapters of promotion against the embedded AWS (no stack, no worker processes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.aws import EmbeddedAWS, Timings
from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.artifacts import ArtifactLocation
from sm_lifecycle.kernel.errors import ConflictError
from sm_lifecycle.kernel.idempotency import idempotent
from sm_lifecycle.promotion.metrics import MetricsReportError
from sm_lifecycle.promotion.s3 import S3ReportStore
from sm_lifecycle.promotion.sagemaker import MODEL_PACKAGE_ARN_TAG, EndpointChampionLocator, SageMakerRegistry
from sm_lifecycle.promotion.service import KEY_PREFIX, Outcome, Result, judge_once
from tests.support import LambdaContext

GROUP = "fraud-detector-dev"
ENDPOINT = "fraud-detector-dev"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


@pytest.fixture
def aws() -> Iterator[EmbeddedAWS]:
    embedded = EmbeddedAWS(timings=Timings()).start()
    try:
        yield embedded
    finally:
        embedded.stop()


@pytest.fixture
def sagemaker(aws: EmbeddedAWS) -> Any:
    client = aws.client("sagemaker")
    client.create_model_package_group(ModelPackageGroupName=GROUP)
    return client


def register(sagemaker: Any, status: str = "Approved") -> str:
    return sagemaker.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus=status,
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": "s3://bucket/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]


def serve(aws: EmbeddedAWS, sagemaker: Any, package_arn: str, *, tag: bool, suffix: str = "v1") -> None:
    """Create model, endpoint config (tagged with the package if ``tag``) and endpoint (or update it)."""
    model = f"{ENDPOINT}-{suffix}"
    sagemaker.create_model(ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={"ModelPackageName": package_arn})
    tags = [{"Key": MODEL_PACKAGE_ARN_TAG, "Value": package_arn}] if tag else []
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": model,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }
    sagemaker.create_endpoint_config(EndpointConfigName=model, ProductionVariants=[variant], Tags=tags)
    try:
        sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=model)
    except sagemaker.exceptions.ClientError:
        sagemaker.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=model)
    aws.wait_idle()


def test_champion_is_the_package_named_by_the_live_config_tag(aws, sagemaker):
    # GIVEN v1 served, then v2 served (the endpoint now runs v2's config)
    v1, v2 = register(sagemaker), register(sagemaker)
    serve(aws, sagemaker, v1, tag=True, suffix="v1")
    serve(aws, sagemaker, v2, tag=True, suffix="v2")

    # THEN the live package is v2
    assert EndpointChampionLocator(sagemaker, ENDPOINT).live_package_arn() == v2


def test_untagged_config_falls_back_to_the_model_s_package(aws, sagemaker):
    v1 = register(sagemaker)
    serve(aws, sagemaker, v1, tag=False)
    assert EndpointChampionLocator(sagemaker, ENDPOINT).live_package_arn() == v1


def test_no_endpoint_means_no_live_champion(sagemaker):
    assert EndpointChampionLocator(sagemaker, ENDPOINT).live_package_arn() is None


def test_newest_approved_ignores_pending_and_rejected(sagemaker):
    registry = SageMakerRegistry(sagemaker)
    assert registry.newest_approved(GROUP) is None
    approved = register(sagemaker)
    register(sagemaker, "PendingManualApproval")
    register(sagemaker, "Rejected")
    assert registry.newest_approved(GROUP) == approved


def test_registry_reads_the_report_location_and_writes_the_decision(aws, sagemaker):
    package = sagemaker.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": IMAGE}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelMetrics={"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://b/k.json"}}},
    )["ModelPackageArn"]
    registry = SageMakerRegistry(sagemaker)
    described = registry.describe(package)
    assert (described.group, described.version, described.status, described.metrics_uri) == (
        GROUP,
        1,
        "PendingManualApproval",
        "s3://b/k.json",
    )
    registry.decide(package, "Rejected", "auc 0.7: auc>=0.8 FAIL")
    response = sagemaker.describe_model_package(ModelPackageName=package)
    assert (response["ModelApprovalStatus"], response["ApprovalDescription"]) == ("Rejected", "auc 0.7: auc>=0.8 FAIL")


def test_report_store_reads_small_objects_and_refuses_the_rest(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="artifacts", Key="pipeline/a/evaluation.json", Body=b'{"x": 1}')
    s3.put_object(Bucket="artifacts", Key="pipeline/big.json", Body=b" " * 2048)
    store = S3ReportStore(s3, ArtifactLocation("artifacts", "pipeline/"), max_bytes=1024)

    assert store.read("s3://artifacts/pipeline/a/evaluation.json") == b'{"x": 1}'
    with pytest.raises(MetricsReportError, match="more than the 1024 allowed"):
        store.read("s3://artifacts/pipeline/big.json")
    with pytest.raises(MetricsReportError, match="NoSuchKey"):
        store.read("s3://artifacts/pipeline/missing.json")


@pytest.mark.parametrize(
    "uri",
    [
        "s3://someone-elses-bucket/pipeline/a/evaluation.json",  # another bucket (another account's)
        "s3://artifacts/data-capture/endpoint/AllTraffic/2026/12/01/10/x.jsonl",  # captured traffic
        "s3://artifacts/pipeline/../data-capture/x.jsonl",  # out of the prefix by a relative segment
        "s3://artifacts/pipeline%2F/../x",
        "s3://artifacts/pipelinex/a.json",
        "https://artifacts.s3.amazonaws.com/pipeline/a/evaluation.json",
        "",
    ],
)
def test_report_store_reads_nothing_outside_the_pipeline_s_artifacts_nor_names_it(aws, uri):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="artifacts")
    store = S3ReportStore(s3, ArtifactLocation("artifacts", "pipeline/"))
    calls: list[str] = []
    s3.meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))
    with pytest.raises(MetricsReportError) as refused:
        store.read(uri)
    assert calls == []  # not even tried
    assert "outside the pipeline's artifacts (s3://artifacts/pipeline/)" in str(refused.value)
    assert "data-capture" not in str(refused.value) and "someone-elses" not in str(refused.value)


class CountingService:
    """A PromotionService stand-in that counts judgements (and can judge re-entrantly)."""

    def __init__(self) -> None:
        self.calls = 0
        self.inner: Any = None

    def judge(self, package_arn: str) -> Result:
        self.calls += 1
        if self.inner is not None:
            self.inner()
        return Result(Outcome.APPROVED, package_arn, "ok")


def test_judge_once_per_package_arn(aws, monkeypatch):
    # GIVEN the idempotency table of the template (key "id") and the shared clients pointed at the embedded AWS
    for name, value in aws.env().items():
        monkeypatch.setenv(name, value)
    clients.reset()
    aws.client("dynamodb").create_table(
        TableName="idempotency",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    service = CountingService()

    def judge(judged: Any, package_arn: str) -> dict[str, Any]:
        once = idempotent("idempotency", key_prefix=KEY_PREFIX)
        return judge_once(judged, package_arn, once, context=LambdaContext("PromoteFunction"))

    # WHEN the same package is judged twice and another once
    first = judge(service, "arn:p/1")
    again = judge(service, "arn:p/1")
    other = judge(service, "arn:p/2")

    # THEN the duplicate got the stored result, marked as such, without a second judgement
    assert service.calls == 2
    assert first["status"] == "approved"
    assert again == {**first, "status": "duplicate", "judged": "approved"}
    assert other["package_arn"] == "arn:p/2"

    # AND a duplicate arriving while the first is still running is a conflict, not a second judgement
    service.inner = lambda: judge(CountingService(), "arn:p/3")
    with pytest.raises(ConflictError):
        judge(service, "arn:p/3")
    clients.reset()


def test_one_package_spelled_in_two_cases_is_judged_once(aws, monkeypatch):
    # GIVEN the idempotency table of the template and the shared clients pointed at the embedded AWS
    for name, value in aws.env().items():
        monkeypatch.setenv(name, value)
    clients.reset()
    aws.client("dynamodb").create_table(
        TableName="idempotency",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    service = CountingService()
    prefix = "arn:aws:sagemaker:us-east-1:123456789012:model-package/"

    # WHEN an event names the package with the group's upper-case letters, and another as SageMaker spells it
    results = [
        judge_once(
            service, arn, idempotent("idempotency", key_prefix=KEY_PREFIX), context=LambdaContext("PromoteFunction")
        )
        for arn in (f"{prefix}Fraud-Detector/7", f"{prefix}fraud-detector/7")
    ]

    # THEN it is judged once; the second delivery is the duplicate
    assert service.calls == 1
    assert [r["status"] for r in results] == ["approved", "duplicate"]
    clients.reset()
