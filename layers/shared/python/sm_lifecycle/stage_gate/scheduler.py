"""Adapter: the bake's one-time schedule (EventBridge Scheduler), which invokes the gate when the bake is over."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel.clients import classify, error_code
from sm_lifecycle.stage_gate.model import BAKE_DETAIL_TYPE, BAKE_SOURCE


def schedule_name(endpoint: str, version: int) -> str:
    """One schedule per endpoint and version (a second create is the same bake: ConflictException)."""
    return f"bake-{endpoint}-v{version}"[:64]


class BakeScheduler:
    def __init__(self, scheduler: Any, *, group: str, role_arn: str) -> None:
        self._scheduler = scheduler
        self.group = group
        self.role_arn = role_arn

    def schedule(
        self, name: str, at: datetime, *, target_arn: str, account: str, region: str, detail: dict[str, str]
    ) -> bool:
        """Create the schedule firing at ``at`` (UTC, whole seconds); False when it exists already."""
        payload = {
            "version": "0",
            "id": "<aws.scheduler.execution-id>",
            "detail-type": BAKE_DETAIL_TYPE,
            "source": BAKE_SOURCE,
            "account": account,
            "time": "<aws.scheduler.scheduled-time>",
            "region": region,
            "resources": [detail["ModelPackageArn"]],
            "detail": detail,
        }
        try:
            self._scheduler.create_schedule(
                Name=name,
                GroupName=self.group,
                ScheduleExpression=f"at({at.astimezone(UTC):%Y-%m-%dT%H:%M:%S})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target={"Arn": target_arn, "RoleArn": self.role_arn, "Input": json.dumps(payload)},
            )
        except ClientError as exc:
            if error_code(exc) == "ConflictException":
                return False
            raise classify(exc, what=f"CreateSchedule {name}") from exc
        except BotoCoreError as exc:
            raise classify(exc, what=f"CreateSchedule {name}") from exc
        return True
