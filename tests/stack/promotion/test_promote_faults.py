"""The promote function under an AWS bad day: S3 slows down past its retries while it reads the report."""

from __future__ import annotations

import pytest

from tests.stack.dead_letters import assert_failed_past_its_retries
from tests.worlds.promotion import binary_report

pytestmark = pytest.mark.slow


def test_a_report_s3_keeps_slowing_down_dead_letters_the_registration_and_alerts(promote_stack):
    # GIVEN the dev stack, and S3 answering GetObject with SlowDown until further notice
    stack, scene = promote_stack("dev")
    stack.aws.control.inject_service_fault("s3", "GetObject")

    # WHEN a challenger is registered (its report written, then its creation event delivered)
    challenger = scene.register(binary_report(0.90, 0.03))
    stack.wait_idle(timeout=180)  # three attempts, each through the SDK's back-off

    # THEN the function failed past its retries, the event is in its dead-letter queue, the alarm alerted
    log = stack.aws.control.service_fault_log()
    [event] = assert_failed_past_its_retries(
        stack,
        "PromoteFunction",
        queue="PromoteDeadLetterQueueUrl",
        alarm="PromoteDeadLetterAlarm",
        inbox=scene.inbox,
        fault_log=log,
    )
    assert event["detail"]["ModelPackageArn"] == challenger
    assert {(h["operation"], h["code"], h["status"]) for h in log} == {("GetObject", "SlowDown", 503)}
    # AND the package was left as registered
    assert scene.status(challenger) == "PendingManualApproval"
