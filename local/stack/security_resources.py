"""CloudFormation's IAM policies and KMS keys, created in the embedded AWS (what the IAM engine then evaluates).

``AWS::IAM::Policy`` is an inline policy put on each of its roles (users and groups too);
``AWS::IAM::ManagedPolicy`` a customer managed policy attached to its roles; ``AWS::KMS::Key`` a key with its key
policy (``Ref``: the key id; ``Arn``); ``AWS::KMS::Alias`` an alias of it (``Ref``: the alias name).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def as_json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _versioned(document: Any) -> str:
    if isinstance(document, dict) and "Version" not in document:
        # IAM accepts a policy without Version (it means 2008-10-17); moto insists on 2012-10-17
        document = {"Version": "2012-10-17", **document}
    return as_json(document)


def iam_policy(client: Callable[[str], Any], logical_id: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The policy put inline on its roles, users and groups; CloudFormation's Ref is a generated id."""
    iam = client("iam")
    name, document = props["PolicyName"], _versioned(props["PolicyDocument"])
    for role in props.get("Roles", []):
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=document)
    for user in props.get("Users", []):
        iam.put_user_policy(UserName=user, PolicyName=name, PolicyDocument=document)
    for group in props.get("Groups", []):
        iam.put_group_policy(GroupName=group, PolicyName=name, PolicyDocument=document)
    return f"{logical_id}-{name}", {}


def iam_managed_policy(client: Callable[[str], Any], name: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A customer managed policy, attached to its roles, users and groups; Ref is its ARN."""
    iam = client("iam")
    request: dict[str, Any] = {
        "PolicyName": props.get("ManagedPolicyName") or name,
        "PolicyDocument": _versioned(props["PolicyDocument"]),
        "Path": props.get("Path", "/"),
    }
    if "Description" in props:
        request["Description"] = props["Description"]
    arn = iam.create_policy(**request)["Policy"]["Arn"]
    for role in props.get("Roles", []):
        iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    for user in props.get("Users", []):
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
    for group in props.get("Groups", []):
        iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    return arn, {"PolicyArn": arn}


def kms_key(client: Callable[[str], Any], props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A customer managed key with its key policy (and rotation, if enabled)."""
    kms = client("kms")
    request: dict[str, Any] = {"Policy": as_json(props["KeyPolicy"])} if "KeyPolicy" in props else {}
    for key in ("Description", "KeyUsage", "KeySpec", "MultiRegion"):
        if key in props:
            request[key] = props[key]
    if props.get("Tags"):
        request["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props["Tags"]]
    metadata = kms.create_key(**request)["KeyMetadata"]
    if str(props.get("EnableKeyRotation", "false")).lower() == "true":
        kms.enable_key_rotation(KeyId=metadata["KeyId"])
    return metadata["KeyId"], {"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]}


def kms_alias(client: Callable[[str], Any], props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    client("kms").create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
    return str(props["AliasName"]), {}
