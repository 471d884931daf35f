"""What a tagging run did, artifact by artifact (pure): the function's result, its log line and its alert text."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Problem", "TaggingReport"]


class Problem(StrEnum):
    """Why one artifact was not tagged, as the report files it."""

    MISSING = "missing"  # the object or resource is gone (deleted mid-run, never existed)
    RETRYABLE = "retryable"  # throttling, 5xx, network, the deadline: Lambda retries the event
    FAILED = "failed"  # anything else: access denied, invalid tag set, limits


@dataclass
class TaggingReport:
    """What a run did, artifact by artifact (``ref`` = ARN or ``s3://bucket/key``); thread-safe to fill."""

    execution_arn: str
    tags: dict[str, str]
    tagged: list[str] = field(default_factory=list)  # written by this run
    unchanged: list[str] = field(default_factory=list)  # already carried the tags: not written
    did_not_fit: dict[str, list[str]] = field(default_factory=dict)  # ref → our keys that did not fit
    missing: dict[str, str] = field(default_factory=dict)  # ref → why (deleted mid-run, never existed)
    failed: dict[str, str] = field(default_factory=dict)  # ref → permanent error
    retryable: dict[str, str] = field(default_factory=dict)  # ref → transient error (Lambda retries the event)
    skipped: dict[str, str] = field(default_factory=dict)  # location → why it was not tagged (scope, shared)
    reused: dict[str, str] = field(default_factory=dict)  # cached step → execution that made (and tagged) its results
    recorded: dict[str, str] = field(default_factory=dict)  # package version → its facts in CustomerMetadataProperties
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    # ------------------------------------------------------------------ filling (from the tagging threads)
    def record(self, problem: Problem, ref: str, why: str) -> None:
        with self._lock:
            getattr(self, problem.value)[ref] = why

    def record_tagged(self, ref: str) -> None:
        with self._lock:
            self.tagged.append(ref)

    def record_unchanged(self, ref: str) -> None:
        with self._lock:
            self.unchanged.append(ref)

    def record_did_not_fit(self, ref: str, keys: tuple[str, ...]) -> None:
        with self._lock:
            self.did_not_fit[ref] = list(keys)

    # ------------------------------------------------------------------ reading
    @property
    def needs_alert(self) -> bool:
        return bool(self.did_not_fit or self.missing or self.failed or self.skipped)

    @property
    def status(self) -> str:
        if self.retryable:
            return "retry"
        return "partial" if (self.missing or self.failed or self.did_not_fit) else "tagged"

    def _problems(self) -> dict[str, dict[str, Any]]:
        return {
            "did_not_fit": self.did_not_fit,
            "missing": self.missing,
            "failed": self.failed,
            "retryable": self.retryable,
            "skipped": self.skipped,
        }

    def to_dict(self, limit: int = 100) -> dict[str, Any]:
        """The function's result (and log line): counts, and the first ``limit`` entries of each problem."""

        def head(items: dict[str, Any]) -> dict[str, Any]:
            return dict(list(items.items())[:limit])

        problems = self._problems()
        return {
            "status": self.status,
            "execution": self.execution_arn,
            "tags": self.tags,
            "tagged": len(self.tagged),
            "unchanged": len(self.unchanged),
            **{name: head(items) for name, items in problems.items()},
            "reused": head(self.reused),
            "recorded": head(self.recorded),
            "counts": {name: len(items) for name, items in problems.items()},
        }

    def summary(self, limit: int = 20) -> str:
        lines = [
            f"Execution {self.execution_arn}: {len(self.tagged)} tagged, {len(self.unchanged)} already tagged, "
            f"{len(self.did_not_fit)} with tags that did not fit, {len(self.missing)} missing, "
            f"{len(self.failed)} failed, {len(self.retryable)} to retry, {len(self.skipped)} skipped, "
            f"{len(self.reused)} cached steps reused from earlier executions, {len(self.recorded)} package versions "
            "recorded in their metadata (versions cannot be tagged)."
        ]
        sections: tuple[tuple[str, dict[str, Any]], ...] = (
            ("Tags that did not fit (S3 allows 10 per object; the object's own tags were kept)", self.did_not_fit),
            ("Missing (deleted before they could be tagged)", self.missing),
            ("Failed", self.failed),
            ("To retry", self.retryable),
            ("Not tagged", self.skipped),
        )
        for title, items in sections:
            if items:
                lines.append(f"{title}:")
                shown = list(items.items())[:limit]
                lines += [f"  {ref}: {', '.join(v) if isinstance(v, list) else v}" for ref, v in shown]
                if len(items) > limit:
                    lines.append(f"  ... and {len(items) - limit} more")
        return "\n".join(lines)
