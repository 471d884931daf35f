"""The endpoint as SageMaker shows it now, and the package version its current config serves: the deployer's
``model-package-arn`` tag on the config (:mod:`sm_lifecycle.kernel.tags`). What the stage gate bakes and the drift
check compares; AWS errors mapped to the kernel's taxonomy.

Where an endpoint's requests are captured: each version's config captures under its own folder,
``<DATA_CAPTURE_S3_URI>/<endpoint>/v<N>`` (:func:`capture_destination`), below which SageMaker writes
``<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl``. A captured record's key names the version that served it, also
while a blue/green rollout shares the traffic between two versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel import tags
from sm_lifecycle.kernel.clients import classify, is_not_found
from sm_lifecycle.kernel.timestamps import optional_utc_datetime

if TYPE_CHECKING:
    from types_boto3_sagemaker.client import SageMakerClient

VARIANT_NAME = "AllTraffic"  # the one production variant of the deployer's endpoint configs


def capture_destination(capture_uri: str, endpoint: str, version: int) -> str:
    """The ``DestinationS3Uri`` of version ``version``'s config: ``<capture_uri>/<endpoint>/v<version>``."""
    return f"{capture_uri.rstrip('/')}/{endpoint}/v{version}"


def capture_variant_prefix(version_folder: str, endpoint: str) -> str:
    """Where SageMaker writes below a version's capture folder (``.../v<N>/``); then ``capture_hour(at)/<file>``."""
    return f"{version_folder}{endpoint}/{VARIANT_NAME}/"


def capture_hour(at: datetime) -> str:
    """SageMaker's hour partition of a captured request: ``yyyy/mm/dd/hh`` (UTC)."""
    return f"{at.astimezone(UTC):%Y/%m/%d/%H}"


@dataclass(frozen=True)
class LiveEndpoint:
    """The endpoint as SageMaker shows it now, and the package version its current config serves."""

    name: str
    status: str
    config_name: str
    package_arn: str | None
    since: datetime  # LastModifiedTime: when it became what it is


class Endpoints:
    def __init__(self, sagemaker: SageMakerClient) -> None:
        self._sm = sagemaker

    def live(self, endpoint: str) -> LiveEndpoint | None:
        """The endpoint and the package its current config serves; None when there is no endpoint."""
        try:
            described = self._sm.describe_endpoint(EndpointName=endpoint)
            config = str(described.get("EndpointConfigName") or "")
            # the config's ARN is the endpoint's with the config's name (both in SageMaker's lower case)
            prefix = str(described["EndpointArn"]).split(":endpoint/", 1)[0]
            config_tags = self._sm.list_tags(ResourceArn=f"{prefix}:endpoint-config/{config.lower()}")["Tags"]
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise classify(exc, what=f"DescribeEndpoint {endpoint}") from exc
        except BotoCoreError as exc:
            raise classify(exc, what=f"DescribeEndpoint {endpoint}") from exc
        by_key = {t["Key"]: t["Value"] for t in config_tags}
        since = optional_utc_datetime(described.get("LastModifiedTime")) or datetime.now(UTC)
        return LiveEndpoint(
            name=endpoint,
            status=str(described["EndpointStatus"]),
            config_name=config,
            package_arn=by_key.get(tags.MODEL_PACKAGE_ARN),
            since=since,
        )
