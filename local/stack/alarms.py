"""CloudWatch alarm evaluation for the alarms of the template, which moto stores but never evaluates.

Supported metrics: ``AWS/SageMaker`` endpoint metrics from the datapoints the embedded AWS publishes (each
invocation), ``AWS/SQS`` queue depth metrics (``QueueName`` dimension) read from the queue itself,
``AWS/Lambda`` ``Errors`` / ``Invocations`` (per attempt) and ``AsyncEventsDropped`` / ``DeadLetterErrors`` (per
event that ended without success: retries exhausted or too old; its dead-letter send failed) (``FunctionName``
dimension) counted by the local Lambda runtime and
``AWS/Events`` delivery metrics (``RuleName`` dimension: ``FailedInvocations``...) counted by the local EventBridge
delivery, over the alarm's ``Period`` x ``EvaluationPeriods``. On a state change the alarm's state is set in the
embedded CloudWatch (``SetAlarmState``) and the notification CloudWatch sends is published to the SNS topics of the
state's actions.
Evaluation runs every ``interval`` seconds instead of once a minute.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import botocore.session

logger = logging.getLogger(__name__)

_SQS_METRICS = {
    "ApproximateNumberOfMessagesVisible": "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible": "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed": "ApproximateNumberOfMessagesDelayed",
}
_PUBLISHED = frozenset({"AWS/SageMaker"})  # namespaces whose datapoints the embedded AWS publishes to CloudWatch
_COUNTED: dict[str, tuple[str, set[str]]] = {  # namespace -> (dimension, metrics the local runtime counts)
    "AWS/Lambda": ("FunctionName", {"Errors", "Invocations", "AsyncEventsDropped", "DeadLetterErrors"}),
    "AWS/Events": (
        "RuleName",
        {
            "Invocations",
            "FailedInvocations",
            "RetryInvocationAttempts",
            "InvocationsSentToDLQ",
            "InvocationsFailedToBeSentToDLQ",
        },
    ),
}
_COMPARISONS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "GreaterThanThreshold": ("greater than", lambda value, threshold: value > threshold),
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda value, threshold: value >= threshold),
    "LessThanThreshold": ("less than", lambda value, threshold: value < threshold),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda value, threshold: value <= threshold),
}


def _alarm_time(moment: datetime) -> str:
    """``2026-03-24T17:00:14.123+0000``, as CloudWatch writes times in alarm notifications."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def region_description(region: str) -> str:
    """``us-east-1`` -> ``US East (N. Virginia)``, as alarm notifications name regions."""
    endpoints = botocore.session.get_session().get_data("endpoints")
    for partition in endpoints["partitions"]:
        if region in partition.get("regions", {}):
            return partition["regions"][region].get("description", region)
    return region


@dataclass
class Alarm:
    name: str
    arn: str
    props: dict[str, Any]
    state: str = "INSUFFICIENT_DATA"
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def dimensions(self) -> dict[str, str]:
        return {item["Name"]: str(item["Value"]) for item in self.props.get("Dimensions", [])}

    @property
    def window(self) -> float:
        return float(self.props.get("Period", 60)) * int(self.props.get("EvaluationPeriods", 1))


class AlarmEmulator:
    def __init__(
        self,
        client: Callable[[str], Any],
        *,
        region: str,
        account_id: str,
        queue_url: Callable[[str], str | None],
        interval: float = 0.25,
        iam: Any = None,
    ) -> None:
        self._client = client
        self._iam = iam  # local.iam.Enforcer: CloudWatch publishes only where the topic's and key's policies let it
        self._region = region
        self._region_text = region_description(region)
        self._account_id = account_id
        self._queue_url = queue_url
        self._interval = interval
        self.alarms: list[Alarm] = []
        self._counts: dict[tuple[str, str, str], deque[float]] = {}  # (namespace, dimension value, metric) -> times
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.notifications: list[dict[str, Any]] = []
        self.failed_actions: list[dict[str, Any]] = []  # notifications CloudWatch was not allowed to publish

    def add(self, name: str, arn: str, props: dict[str, Any]) -> None:
        if not self._supported(props):
            logger.debug(
                "alarm %s: metric %s/%s is not evaluated locally", name, props.get("Namespace"), props.get("MetricName")
            )
            return
        self.alarms.append(Alarm(name, arn, props))

    @staticmethod
    def _supported(props: dict[str, Any]) -> bool:
        namespace, metric = props.get("Namespace"), props.get("MetricName")
        if "Metrics" in props or props.get("ComparisonOperator") not in _COMPARISONS:
            return False
        counted = _COUNTED.get(str(namespace), ("", set()))[1]
        published = namespace in _PUBLISHED and props.get("Statistic") in {"Sum", "Average", "Maximum"}
        return (namespace == "AWS/SQS" and metric in _SQS_METRICS) or metric in counted or published

    # ------------------------------------------------------------------ counted metrics (Lambda, EventBridge)
    def lambda_datapoint(self, function_name: str, *, error: bool) -> None:
        self.count("AWS/Lambda", function_name, "Invocations")
        if error:
            self.count("AWS/Lambda", function_name, "Errors")

    def lambda_dropped(self, function_name: str, *, dead_letter_error: bool) -> None:
        """An asynchronous event Lambda gave up on (after sending it to its dead-letter queue, if it could)."""
        self.count("AWS/Lambda", function_name, "AsyncEventsDropped")
        if dead_letter_error:
            self.count("AWS/Lambda", function_name, "DeadLetterErrors")

    def count(self, namespace: str, dimension_value: str, metric: str) -> None:
        """One occurrence of ``metric`` (of the resource ``dimension_value`` names) now."""
        with self._lock:
            self._counts.setdefault((namespace, dimension_value, metric), deque()).append(time.time())

    def _counted_value(self, alarm: Alarm) -> float:
        namespace = alarm.props["Namespace"]
        value = alarm.dimensions.get(_COUNTED[namespace][0], "")
        events = self._counts.get((namespace, value, alarm.props["MetricName"]), deque())
        horizon = time.time() - alarm.window
        while events and events[0] < horizon:
            events.popleft()
        count = float(len(events))
        if alarm.props.get("Statistic") in {"Maximum", "Minimum", "Average"}:
            return 1.0 if count else 0.0
        return count

    # ------------------------------------------------------------------ evaluation
    def evaluate(self) -> None:
        with self._lock:
            for alarm in self.alarms:
                value = self._value(alarm)
                if value is None:
                    continue
                text, compare = _COMPARISONS[alarm.props["ComparisonOperator"]]
                threshold = float(alarm.props.get("Threshold", 0))
                new_state = "ALARM" if compare(value, threshold) else "OK"
                if new_state != alarm.state:
                    self._transition(alarm, new_state, value, threshold, text)

    def _value(self, alarm: Alarm) -> float | None:
        if alarm.props["Namespace"] in _COUNTED:
            return self._counted_value(alarm)
        if alarm.props["Namespace"] in _PUBLISHED:
            return self._published_value(alarm)
        url = self._queue_url(alarm.dimensions.get("QueueName", ""))
        if url is None:
            return None
        attribute = _SQS_METRICS[alarm.props["MetricName"]]
        response = self._client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=[attribute])
        return float(response["Attributes"][attribute])

    def _published_value(self, alarm: Alarm) -> float | None:
        """The alarm's statistic over its window, from the datapoints the embedded AWS published to CloudWatch
        (``AWS/SageMaker`` endpoint metrics: :mod:`local.aws.sagemaker.serving.metrics`); None without data (the
        alarm's ``TreatMissingData`` keeps its state)."""
        now = datetime.now(UTC)
        statistic = str(alarm.props.get("Statistic", "Sum"))
        response = self._client("cloudwatch").get_metric_statistics(
            Namespace=alarm.props["Namespace"],
            MetricName=alarm.props["MetricName"],
            Dimensions=[{"Name": k, "Value": v} for k, v in alarm.dimensions.items()],
            StartTime=datetime.fromtimestamp(now.timestamp() - alarm.window + 1, UTC),
            EndTime=datetime.fromtimestamp(now.timestamp() + 1, UTC),  # CloudWatch takes whole seconds: this one too
            Period=int(alarm.window),
            Statistics=[statistic],
        )
        points = [float(point[statistic]) for point in response.get("Datapoints", [])]
        if not points:
            return 0.0 if alarm.props.get("TreatMissingData") == "notBreaching" else None
        if statistic == "Sum":
            return sum(points)
        return max(points) if statistic == "Maximum" else sum(points) / len(points)

    def _transition(self, alarm: Alarm, new_state: str, value: float, threshold: float, text: str) -> None:
        now = datetime.now(UTC)
        periods = int(alarm.props.get("EvaluationPeriods", 1))
        to_alarm = int(alarm.props.get("DatapointsToAlarm", periods))
        stamp = now.strftime("%d/%m/%y %H:%M:%S")
        verb = "was" if new_state == "ALARM" else "was not"
        reason = (
            f"Threshold Crossed: 1 out of the last {periods} datapoints [{value} ({stamp})] {verb} {text} the "
            f"threshold ({threshold}) (minimum {to_alarm} datapoint for "
            f"{'OK -> ALARM' if new_state == 'ALARM' else 'ALARM -> OK'} transition)."
        )
        reason_data = {
            "version": "1.0",
            "queryDate": _alarm_time(now),
            "statistic": alarm.props.get("Statistic", "Sum"),
            "period": int(alarm.props.get("Period", 60)),
            "recentDatapoints": [value],
            "threshold": threshold,
            "evaluatedDatapoints": [{"timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.000+0000"), "value": value}],
        }
        old_state, alarm.state = alarm.state, new_state
        self._client("cloudwatch").set_alarm_state(
            AlarmName=alarm.name, StateValue=new_state, StateReason=reason, StateReasonData=json.dumps(reason_data)
        )
        level = logging.DEBUG if old_state == "INSUFFICIENT_DATA" and new_state == "OK" else logging.INFO
        logger.log(level, "alarm %s: %s -> %s (%s)", alarm.name, old_state, new_state, reason)
        actions = {"ALARM": "AlarmActions", "OK": "OKActions"}[new_state]
        if str(alarm.props.get("ActionsEnabled", True)).lower() == "false":
            return
        message = self._notification(alarm, old_state, new_state, reason, now)
        subject = f'{new_state}: "{alarm.name}" in {self._region_text}'
        if len(subject) > 100:  # SNS subject limit; CloudWatch shortens the alarm name
            subject = subject[:97] + "..."
        for target in alarm.props.get(actions, []):
            if not str(target).startswith("arn:aws:sns:"):
                logger.debug("alarm %s: action %s is not an SNS topic; not run locally", alarm.name, target)
                continue
            refusal = self._refusal(alarm, target)
            if refusal is not None:
                logger.warning("alarm %s: %s", alarm.name, refusal)
                self.failed_actions.append({"alarm": alarm.name, "topic": target, "reason": refusal})
                continue
            self._client("sns").publish(TopicArn=target, Subject=subject, Message=json.dumps(message))
            self.notifications.append({"topic": target, "subject": subject, "message": message})

    def _refusal(self, alarm: Alarm, topic_arn: str) -> str | None:
        """Why CloudWatch may not publish the alarm's notification to the topic (its policy, or its KMS key's policy,
        does not admit ``cloudwatch.amazonaws.com`` for this alarm), or None."""
        if self._iam is None:
            return None
        outcome = self._iam.authorize_service(
            "cloudwatch.amazonaws.com",
            "sns:Publish",
            topic_arn,
            source_arn=alarm.arn,
            source_account=self._account_id,
            region=self._region,
        )
        if outcome.allowed:
            return None
        denial = outcome.denial
        return (
            f"Failed to execute action {topic_arn}. Received error: "
            f'"CloudWatch Alarms does not have authorization to access the SNS topic'
            f'{" encryption key" if denial is not None and denial.action.startswith("kms:") else ""}."'
        )

    def _notification(self, alarm: Alarm, old: str, new: str, reason: str, now: datetime) -> dict[str, Any]:
        props = alarm.props
        return {
            "AlarmName": alarm.name,
            "AlarmDescription": props.get("AlarmDescription"),
            "AWSAccountId": self._account_id,
            "AlarmConfigurationUpdatedTimestamp": _alarm_time(alarm.updated),
            "NewStateValue": new,
            "NewStateReason": reason,
            "StateChangeTime": _alarm_time(now),
            "Region": self._region_text,
            "AlarmArn": alarm.arn,
            "OldStateValue": old,
            "OKActions": props.get("OKActions", []),
            "AlarmActions": props.get("AlarmActions", []),
            "InsufficientDataActions": props.get("InsufficientDataActions", []),
            "Trigger": {
                "MetricName": props.get("MetricName"),
                "Namespace": props.get("Namespace"),
                "StatisticType": "Statistic",
                "Statistic": str(props.get("Statistic", "")).upper(),
                "Unit": props.get("Unit"),
                "Dimensions": [{"value": v, "name": k} for k, v in alarm.dimensions.items()],
                "Period": int(props.get("Period", 60)),
                "EvaluationPeriods": int(props.get("EvaluationPeriods", 1)),
                "DatapointsToAlarm": int(props.get("DatapointsToAlarm", props.get("EvaluationPeriods", 1))),
                "ComparisonOperator": props.get("ComparisonOperator"),
                "Threshold": float(props.get("Threshold", 0)),
                "TreatMissingData": props.get("TreatMissingData", "missing"),
                "EvaluateLowSampleCountPercentile": props.get("EvaluateLowSampleCountPercentile", ""),
            },
        }

    # ------------------------------------------------------------------ background evaluation
    def start(self) -> None:
        if not self.alarms or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, daemon=True, name="alarm-evaluation")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.evaluate()
            except Exception:
                if self._stop.is_set():
                    return
                logger.exception("alarm evaluation failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
