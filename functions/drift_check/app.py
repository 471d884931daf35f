"""Drift-check function: on each firing of the environment's recurring schedule, starts one drift check of the
endpoint's last window of captured requests against the served version's training baseline.

Schedule, permissions and settings: DriftCheckFunction in template.yaml. Logic: ``sm_lifecycle.drift``.
"""

from sm_lifecycle.drift import DRIFT_CHECK_EVENTS, start_drift_check
from sm_lifecycle.kernel.handler import make_handler

lambda_handler = make_handler(
    start_drift_check,
    events=DRIFT_CHECK_EVENTS,
    metrics={"started": "DriftChecksStarted", "idle": "DriftChecksIdle", "no-baseline": "DriftChecksWithoutBaseline"},
)
