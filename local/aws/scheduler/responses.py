"""What the embedded AWS changes in moto's EventBridge Scheduler: schedules are validated, then planned to fire."""

from __future__ import annotations

import json
from typing import Any, cast

from moto.core.utils import camelcase_to_underscores
from moto.scheduler.models import EventBridgeSchedulerBackend
from moto.scheduler.responses import EventBridgeSchedulerResponse

from local.aws.patches import methods
from local.aws.runtime import RUNTIME
from local.aws.scheduler.expressions import parse
from local.aws.scheduler.models import FIRINGS

UPDATE_PARAMETERS = (
    # what moto's UpdateSchedule reads, and ActionAfterCompletion, which it drops
    "GroupName",
    "Description",
    "EndDate",
    "FlexibleTimeWindow",
    "KmsKeyArn",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "State",
    "Target",
    "ActionAfterCompletion",
)
_moto_create_schedule = EventBridgeSchedulerBackend.create_schedule
_moto_update_schedule = EventBridgeSchedulerBackend.update_schedule
_moto_delete_schedule = EventBridgeSchedulerBackend.delete_schedule


class FiringSchedulerBackend(EventBridgeSchedulerBackend):
    """Schedule operations that plan firings (installed on ``EventBridgeSchedulerBackend``)."""

    def create_schedule(self, **kwargs: Any) -> Any:  # type: ignore[override]
        parse(kwargs.get("schedule_expression"), kwargs.get("schedule_expression_timezone"))
        schedule = _moto_create_schedule(self, **kwargs)
        FIRINGS.plan(schedule, self.account_id, self.region_name)
        return schedule

    def update_schedule(self, *, action_after_completion: str | None = None, **kwargs: Any) -> Any:  # type: ignore[override]
        parse(kwargs.get("schedule_expression"), kwargs.get("schedule_expression_timezone"))
        schedule = _moto_update_schedule(self, **kwargs)
        schedule.action_after_completion = action_after_completion  # an update replaces every field
        FIRINGS.plan(schedule, self.account_id, self.region_name)
        return schedule

    def delete_schedule(self, group_name: str | None, name: str) -> None:
        schedule = self.get_schedule(group_name, name)
        _moto_delete_schedule(self, group_name, name)
        FIRINGS.forget(schedule.arn)


class FiringSchedulerResponse(EventBridgeSchedulerResponse):
    def update_schedule(self) -> str:
        name = self.uri.split("?")[0].split("/")[-1]
        given = {camelcase_to_underscores(p): self._get_param(p) for p in UPDATE_PARAMETERS}
        schedule = cast(FiringSchedulerBackend, self.scheduler_backend).update_schedule(name=name, **given)
        return json.dumps({"ScheduleArn": schedule.arn})


RUNTIME.reset_hooks.append(FIRINGS.reset)

PATCHES = (
    *methods(
        EventBridgeSchedulerBackend,
        FiringSchedulerBackend,
        {
            "create_schedule": "moto stores schedules and never fires them; expressions are not validated",
            "update_schedule": "an update re-plans the schedule's firings and sets its ActionAfterCompletion",
            "delete_schedule": "a deleted schedule does not fire",
        },
    ),
    *methods(
        EventBridgeSchedulerResponse,
        FiringSchedulerResponse,
        {"update_schedule": "moto's UpdateSchedule drops ActionAfterCompletion"},
    ),
)
