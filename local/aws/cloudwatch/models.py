"""CloudWatch alarm history: ``DescribeAlarmHistory`` over the state changes of metric alarms (moto keeps none).

Every ``SetAlarmState`` that changes an alarm's state (the stack runtime's alarm evaluation sets states so, as a
test or an operator may) records a ``StateUpdate`` item as CloudWatch writes it: ``HistorySummary`` "Alarm updated
from OK to ALARM", ``HistoryData`` the JSON of the old and new state (``stateValue``, ``stateReason``,
``stateReasonData``). The history belongs to the account and region, so it outlives a replaced alarm.
``DescribeAlarmHistory`` filters by ``AlarmName``, ``AlarmTypes`` (metric alarms when not given),
``HistoryItemType``, ``StartDate`` / ``EndDate``, newest first unless ``ScanBy`` is ``TimestampAscending``, in pages
of ``MaxRecords`` (1-100, 100 when not given) with ``NextToken``. Not recorded: configuration updates and actions.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.models import CloudWatchBackend
from moto.core.exceptions import ServiceException

DEFAULT_MAX_RECORDS = 100
HISTORY_ITEM_TYPES = (
    "ConfigurationUpdate",
    "StateUpdate",
    "Action",
    "AlarmContributorStateUpdate",
    "AlarmContributorAction",
)
SCAN_ORDERS = ("TimestampDescending", "TimestampAscending")

_moto_set_alarm_state = CloudWatchBackend.set_alarm_state


class InvalidNextToken(ServiceException):
    code = "InvalidNextToken"


def history(backend: CloudWatchBackend) -> list[dict[str, Any]]:
    """The account's alarm history, oldest first (kept on moto's backend, so its reset forgets it)."""
    found = backend.__dict__.get("_local_alarm_history")
    if found is None:
        found = backend.__dict__["_local_alarm_history"] = []
    return found


def _reason_data(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _state(value: str, reason: str, reason_data: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {"stateValue": value, "stateReason": reason}
    data = _reason_data(reason_data)
    if data:
        state["stateReasonData"] = data
    return state


def state_update(name: str, old: dict[str, Any], new: dict[str, Any], when: datetime) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "AlarmType": "MetricAlarm",
        "Timestamp": when,
        "HistoryItemType": "StateUpdate",
        "HistorySummary": f"Alarm updated from {old['stateValue']} to {new['stateValue']}",
        "HistoryData": json.dumps({"version": "1.0", "oldState": old, "newState": new}),
    }


def _moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check(item_type: str | None, scan_by: str | None, max_records: int) -> None:
    for value, allowed, member in (
        (item_type, HISTORY_ITEM_TYPES, "historyItemType"),
        (scan_by, SCAN_ORDERS, "scanBy"),
    ):
        if value is not None and value not in allowed:
            raise ValidationError(
                f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(allowed)}]"
            )
    if not 1 <= max_records <= 100:
        raise ValidationError(
            f"1 validation error detected: Value '{max_records}' at 'maxRecords' failed to satisfy constraint: "
            "Member must have value between 1 and 100"
        )


class AlarmHistoryBackend(CloudWatchBackend):
    """The alarm history operations (installed on ``CloudWatchBackend``)."""

    def set_alarm_state(self, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
        alarm = self.alarms.get(alarm_name)
        old = _state(alarm.state_value, alarm.state_reason, alarm.state_reason_data) if alarm else None
        _moto_set_alarm_state(self, alarm_name, reason, reason_data, state_value)
        if old is not None and old["stateValue"] != state_value:
            new = _state(state_value, reason, reason_data)
            history(self).append(state_update(alarm_name, old, new, datetime.now(UTC)))

    def describe_alarm_history(self, request: dict[str, Any]) -> dict[str, Any]:
        item_type, scan_by = request.get("HistoryItemType"), request.get("ScanBy")
        max_records = int(request.get("MaxRecords") or DEFAULT_MAX_RECORDS)
        _check(item_type, scan_by, max_records)
        start, end = _moment(request.get("StartDate")), _moment(request.get("EndDate"))
        types = request.get("AlarmTypes") or ["MetricAlarm"]
        items = [
            item
            for item in history(self)
            if request.get("AlarmName") in (None, item["AlarmName"])
            and item["AlarmType"] in types
            and item_type in (None, item["HistoryItemType"])
            and (start is None or item["Timestamp"] >= start)
            and (end is None or item["Timestamp"] <= end)
        ]
        if scan_by != "TimestampAscending":
            items.reverse()
        token = request.get("NextToken")
        if token and (not token.isdigit() or int(token) > len(items)):
            raise InvalidNextToken("The service returned an invalid next token.")
        offset = int(token) if token else 0
        page: dict[str, Any] = {"AlarmHistoryItems": items[offset : offset + max_records]}
        if offset + max_records < len(items):
            page["NextToken"] = str(offset + max_records)
        return page
