"""Lambda retries and lost responses: the deploy reconcile in this process, on the embedded AWS with the stack's
resources, with a gateway whose UpdateEndpoint fails once (before or after SageMaker applied it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from sm_lifecycle.deployment import reconciler_for
from sm_lifecycle.deployment.reconciler import Reconciler
from sm_lifecycle.kernel.errors import TransientError

if TYPE_CHECKING:
    from tests.unit.deployment.conftest import Env


pytestmark = pytest.mark.slow


class FailingUpdates:
    """Wraps the SageMaker client: the next UpdateEndpoint fails, before or after it reaches SageMaker."""

    def __init__(self, client: Any, *, applied: bool) -> None:
        self._client, self.applied, self.armed = client, applied, True

    def update_endpoint(self, **kwargs: Any) -> Any:
        if self.armed:
            self.armed = False
            if self.applied:
                self._client.update_endpoint(**kwargs)
            raise TransientError("UpdateEndpoint: connection reset")
        return self._client.update_endpoint(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _with_failing_update(env: Env, *, applied: bool) -> Reconciler:
    reconciler = reconciler_for(env.settings)
    reconciler.gateway._mutations = FailingUpdates(reconciler.gateway._mutations, applied=applied)
    return reconciler


@pytest.mark.parametrize("applied", [False, True], ids=["lost-request", "lost-response"])
def test_lambda_retry_of_a_failed_update_converges_with_one_update(env: Env, applied: bool) -> None:
    # GIVEN version 1 live
    assert env.run(reconciler_for(env.settings), env.approved(), "request-1") == "created"
    reconciler = _with_failing_update(env, applied=applied)
    approval = env.approved()

    # WHEN UpdateEndpoint fails once: the invocation raises (Lambda will retry it)
    with pytest.raises(TransientError):
        env.run(reconciler, approval, "request-2")
    # AND a duplicate delivery of the same event (another request) arrives meanwhile
    duplicate = env.run(reconciler_for(env.settings), approval, "request-3")
    # AND Lambda retries the invocation (same request id)
    retried = env.run(reconciler, approval, "request-2")

    # THEN the endpoint serves version 2 after exactly one accepted UpdateEndpoint
    assert env.updates() == 1
    assert env.sm.describe_endpoint(EndpointName=env.settings.endpoint_name)["EndpointConfigName"].startswith(
        f"{env.settings.endpoint_name}-v2-"
    )
    if applied:  # the update had happened: both find the endpoint on version 2
        assert (duplicate, retried) == ("in-sync", "in-sync")
    else:  # it had not: the duplicate defers to the claim, the retry resumes it
        assert (duplicate, retried) == ("in-progress", "updated")
