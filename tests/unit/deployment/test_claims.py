"""No silent stall: a deployment claim whose mutation was refused is released at once; one whose outcome is unknown is
checked against the endpoint at the next wake-up; a version a claim keeps waiting too long is alerted, once.

The deploy reconcile in this process, on the embedded AWS with the stack's resources."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from sm_lifecycle.deployment import reconciler_for
from sm_lifecycle.deployment.dynamodb import DeploymentLedger
from sm_lifecycle.deployment.reconciler import Reconciler
from sm_lifecycle.kernel.errors import RefusedError, TransientError

if TYPE_CHECKING:
    from sm_lifecycle.deployment import DeploySettings
    from tests.unit.deployment.conftest import Env

pytestmark = pytest.mark.slow


class LostUpdate:
    """Wraps the SageMaker client: the next UpdateEndpoint ends in a botocore timeout or a closed connection, after
    SageMaker applied it or not (the caller cannot tell)."""

    def __init__(self, client: Any, *, applied: bool, error: Exception) -> None:
        self._client, self.applied, self.error, self.armed = client, applied, error, True

    def update_endpoint(self, **kwargs: Any) -> Any:
        if self.armed:
            self.armed = False
            if self.applied:
                self._client.update_endpoint(**kwargs)
            raise self.error
        return self._client.update_endpoint(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class Alerts(list[tuple[str, str, str]]):
    def __call__(self, subject: str, message: str, severity: str) -> None:
        self.append((subject, message, severity))


def reconciler(
    env: Env, *, at: timedelta = timedelta(0), settings: DeploySettings | None = None, lost: LostUpdate | None = None
) -> Reconciler:
    """The deploy function's reconciler, its clock ``at`` from now, its alerts recorded in ``.alert``."""
    made = reconciler_for(settings or env.settings)
    made.clock = lambda: datetime.now(UTC) + at
    made.alert = Alerts()
    if lost is not None:
        lost._client = made.gateway._mutations
        made.gateway._mutations = lost
    return made


def claim_in_ledger(env: Env) -> dict[str, Any] | None:
    item = env.aws.client("dynamodb").get_item(
        TableName=env.settings.state_table_name, Key=DeploymentLedger.key(env.settings.endpoint_name)
    )
    claim: dict[str, Any] | None = item.get("Item", {}).get("claim")
    return claim


def serves_v2(env: Env) -> bool:
    config = env.sm.describe_endpoint(EndpointName=env.settings.endpoint_name)["EndpointConfigName"]
    return str(config).startswith(f"{env.settings.endpoint_name}-v2-")


def lost_update(env: Env, *, applied: bool, error: Exception) -> dict[str, Any]:
    """GIVEN v1 live, v2 approved, and its UpdateEndpoint ending in ``error``; v2's approval."""
    assert env.run(reconciler(env), env.approved(), "request-1") == "created"
    approval = env.approved()
    with pytest.raises(TransientError) as raised:
        env.run(reconciler(env, lost=LostUpdate(None, applied=applied, error=error)), approval, "request-2")
    assert not isinstance(raised.value, RefusedError)  # the outcome is unknown, not a refusal
    return approval


@pytest.mark.parametrize("fault", ["throttle", "unavailable", "internal"])
def test_a_refused_update_releases_its_claim_and_the_next_wake_up_deploys(env: Env, fault: str) -> None:
    # GIVEN v1 live, and SageMaker refusing the next UpdateEndpoint (throttled, 503, 500)
    assert env.run(reconciler(env), env.approved(), "request-1") == "created"
    approval = env.approved()
    env.aws.control.inject_service_fault("sagemaker", "UpdateEndpoint", fault, times=1)

    # WHEN the deploy attempt meets it: the invocation raises (for Lambda to retry)
    with pytest.raises(RefusedError):
        env.run(reconciler(env), approval, "request-2")

    # THEN the claim is released before the error propagates
    assert claim_in_ledger(env) is None
    # AND another invocation (a redrive of the dead letter, a re-approval) deploys at once, not "in-progress"
    assert env.run(reconciler(env), approval, "request-3") == "updated"
    assert env.updates() == 1
    assert serves_v2(env)


def test_lambdas_retry_of_a_refused_update_deploys(env: Env) -> None:
    assert env.run(reconciler(env), env.approved(), "request-1") == "created"
    approval = env.approved()
    env.aws.control.inject_service_fault("sagemaker", "UpdateEndpoint", "throttle", times=1)
    with pytest.raises(RefusedError):
        env.run(reconciler(env), approval, "request-2")

    assert env.run(reconciler(env), approval, "request-2") == "updated"
    assert env.updates() == 1
    assert serves_v2(env)


LOST = {
    "read-timeout": ReadTimeoutError(endpoint_url="https://api.sagemaker.us-east-1.amazonaws.com/"),
    "connection-closed": ConnectionClosedError(endpoint_url="https://api.sagemaker.us-east-1.amazonaws.com/"),
}


@pytest.mark.parametrize("error", LOST.values(), ids=LOST.keys())
def test_an_unknown_outcome_keeps_the_claim_and_a_later_wake_up_claims_again(env: Env, error: Exception) -> None:
    approval = lost_update(env, applied=False, error=error)

    # THEN the claim stays (the call may have been applied)
    assert claim_in_ledger(env) is not None
    # AND another invocation within the grace waits for it
    assert env.run(reconciler(env), approval, "request-3") == "in-progress"
    # AND after the grace, the endpoint showing no change since the claim, it claims again and deploys
    later = timedelta(seconds=env.settings.claim_grace_seconds + 1)
    assert env.run(reconciler(env, at=later), approval, "request-4") == "updated"
    assert env.updates() == 1
    assert serves_v2(env)


def test_an_unknown_outcome_that_was_applied_is_recognised_at_the_next_wake_up(env: Env) -> None:
    approval = lost_update(env, applied=True, error=LOST["read-timeout"])

    # WHEN another invocation wakes up after the grace (the update had gone through)
    later = timedelta(seconds=env.settings.claim_grace_seconds + 1)
    action = env.run(reconciler(env, at=later), approval, "request-3")

    # THEN it finds the endpoint on v2 and does not update it again
    assert action == "in-sync"
    assert env.updates() == 1
    assert serves_v2(env)


def test_a_version_kept_waiting_by_a_claim_past_the_limit_is_alerted_once(env: Env) -> None:
    # GIVEN a claim that blocks v2 (an unknown outcome), with a grace longer than the stall limit
    approval = lost_update(env, applied=False, error=LOST["read-timeout"])
    settings = dataclasses.replace(env.settings, claim_grace_seconds=86400)
    limit = timedelta(seconds=settings.stall_alert_seconds)

    # WHEN wake-ups come before the limit, then twice after it
    before = reconciler(env, at=limit - timedelta(seconds=30), settings=settings)
    first = reconciler(env, at=limit + timedelta(seconds=1), settings=settings)
    again = reconciler(env, at=limit + timedelta(minutes=5), settings=settings)
    actions = [env.run(r, approval, f"request-{i}") for i, r in enumerate((before, first, again), start=3)]

    # THEN the version waits each time, and exactly one alert names it
    assert actions == ["in-progress"] * 3
    assert (before.alert, again.alert) == ([], [])
    [(subject, message, severity)] = first.alert
    assert "version 2 waits to be deployed" in subject
    assert severity == "error"
    assert approval["detail"]["ModelPackageArn"] in message
    assert env.updates() == 0
