"""``make serve ENV=all``: the registry and the deployment stacks, each in its account, on one served embedded AWS;
the ready line gives credentials acting in each account, and the operator commands find each environment."""

from __future__ import annotations

import boto3
import pytest

from tests.emulator.stack.served import serving
from tools.stackinfo import served_stack

pytestmark = pytest.mark.slow


def test_serve_all_deploys_each_environment_in_its_account_with_credentials_acting_there() -> None:
    with serving("all") as served:
        stacks = served.ready["stacks"]
        assert {env: stack["account_id"] for env, stack in stacks.items()} == {
            "dev": "123456789012",
            "staging": "222222222222",
            "prod": "333333333333",
        }
        for env, stack in stacks.items():
            sts = boto3.client(
                "sts",
                endpoint_url=served.endpoint_url,
                region_name=served.ready["region"],
                aws_access_key_id=stack["aws_access_key_id"],
                aws_secret_access_key=stack["aws_secret_access_key"],
            )
            assert sts.get_caller_identity()["Account"] == stack["account_id"]
            # the operator commands (make promote, make monitor...) find each environment with its credentials
            info = served_stack(env)
            assert info is not None and info.outputs["EndpointName"] == stack["outputs"]["EndpointName"]
            assert info.client("sagemaker").list_endpoints()["Endpoints"] == []
        # a deployment stack names the registry's group, in the registry's account
        assert ":123456789012:model-package-group/" in stacks["prod"]["outputs"]["ModelPackageGroupArn"]
