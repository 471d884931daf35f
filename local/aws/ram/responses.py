"""The RAM operations the embedded AWS adds to moto for shares created from resource policies (:mod:`.models`):
``ListResourceSharePermissions``, ``PromotePermissionCreatedFromPolicy``, ``PromoteResourceShareCreatedFromPolicy``,
``GetResourceShareInvitations``, ``AcceptResourceShareInvitation``. RAM is a REST service: each operation has a path
of its own, added to moto's."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.ram import urls as moto_urls
from moto.ram.exceptions import UnknownResourceException
from moto.ram.models import ResourceAccessManagerBackend
from moto.ram.responses import ResourceAccessManagerResponse

from local.aws.patches import Patch, methods
from local.aws.ram.models import FROM_POLICY, SHARES, NotPromotable, PolicyShare, UnmatchedPolicyPermission
from local.aws.runtime import RUNTIME

OPERATIONS = (
    "listresourcesharepermissions",
    "promotepermissioncreatedfrompolicy",
    "promoteresourcesharecreatedfrompolicy",
    "getresourceshareinvitations",
    "acceptresourceshareinvitation",
)


class _Refused(JsonRESTError):
    code = 400


def _share(arn: str | None) -> PolicyShare:
    created = SHARES.of_share(arn or "")
    if created is None:
        raise UnknownResourceException(f"ResourceShare {arn} could not be found.")
    return created


def _body(response: ResourceAccessManagerResponse) -> dict[str, Any]:
    return dict(response.request_params)


class PolicyShareResponse(ResourceAccessManagerResponse):
    """The added operations (installed on ``ResourceAccessManagerResponse``)."""

    def list_resource_share_permissions(self) -> str:
        created = _share(_body(self).get("resourceShareArn"))
        share = created.share
        if share.account_id != self.current_account:
            raise UnknownResourceException(f"ResourceShare {share.arn} could not be found.")
        arn = created.promoted_permission_arn or created.permission_arn
        permission = {
            "arn": arn,
            "version": "1",
            "defaultVersion": True,
            "name": arn.rsplit("/", 1)[-1],
            "resourceType": "sagemaker:ModelPackageGroup",
            "status": "ATTACHABLE",
            "isResourceTypeDefault": False,
            "permissionType": "CUSTOMER_MANAGED",
            "featureSet": "STANDARD" if created.promoted_permission_arn else FROM_POLICY,
        }
        return json.dumps({"permissions": [permission]})

    def promote_permission_created_from_policy(self) -> str:
        body = _body(self)
        created = SHARES.of_permission(str(body.get("permissionArn", "")))
        if created is None or created.share.account_id != self.current_account:
            raise UnknownResourceException(f"Permission {body.get('permissionArn')} could not be found.")
        try:
            arn = SHARES.promote_permission(created, str(body.get("name", "")))
        except NotPromotable:
            raise _Refused("OperationNotPermittedException", "The permission cannot be promoted.") from None
        summary = {"arn": arn, "version": "1", "name": body.get("name"), "featureSet": "STANDARD"}
        return json.dumps({"permission": summary, "clientToken": body.get("clientToken")})

    def promote_resource_share_created_from_policy(self) -> str:
        created = _share(self._get_param("resourceShareArn") or self.querystring.get("resourceShareArn", [None])[0])
        if created.share.account_id != self.current_account:
            raise UnknownResourceException(f"ResourceShare {created.share.arn} could not be found.")
        try:
            SHARES.promote_share(created)
        except UnmatchedPolicyPermission:
            message = "No customer managed permission matches the resource share's CREATED_FROM_POLICY permission."
            raise _Refused("UnmatchedPolicyPermissionException", message) from None
        except NotPromotable:
            raise _Refused("OperationNotPermittedException", "The resource share cannot be promoted.") from None
        return json.dumps({"returnValue": True})

    def get_resource_share_invitations(self) -> str:
        body = _body(self)
        arns = set(body.get("resourceShareInvitationArns") or [])
        shares = set(body.get("resourceShareArns") or [])
        found = [
            i.describe()
            for i in SHARES.invitations_of(self.current_account)
            if (not arns or i.arn in arns) and (not shares or i.share_arn in shares)
        ]
        return json.dumps({"resourceShareInvitations": found})

    def accept_resource_share_invitation(self) -> str:
        body = _body(self)
        arn = body.get("resourceShareInvitationArn")
        accepted = SHARES.accept(self.current_account, str(arn))
        if accepted is None:
            raise UnknownResourceException(f"ResourceShareInvitation {arn} could not be found.")
        invitation, before = accepted
        if before != "PENDING":
            error = "Accepted" if before == "ACCEPTED" else "Rejected"
            raise _Refused(
                f"ResourceShareInvitationAlready{error}Exception", f"ResourceShareInvitation {arn} is {before}."
            )
        return json.dumps({"resourceShareInvitation": invitation.describe(), "clientToken": body.get("clientToken")})


URLS = SimpleNamespace(
    url_bases=moto_urls.url_bases,
    url_paths={
        **moto_urls.url_paths,
        **{f"{{0}}/{name}$": ResourceAccessManagerResponse.dispatch for name in OPERATIONS},
    },
)

RUNTIME.reset_hooks.append(SHARES.reset)

PATCHES = (
    Patch(
        ResourceAccessManagerBackend,
        "_url_module",
        property(lambda self: URLS),
        "moto routes none of the operations on shares created from resource policies",
    ),
    *methods(
        ResourceAccessManagerResponse,
        PolicyShareResponse,
        {
            name: "moto has no operation on shares created from resource policies"
            for name in (
                "list_resource_share_permissions",
                "promote_permission_created_from_policy",
                "promote_resource_share_created_from_policy",
                "get_resource_share_invitations",
                "accept_resource_share_invitation",
            )
        },
    ),
)
