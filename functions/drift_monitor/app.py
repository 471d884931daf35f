"""Drift monitor function: when a drift check succeeds, emits its metrics and acts by the environment's policy
(off, alert, or retrain: the alert, then the training pipeline, at most one in flight and not within the cooldown).

Rule, permissions and policy: DriftMonitorFunction in template.yaml. Logic: ``sm_lifecycle.drift``.
"""

from sm_lifecycle.drift import DRIFT_MONITOR_EVENTS, monitor_drift
from sm_lifecycle.kernel.handler import make_handler

lambda_handler = make_handler(
    monitor_drift,
    events=DRIFT_MONITOR_EVENTS,
    metrics={
        "no-drift": "DriftChecksClean",
        "insufficient-data": "DriftChecksInsufficientData",
        "drift-recorded": "DriftFound",
        "alerted": "DriftFound",
        "retrain-started": "DriftRetrainingsStarted",
        "retrain-in-flight": "DriftRetrainingsHeld",
        "retrain-cooldown": "DriftRetrainingsHeld",
        "retrain-failed": "DriftRetrainingsFailed",
        "duplicate": "DriftEventsDuplicate",
        "ignored": "DriftEventsIgnored",
    },
)
