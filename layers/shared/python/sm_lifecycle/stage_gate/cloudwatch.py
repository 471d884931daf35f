"""Adapter: the endpoint's health over a bake window, from CloudWatch: the rollback alarms' history and state, and
the endpoint's invocation metrics (``AWS/SageMaker``, one ``GetMetricData`` call)."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel.clients import classify
from sm_lifecycle.stage_gate.config import GateSettings
from sm_lifecycle.stage_gate.model import BakeEvidence

VARIANT = "AllTraffic"  # the deployer's one production variant
_QUERIES = (
    ("invocations", "Invocations", "Sum"),
    ("errors", "Invocation5XXErrors", "Sum"),
    ("latency", "ModelLatency", "Average"),
)


class EndpointHealth:
    def __init__(self, cloudwatch: Any, settings: GateSettings) -> None:
        self._cw = cloudwatch
        self.settings = settings

    def over(self, start: datetime, end: datetime) -> BakeEvidence:
        """The evidence of the window ``start``..``end``, judged by the stage's policy."""
        try:
            alarms = self._alarm_states(start, end)
            metrics = self._metrics(start, end)
        except (ClientError, BotoCoreError) as exc:
            raise classify(exc, what="CloudWatch bake evidence") from exc
        latency = metrics.get("latency")
        evidence = BakeEvidence(
            start=start,
            end=end,
            alarms=alarms,
            invocations=metrics.get("invocations", 0.0),
            errors_5xx=metrics.get("errors", 0.0),
            latency_microseconds=latency,
        )
        evidence.problems.extend(self._problems(evidence))
        return evidence

    def _problems(self, evidence: BakeEvidence) -> list[str]:
        problems = [f"alarm {name} was in ALARM" for name, state in sorted(evidence.alarms.items()) if state == "ALARM"]
        if evidence.error_rate > self.settings.max_5xx_rate:
            problems.append(f"5xx rate {evidence.error_rate:.2%} above {self.settings.max_5xx_rate:.2%}")
        latency = evidence.latency_microseconds
        if latency is not None and latency > self.settings.max_latency_microseconds:
            problems.append(
                f"average ModelLatency {latency:.0f} us above {self.settings.max_latency_microseconds:.0f} us"
            )
        return problems

    def _alarm_states(self, start: datetime, end: datetime) -> dict[str, str]:
        names = list(self.settings.rollback_alarm_names)
        if not names:
            return {}
        states = {a["AlarmName"]: a["StateValue"] for a in self._cw.describe_alarms(AlarmNames=names)["MetricAlarms"]}
        for name in names:
            history = self._cw.describe_alarm_history(
                AlarmName=name, HistoryItemType="StateUpdate", StartDate=start, EndDate=end, MaxRecords=100
            )["AlarmHistoryItems"]
            for item in history:
                if _new_state(item.get("HistoryData")) == "ALARM":
                    states[name] = "ALARM"
        return states

    def _metrics(self, start: datetime, end: datetime) -> dict[str, float]:
        # whole minutes around the window (GetMetricData refuses StartTime == EndTime; datapoints are per minute)
        start = start.replace(second=0, microsecond=0)
        end = max(end.replace(second=0, microsecond=0) + timedelta(minutes=1), start + timedelta(minutes=1))
        period = max(60, math.ceil((end - start).total_seconds() / 60) * 60)
        dimensions = [
            {"Name": "EndpointName", "Value": self.settings.endpoint_name},
            {"Name": "VariantName", "Value": VARIANT},
        ]
        queries = [
            {
                "Id": key,
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric, "Dimensions": dimensions},
                    "Period": period,
                    "Stat": stat,
                },
            }
            for key, metric, stat in _QUERIES
        ]
        results = self._cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)["MetricDataResults"]
        values: dict[str, float] = {}
        for result in results:
            points = [float(v) for v in result.get("Values", [])]
            if points:
                values[result["Id"]] = sum(points) / len(points) if result["Id"] == "latency" else sum(points)
        return values


def _new_state(history_data: object) -> str | None:
    try:
        return str(json.loads(str(history_data))["newState"]["stateValue"])
    except (ValueError, KeyError, TypeError):
        return None
