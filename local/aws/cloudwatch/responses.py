"""The wire of CloudWatch's alarm history; the patches that install it and the metrics' identity (:mod:`.metrics`)."""

from __future__ import annotations

from typing import cast

from moto.cloudwatch.models import CloudWatchBackend
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult

from local.aws.cloudwatch.metrics import MetricIdentityBackend
from local.aws.cloudwatch.models import AlarmHistoryBackend
from local.aws.patches import methods

HISTORY_PARAMETERS = (
    "AlarmName",
    "AlarmTypes",
    "HistoryItemType",
    "StartDate",
    "EndDate",
    "MaxRecords",
    "NextToken",
    "ScanBy",
)


class AlarmHistoryResponses(CloudWatchResponse):
    def describe_alarm_history(self) -> ActionResult:
        backend = cast(AlarmHistoryBackend, self.cloudwatch_backend)
        return ActionResult(backend.describe_alarm_history({p: self._get_param(p) for p in HISTORY_PARAMETERS}))


PATCHES = (
    *methods(
        CloudWatchBackend,
        AlarmHistoryBackend,
        {
            "set_alarm_state": "records each state change as the StateUpdate item CloudWatch writes",
            "describe_alarm_history": "moto has no alarm history",
        },
    ),
    *methods(CloudWatchResponse, AlarmHistoryResponses, {"describe_alarm_history": "moto has no DescribeAlarmHistory"}),
    *methods(
        CloudWatchBackend,
        MetricIdentityBackend,
        {
            "get_metric_data": "moto's MetricStat ignores the namespace when dimensions are given, depends on their "
            "order, reads every dimension set of a name asked without dimensions, and ignores ReturnData of math",
            "get_metric_statistics": "moto reads every metric whose dimensions include the asked ones",
            "get_filtered_metrics": "moto's ListMetrics lists a metric with no or several dimensions once per "
            "datapoint",
        },
    ),
)
