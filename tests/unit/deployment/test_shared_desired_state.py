"""A deployment account's desired state at its stage, read from the registry account's group: one cross-account
``Search`` on the stage once the group is discoverable (its RAM share promoted and accepted), by ARN otherwise."""

from __future__ import annotations

import json
import logging

import pytest

from local.aws import EmbeddedAWS
from sm_lifecycle.deployment.sagemaker import SageMakerGateway
from sm_lifecycle.kernel.stages import Stage
from tests.worlds.deployment import IMAGE
from tools.registry_share import accept, promote

REGISTRY, DEPLOYMENT, OTHER = "123456789012", "222222222222", "333333333333"
GROUP = "churn"
READS = ["sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]


def group_of(aws: EmbeddedAWS, account: str, *lifecycles: tuple[str, str]) -> str:
    """A group named ``GROUP`` in ``account`` with one approved version per lifecycle, its policy admitting the
    deployment account; its ARN."""
    sm = aws.client("sagemaker", account_id=account)
    arn = str(sm.create_model_package_group(ModelPackageGroupName=GROUP)["ModelPackageGroupArn"])
    for stage, status in lifecycles:
        sm.create_model_package(
            ModelPackageGroupName=GROUP,
            ModelApprovalStatus="Approved",
            InferenceSpecification={
                "Containers": [{"Image": IMAGE}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            ModelLifeCycle={"Stage": stage, "StageStatus": status},
        )
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{DEPLOYMENT}:root"},
        "Action": READS,
        "Resource": [arn, arn.replace(":model-package-group/", ":model-package/") + "/*"],
    }
    sm.put_model_package_group_policy(
        ModelPackageGroupName=GROUP, ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )
    return arn


def share(aws: EmbeddedAWS, owner: str, group_arn: str) -> None:
    """``make share-registry``: the owner promotes the group's share, the deployment account accepts it."""
    promote(aws.client("ram", account_id=owner), group_arn)
    assert accept(aws.client("ram", account_id=DEPLOYMENT), owner)


class Lookup:
    """The deployment account's lookups, with the SageMaker calls each one made."""

    def __init__(self, aws: EmbeddedAWS) -> None:
        self.sm = aws.client("sagemaker", account_id=DEPLOYMENT)
        self.calls: list[str] = []
        self.sm.meta.events.register("before-call.sagemaker.*", lambda model, **_: self.calls.append(model.name))

    def newest(self, group_arn: str, stage: Stage) -> tuple[str | None, list[str]]:
        self.calls.clear()
        found = SageMakerGateway(self.sm).newest_eligible(group_arn, stage)
        return (found.arn if found else None), list(self.calls)


@pytest.fixture
def registry(embedded_aws: EmbeddedAWS) -> str:
    """v1 deployed in production, v2 deployed in staging, v3 approved in development."""
    return group_of(
        embedded_aws, REGISTRY, ("Production", "Deployed"), ("Staging", "Deployed"), ("Development", "Approved")
    )


def test_a_shared_group_s_stage_is_one_cross_account_search(embedded_aws: EmbeddedAWS, registry: str) -> None:
    share(embedded_aws, REGISTRY, registry)
    lookup = Lookup(embedded_aws)
    versions = registry.replace(":model-package-group/", ":model-package/")
    assert lookup.newest(registry, Stage.PRODUCTION) == (f"{versions}/1", ["Search"])
    assert lookup.newest(registry, Stage.STAGING) == (f"{versions}/2", ["Search"])
    assert lookup.newest(registry, Stage.DEVELOPMENT) == (f"{versions}/3", ["Search"])


def test_versions_of_a_same_named_group_another_account_shares_are_never_chosen(
    embedded_aws: EmbeddedAWS, registry: str
) -> None:
    # GIVEN another account shares a group of the same name whose newest version is live in production
    other = group_of(embedded_aws, OTHER, *[("Production", "Deployed")] * 5)
    share(embedded_aws, REGISTRY, registry)
    share(embedded_aws, OTHER, other)
    # THEN the deployment account's production still follows the registry's v1
    found, _ = Lookup(embedded_aws).newest(registry, Stage.PRODUCTION)
    assert found == registry.replace(":model-package-group/", ":model-package/") + "/1"


def test_no_version_at_the_stage_yet_is_told_from_the_shared_groups_without_listing_the_group(
    embedded_aws: EmbeddedAWS,
) -> None:
    registry = group_of(embedded_aws, REGISTRY, ("Development", "Approved"), ("Staging", "PendingApproval"))
    share(embedded_aws, REGISTRY, registry)
    assert Lookup(embedded_aws).newest(registry, Stage.PRODUCTION) == (
        None,
        ["Search", "ListModelPackageGroups"],
    )


@pytest.mark.parametrize("accepted", [False, True], ids=["share-not-promoted", "invitation-not-accepted"])
def test_a_group_not_discoverable_is_read_by_arn_with_a_warning(
    embedded_aws: EmbeddedAWS, registry: str, accepted: bool, caplog: pytest.LogCaptureFixture
) -> None:
    if accepted:  # promoted, but the deployment account has not accepted the invitation
        promote(embedded_aws.client("ram", account_id=REGISTRY), registry)
    lookup = Lookup(embedded_aws)
    with caplog.at_level(logging.WARNING):
        found, calls = lookup.newest(registry, Stage.STAGING)
    assert found == registry.replace(":model-package-group/", ":model-package/") + "/2"
    assert calls == ["Search", "ListModelPackageGroups", "ListModelPackages"]
    [warning] = [r for r in caplog.records if "not discoverable across accounts" in r.getMessage()]
    assert warning.levelno == logging.WARNING and warning.model_package_group == registry
