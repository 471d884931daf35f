"""Starting a scheduled drift check: what the starter reads (the served version, its baseline), what it stages and
starts, and what it does when there is nothing to check, on the embedded AWS's SageMaker and S3."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.aws import EmbeddedAWS
from sm_lifecycle.drift.model import Window
from sm_lifecycle.drift.s3 import CapturedRequests, DriftObjects
from sm_lifecycle.drift.sagemaker import DriftPipelines
from sm_lifecycle.drift.starter import CheckStaging, DriftCheckStarter
from sm_lifecycle.kernel.endpoints import LiveEndpoint
from sm_lifecycle.kernel.errors import ConfigurationError
from tests.unit.drift.test_monitor import settings

NOW = datetime(2026, 12, 7, 12, 0, 30, 250000, tzinfo=UTC)
SINCE = datetime(2026, 12, 7, 11, 40, tzinfo=UTC)
GROUP = "fraud-detector-dev"


class Live:
    def __init__(self, found: LiveEndpoint | None) -> None:
        self.found = found

    def live(self, endpoint: str) -> LiveEndpoint | None:
        return self.found


@pytest.fixture
def aws(embedded_aws: EmbeddedAWS) -> EmbeddedAWS:
    return embedded_aws


def registry(aws: Any, *, baseline: bool) -> tuple[str, Any]:
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    s3.create_bucket(Bucket="artifacts")
    for name in ("constraints.json", "reference.csv", "statistics.json"):
        s3.put_object(Bucket="artifacts", Key=f"fraud-pipeline-dev/e1/Preprocess/baseline/{name}", Body=b"{}")
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    request: dict[str, Any] = {"ModelPackageGroupName": GROUP, "ModelApprovalStatus": "Approved"}
    if baseline:
        uri = "s3://artifacts/fraud-pipeline-dev/e1/Preprocess/baseline"
        request["DriftCheckBaselines"] = {
            "ModelDataQuality": {
                "Constraints": {"ContentType": "application/json", "S3Uri": f"{uri}/constraints.json"},
                "Statistics": {"ContentType": "application/json", "S3Uri": f"{uri}/statistics.json"},
            }
        }
    return sm.create_model_package(**request)["ModelPackageArn"], s3


def capture(s3: Any, version: int, hour: str) -> None:
    """A captured request in version ``version``'s folder, in SageMaker's key layout, at ``hour`` (yyyy/mm/dd/hh)."""
    key = f"data-capture/fraud-detector-dev/v{version}/fraud-detector-dev/AllTraffic/{hour}/05-00-000-x.jsonl"
    s3.put_object(Bucket="artifacts", Key=key, Body=b"{}\n")


class Started:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def start(self, pipeline: str, parameters: dict[str, str], **kwargs: Any) -> str:
        self.requests.append({"pipeline": pipeline, "parameters": parameters, **kwargs})
        return f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{pipeline}/execution/x1"


def starter(aws: Any, live: LiveEndpoint | None, alerts: list[Any]) -> tuple[DriftCheckStarter, Started]:
    pipelines = DriftPipelines(aws.client("sagemaker"))
    started = Started()
    pipelines.start = started.start  # type: ignore[method-assign]  # the pipeline itself is the stack tests'
    s3 = aws.client("s3")
    configured = settings(DRIFT_WINDOW_HOURS="2", DATA_CAPTURE_S3_URI="s3://artifacts/data-capture")
    staging = CheckStaging(
        pipelines, DriftObjects(s3, "artifacts"), CapturedRequests(s3, configured.required_capture_uri())
    )
    made = DriftCheckStarter(configured, Live(live), pipelines, staging, lambda *a: alerts.append(a))  # type: ignore[arg-type]
    return made, started


def live(arn: str | None) -> LiveEndpoint:
    return LiveEndpoint("fraud-detector-dev", "InService", "fraud-detector-dev-v1-abc", arn, SINCE)


def test_a_check_stages_the_served_versions_baseline_from_when_it_serves_and_starts(aws: Any) -> None:
    arn, s3 = registry(aws, baseline=True)
    capture(s3, 1, "2026/12/07/11")
    capture(s3, 1, "2026/12/07/09")  # before the window: not in its manifest
    alerts: list[Any] = []
    made, started = starter(aws, live(arn), alerts)
    outcome = made.start("firing-1", now=NOW)
    window = Window.last(timedelta(hours=2), NOW)
    assert (outcome["status"], outcome["version"], outcome["window"]) == ("started", 1, window.name)
    assert outcome["execution_arn"].endswith("/execution/x1")
    assert started.requests[0]["display_name"] == f"drift-{window.name}"
    assert window.end == datetime(2026, 12, 7, 12, 0, 31, tzinfo=UTC)
    assert window.start == window.end - timedelta(hours=2)
    prefix = f"drift/fraud-detector-dev/{window.name}"
    served = json.loads(s3.get_object(Bucket="artifacts", Key=f"{prefix}/baselines/served.json")["Body"].read())
    assert served == [{"version": 1, "from": "2026-12-07T11:40:00.000000Z", "to": None}]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="artifacts", Prefix=f"{prefix}/baselines/v1/")["Contents"]}
    assert keys == {f"{prefix}/baselines/v1/constraints.json", f"{prefix}/baselines/v1/reference.csv"}
    (request,) = started.requests
    assert request["pipeline"] == "fraud-detector-dev-drift-check"
    assert request["parameters"]["OutputUri"] == f"s3://artifacts/{prefix}/result"
    assert request["parameters"]["CaptureManifestUri"] == f"s3://artifacts/{prefix}/capture.manifest"
    manifest = json.loads(s3.get_object(Bucket="artifacts", Key=f"{prefix}/capture.manifest")["Body"].read())
    assert manifest == [
        {"prefix": "s3://artifacts/data-capture/fraud-detector-dev/"},
        "v1/fraud-detector-dev/AllTraffic/2026/12/07/11/05-00-000-x.jsonl",
    ]
    assert (request["parameters"]["WindowStart"], request["parameters"]["WindowEnd"]) == (
        "2026-12-07T10:00:31Z",
        "2026-12-07T12:00:31Z",
    )
    assert alerts == []


def test_the_same_firing_asks_for_the_same_execution_another_for_another(aws: Any) -> None:
    arn, s3 = registry(aws, baseline=True)
    capture(s3, 1, "2026/12/07/11")
    made, started = starter(aws, live(arn), [])
    made.start("firing-1", now=NOW), made.start("firing-1", now=NOW), made.start("firing-2", now=NOW)
    tokens = [r["token"] for r in started.requests]
    assert tokens[0] == tokens[1] != tokens[2]


@pytest.mark.parametrize(("found", "reason"), [(None, "does not exist"), (live(None), "serves no tagged version")])
def test_nothing_served_is_idle_without_alert(aws: Any, found: LiveEndpoint | None, reason: str) -> None:
    alerts: list[Any] = []
    made, started = starter(aws, found, alerts)
    outcome = made.start("firing-1", now=NOW)
    assert outcome["status"] == "idle" and reason in outcome["reason"]
    assert started.requests == [] and alerts == []


def test_a_version_without_baseline_alerts_and_starts_nothing(aws: Any) -> None:
    arn, s3 = registry(aws, baseline=False)
    alerts: list[Any] = []
    made, started = starter(aws, live(arn), alerts)
    assert made.start("firing-1", now=NOW)["status"] == "no-baseline"
    ((subject, message, key),) = alerts
    assert "no baseline" in subject and arn in message and key == {"package": arn, "problem": "no-baseline"}
    assert started.requests == [] and "Contents" not in s3.list_objects_v2(Bucket="artifacts", Prefix="drift/")


def test_the_baselines_of_the_other_versions_that_served_the_window_are_staged_too(aws: Any) -> None:
    # GIVEN v1..v4 with baselines; the endpoint serves v3 since 11:40, the window is 10:00:31-12:00:31
    first, s3 = registry(aws, baseline=True)
    sm = aws.client("sagemaker")
    package = sm.describe_model_package(ModelPackageName=first)
    arns = [first] + [
        sm.create_model_package(
            ModelPackageGroupName=GROUP,
            ModelApprovalStatus="Approved",
            DriftCheckBaselines=package["DriftCheckBaselines"],
        )["ModelPackageArn"]
        for _ in range(3)
    ]
    capture(s3, 1, "2026/12/07/10")  # v1 served before the rollout to v3 (and v3's first minutes, blue/green)
    capture(s3, 2, "2026/12/07/08")  # v2: only before the window
    capture(s3, 3, "2026/12/07/11")
    capture(s3, 4, "2026/12/07/13")  # v4: only after the window
    capture(s3, 9, "2026/12/07/12")  # v9: deleted from the registry
    made, _ = starter(aws, live(arns[2]), [])

    # WHEN the check starts
    assert made.start("firing-1", now=NOW)["status"] == "started"

    # THEN v1's and v3's baselines are staged beside it, v3 being the one serving since 11:40
    prefix = f"drift/fraud-detector-dev/{Window.last(timedelta(hours=2), NOW).name}/baselines"
    keys = {
        o["Key"].removeprefix(f"{prefix}/") for o in s3.list_objects_v2(Bucket="artifacts", Prefix=prefix)["Contents"]
    }
    assert keys == {
        "served.json",
        *(f"v{n}/{name}" for n in (1, 3) for name in ("constraints.json", "reference.csv")),
    }
    served = json.loads(s3.get_object(Bucket="artifacts", Key=f"{prefix}/served.json")["Body"].read())
    assert served == [{"version": 3, "from": "2026-12-07T11:40:00.000000Z", "to": None}]
    # AND the manifest names the window's requests: v1's, v3's, and v9's (its records count unserved)
    manifest = json.loads(
        s3.get_object(Bucket="artifacts", Key=f"{prefix.rsplit('/', 1)[0]}/capture.manifest")["Body"].read()
    )
    assert sorted(key.split("/", 1)[0] for key in manifest[1:]) == ["v1", "v3", "v9"]


def test_a_window_without_captured_requests_is_insufficient_data_and_starts_nothing(aws: Any) -> None:
    arn, s3 = registry(aws, baseline=True)
    capture(s3, 1, "2026/12/07/08")
    made, started = starter(aws, live(arn), [])
    outcome = made.start("firing-1", now=NOW)
    assert (outcome["status"], outcome["records"], outcome["version"]) == ("insufficient-data", 0, 1)
    assert started.requests == [] and "Contents" not in s3.list_objects_v2(Bucket="artifacts", Prefix="drift/")


def test_requests_captured_before_versions_had_folders_are_in_the_manifest(aws: Any) -> None:
    arn, s3 = registry(aws, baseline=True)
    key = "data-capture/fraud-detector-dev/AllTraffic/2026/12/07/11/05-00-000-x.jsonl"
    s3.put_object(Bucket="artifacts", Key=key, Body=b"{}\n")
    made, started = starter(aws, live(arn), [])
    assert made.start("firing-1", now=NOW)["status"] == "started"
    uri = started.requests[0]["parameters"]["CaptureManifestUri"]
    manifest = json.loads(s3.get_object(Bucket="artifacts", Key=uri.split("/", 3)[3])["Body"].read())
    assert manifest[1:] == ["AllTraffic/2026/12/07/11/05-00-000-x.jsonl"]


@pytest.mark.parametrize("value", ["", "artifacts/data-capture"])
def test_the_starter_needs_where_the_endpoint_captures(value: str) -> None:
    with pytest.raises(ConfigurationError, match="DATA_CAPTURE_S3_URI"):
        settings(DATA_CAPTURE_S3_URI=value).required_capture_uri()
