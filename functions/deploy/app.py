"""Deploy function: reconciles the environment's endpoint with the newest approved model package version.

Woken by approval changes of the group's packages and by state changes of the endpoint (rules, permissions and
rollout parameters: DeployFunction in template.yaml). Logic: ``sm_lifecycle.deployment``.
"""

from sm_lifecycle.deployment import DEPLOY_EVENTS, deploy
from sm_lifecycle.kernel.handler import make_handler

lambda_handler = make_handler(
    deploy,
    events=DEPLOY_EVENTS,
    metrics={
        "created": "EndpointsCreated",
        "updated": "EndpointUpdates",
        "rolled-back": "RolloutsRolledBack",
        "blocked": "DeploymentsBlocked",
    },
)
