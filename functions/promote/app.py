"""Promote function: judges a newly registered model package against the environment's promotion policy and the
live champion (rule, permissions and policy parameters: PromoteFunction in template.yaml). Logic:
``sm_lifecycle.promotion``.
"""

from sm_lifecycle.kernel.handler import make_handler
from sm_lifecycle.promotion import PROMOTE_EVENTS, promote

lambda_handler = make_handler(
    promote,
    events=PROMOTE_EVENTS,
    metrics={
        "approved": "PackagesApproved",
        "rejected": "PackagesRejected",
        "recommended": "PackagesRecommended",
        "undecided": "PackagesUndecided",
        "misconfigured": "PolicyMisconfigured",
    },
)
