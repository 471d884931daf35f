"""IAM enforcement for the embedded AWS: who calls, what IAM action on which resource, and AWS's decision.

    authorizer = Authorizer(account="123456789012")
    authorizer.principals.register_role(access_key_id, role_arn, session_name)   # a Lambda worker's credentials
    app = enforce(moto_wsgi_app, authorizer)                                        # every request evaluated
    app.authorize_service("cloudwatch.amazonaws.com", "sns:Publish", topic_arn, ...)      # internal flows
    app.log.counts, app.log.denials                                                 # what was decided

Modules, one job each: ``principals`` (who), ``credentials`` (access key -> principal), ``documents``
(policy JSON), ``patterns`` and ``variables`` (wildcards, ``${aws:username}``), ``conditions`` (operators),
``context`` (condition-key values), ``evaluation`` (AWS's evaluation logic), ``identity`` and
``resource_policies`` / ``kms_keys`` / ``resource_keys`` / ``encryption`` (what moto's state says),
``catalogue`` (the Service Authorization Reference), ``operations`` (its exceptions), ``actions`` and
``request_keys`` (request -> checks), ``wire`` and ``wire_params`` (HTTP -> request), ``errors`` (AWS's denials),
``authorizer`` (it all together), ``middleware`` (WSGI) and ``decision_log`` (what it decided).
"""

from local.iam.actions import ApiCall, Check, UnmappedRequest, checks_for
from local.iam.authorizer import Authorizer, Outcome
from local.iam.credentials import Principals
from local.iam.decision_log import DecisionLog, Denial
from local.iam.evaluation import Decision
from local.iam.middleware import Enforcer, enforce
from local.iam.principals import AccountRoot, IamUser, RoleSession, ServicePrincipal
from local.iam.resource_policies import ResourcePolicies, ResourcePolicy, model_package_group_provider

__all__ = [
    "AccountRoot",
    "ApiCall",
    "Authorizer",
    "Check",
    "Decision",
    "DecisionLog",
    "Denial",
    "Enforcer",
    "IamUser",
    "Outcome",
    "Principals",
    "ResourcePolicies",
    "ResourcePolicy",
    "RoleSession",
    "ServicePrincipal",
    "UnmappedRequest",
    "checks_for",
    "enforce",
    "model_package_group_provider",
]
