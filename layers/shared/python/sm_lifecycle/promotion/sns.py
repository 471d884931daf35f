"""Adapter of the promotion's notifier on SNS: notices go to the stack's alert topic.

Approvers subscribe with a filter policy on the ``kind`` attribute (``promotion``).
"""

from __future__ import annotations

from sm_lifecycle.kernel.notify import Severity, publish_alert
from sm_lifecycle.kernel.settings import Settings

__all__ = ["SnsNotifier"]


class SnsNotifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def notify(self, subject: str, message: str, severity: str, attributes: dict[str, str]) -> None:
        publish_alert(
            self.settings,
            subject=f"[{self.settings.environment}] {subject}",
            message=message,
            severity=Severity(severity),
            attributes=attributes,
        )
