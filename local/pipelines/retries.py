"""Retry policies of pipeline steps (``RetryPolicies``), matched on the failure reason of the step's job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RETRYABLE = {
    # exception type of a retry policy -> failure reason prefixes it covers
    "SageMaker.CAPACITY_ERROR": ("CapacityError",),
    "SageMaker.JOB_INTERNAL_ERROR": ("InternalServerError", "InternalError"),
    "SageMaker.RESOURCE_LIMIT": ("ResourceLimitExceeded",),
    "Step.SERVICE_FAULT": ("ServiceFault",),
    "Step.THROTTLING": ("ThrottlingException",),
}


def matching_policy(policies: list[Mapping[str, Any]], reason: str) -> int | None:
    """The index of the first policy covering a failure ``reason``, if any."""
    for index, policy in enumerate(policies):
        for exception_type in policy.get("ExceptionType", []):
            if any(reason.startswith(prefix) for prefix in RETRYABLE.get(exception_type, ())):
                return index
    return None


class RetryPolicies:
    """The retry policies of one step, counting the attempts each policy has granted."""

    def __init__(self, policies: list[Mapping[str, Any]]) -> None:
        self.policies = policies
        self._attempts: dict[int, int] = {}

    def delay_before_retry(self, reason: str) -> float | None:
        """Seconds to wait before retrying after a failure ``reason`` (``IntervalSeconds`` x ``BackoffRate`` per
        retry); ``None`` when no policy covers it or the covering one has no attempt left."""
        index = matching_policy(self.policies, reason)
        if index is None:
            return None
        policy = self.policies[index]
        count = self._attempts.get(index, 0) + 1
        self._attempts[index] = count
        if count >= int(policy.get("MaxAttempts", 1)):
            return None
        return float(policy.get("IntervalSeconds", 1)) * float(policy.get("BackoffRate", 1.0)) ** (count - 1)
