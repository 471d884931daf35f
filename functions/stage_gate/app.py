"""Stage gate function: moves versions through its environment's ModelLifeCycle stage (deployed, baked, approved).

Woken by the endpoint's state changes, the group's lifecycle changes and its own bake schedules (rules, schedule
group, permissions and stage policy: StageGateFunction in template.yaml). Logic: ``sm_lifecycle.stage_gate``.
"""

from sm_lifecycle.kernel.handler import make_handler
from sm_lifecycle.stage_gate import STAGE_GATE_EVENTS, stage_gate

lambda_handler = make_handler(
    stage_gate,
    events=STAGE_GATE_EVENTS,
    metrics={
        "deployed": "StageDeployments",
        "promoted": "StagePromotions",
        "approved": "StageApprovals",
        "approval-requested": "StageApprovalRequests",
        "rejected": "StageRejections",
        "baked": "StageBakesPassed",
        "refused": "StageTransitionsRefused",
    },
)
