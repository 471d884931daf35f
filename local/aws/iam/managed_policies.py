"""AWS managed policies, present in every account as on AWS, with the documents moto ships.

moto creates its AWS managed policies only when ``MOTO_IAM_LOAD_MANAGED_POLICIES`` is set, and then parses all of
them (over a thousand) for every account. On AWS they simply exist: a role can attach
``arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`` (what SAM gives every function) in any
account. The patch makes each one exist on first use, from moto's bundled data, so the IAM engine evaluates the
policy's real document.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, IAMBackend

from local.aws.patches import Patch

AWS_POLICY_PREFIX = ":iam::aws:policy/"


@functools.cache
def _documents() -> dict[str, dict[str, Any]]:
    parsed: dict[str, dict[str, Any]] = json.loads(aws_managed_policies_data)
    return parsed


def ensure_aws_managed_policy(backend: IAMBackend, policy_arn: str) -> None:
    """Create the AWS managed policy ``policy_arn`` in the backend if AWS has it and moto has not made it yet."""
    if policy_arn in backend.managed_policies or AWS_POLICY_PREFIX not in policy_arn:
        return
    name = policy_arn.rsplit("/", 1)[-1]
    data = _documents().get(name)
    if data is None:
        return  # not an AWS managed policy: IAM refuses it (NoSuchEntity), as moto does
    policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
    if policy.arn == policy_arn:
        backend.managed_policies[policy.arn] = policy


_attach_role_policy = IAMBackend.attach_role_policy
_get_policy = IAMBackend.get_policy


def attach_role_policy(self: IAMBackend, policy_arn: str, role_name: str) -> None:
    ensure_aws_managed_policy(self, policy_arn)
    _attach_role_policy(self, policy_arn, role_name)


def get_policy(self: IAMBackend, policy_arn: str) -> Any:
    ensure_aws_managed_policy(self, policy_arn)
    return _get_policy(self, policy_arn)


PATCHES = (
    Patch(IAMBackend, "attach_role_policy", attach_role_policy, "AWS managed policies exist in every account"),
    Patch(IAMBackend, "get_policy", get_policy, "AWS managed policies exist in every account"),
)
