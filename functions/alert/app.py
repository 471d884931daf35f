"""Alert function: one SNS alert per failed or stopped pipeline execution, failed step or failed/stopped training job.

Rules and permissions: AlertFunction in template.yaml. Logic: ``sm_lifecycle.alerting``.
"""

from sm_lifecycle.alerting import ALERT_EVENTS, alert
from sm_lifecycle.kernel.handler import make_handler

lambda_handler = make_handler(
    alert,
    events=ALERT_EVENTS,
    # ignored: nothing failed, or SageMaker does not confirm the failure (a forged or stale event)
    metrics={"published": "AlertsPublished", "duplicate": "AlertsSuppressed", "ignored": "AlertEventsIgnored"},
)
