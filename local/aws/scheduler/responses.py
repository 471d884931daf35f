"""What the embedded AWS changes in moto's EventBridge Scheduler: schedules are validated, then planned to fire."""

from __future__ import annotations

from typing import Any

from moto.scheduler.models import EventBridgeSchedulerBackend

from local.aws.patches import methods
from local.aws.runtime import RUNTIME
from local.aws.scheduler.expressions import parse
from local.aws.scheduler.models import FIRINGS

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

    def update_schedule(self, **kwargs: Any) -> Any:  # type: ignore[override]
        parse(kwargs.get("schedule_expression"), kwargs.get("schedule_expression_timezone"))
        schedule = _moto_update_schedule(self, **kwargs)
        FIRINGS.plan(schedule, self.account_id, self.region_name)
        return schedule

    def delete_schedule(self, group_name: str | None, name: str) -> None:
        schedule = self.get_schedule(group_name, name)
        _moto_delete_schedule(self, group_name, name)
        FIRINGS.forget(schedule.arn)


RUNTIME.reset_hooks.append(FIRINGS.reset)

PATCHES = methods(
    EventBridgeSchedulerBackend,
    FiringSchedulerBackend,
    {
        "create_schedule": "moto stores schedules and never fires them; expressions are not validated",
        "update_schedule": "an update re-plans the schedule's firings",
        "delete_schedule": "a deleted schedule does not fire",
    },
)
