"""Make the registry's model package group discoverable by the deployment accounts its policy names (AWS RAM).

    make share-registry                # as the registry (dev): promote the group's share
    make share-registry ENV=staging    # as a deployment account: accept the registry's invitation

The group's resource policy (granting the deployment accounts their reads and their stage's writes) makes RAM create
a share of ``featureSet`` ``CREATED_FROM_POLICY``: the accounts may use the group by its ARN, but not discover it,
so SageMaker's cross-account ``Search`` finds none of its versions. ``promote`` makes the share ``STANDARD``, as the
RAM API reference orders it: first the permission (``PromotePermissionCreatedFromPolicy``), then the share
(``PromoteResourceShareCreatedFromPolicy``). ``accept`` accepts, in a deployment account, the registry account's
pending invitations to that share. Both are idempotent: a promoted share or an accepted invitation is left as it is.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tools.stackinfo import StackInfo, resolve

PERMISSION_NAME = "sagemaker-lifecycle-registry-readers"


def group_share(ram: Any, group_arn: str) -> dict[str, Any] | None:
    """The resource share RAM holds for the group (None: its policy names no other account)."""
    associations = ram.get_resource_share_associations(associationType="RESOURCE", resourceArn=group_arn)
    arns = {a["resourceShareArn"] for a in associations["resourceShareAssociations"] if a["status"] == "ASSOCIATED"}
    for page in ram.get_paginator("get_resource_shares").paginate(resourceOwner="SELF"):
        for share in page["resourceShares"]:
            if share["resourceShareArn"] in arns and share["status"] == "ACTIVE":
                return dict(share)
    return None


def promote(ram: Any, group_arn: str, permission_name: str = PERMISSION_NAME) -> dict[str, Any]:
    """Promote the group's share created from its policy (permission first, then share); what was done."""
    share = group_share(ram, group_arn)
    if share is None:
        return {"group": group_arn, "share": None, "promoted": False, "reason": "the policy names no other account"}
    arn = share["resourceShareArn"]
    if share.get("featureSet") == "STANDARD":
        return {"group": group_arn, "share": arn, "promoted": False, "reason": "already STANDARD"}
    for permission in ram.list_resource_share_permissions(resourceShareArn=arn)["permissions"]:
        if permission.get("featureSet") == "CREATED_FROM_POLICY":
            ram.promote_permission_created_from_policy(permissionArn=permission["arn"], name=permission_name)
    ram.promote_resource_share_created_from_policy(resourceShareArn=arn)
    return {"group": group_arn, "share": arn, "promoted": True}


def accept(ram: Any, registry_account: str) -> list[str]:
    """Accept the registry account's pending invitations; the ARNs of the shares accepted."""
    accepted = []
    for page in ram.get_paginator("get_resource_share_invitations").paginate():
        for invitation in page["resourceShareInvitations"]:
            if invitation["senderAccountId"] == registry_account and invitation["status"] == "PENDING":
                ram.accept_resource_share_invitation(
                    resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
                )
                accepted.append(str(invitation["resourceShareArn"]))
    return accepted


def _group_arn(stack: StackInfo) -> str:
    return stack.outputs["ModelPackageGroupArn"]  # the registry account's, in every environment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.registry_share", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("promote", "accept"))
    parser.add_argument("--env", default="dev")
    args = parser.parse_args(argv)
    stack = resolve(args.env)
    ram = stack.client("ram")
    try:
        if args.action == "promote":
            print(promote(ram, _group_arn(stack)))
        else:
            registry_account = _group_arn(stack).split(":")[4]
            print({"env": args.env, "accepted": accept(ram, registry_account)})
    except (BotoCoreError, ClientError) as exc:
        print(f"{args.action}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
