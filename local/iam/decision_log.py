"""The record of IAM decisions: counters, and every denial with who, what, on which resource and why.

Thread-safe; the stack runtime and tests read it (``counts``, ``denials``) and ``reset()`` it, e.g. to fail when
a function or a job was denied anything during a test.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from local.iam.authorizer import Outcome
from local.iam.principals import Principal

UNEVALUATED = Outcome(True, evaluated=False)


@dataclass(frozen=True)
class Denial:
    principal: str
    action: str
    resource: str
    reason: str
    message: str


class DecisionLog:
    """Counters of decisions (``allowed``, ``denied``, ``unevaluated``, ``unmapped``) and the denials."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self._denials: list[Denial] = []
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.counts = {"allowed": 0, "denied": 0, "unevaluated": 0, "unmapped": 0}
            self._denials = []

    def record(self, principal: Principal, outcome: Outcome, message: str = "", operation: str = "") -> None:
        """Count one request's outcome; a denial (or an unmapped request) is kept with ``message``, AWS's text."""
        with self._lock:
            if not outcome.evaluated:
                self.counts["unevaluated"] += 1
                return
            if outcome.allowed:
                self.counts["allowed"] += 1
                return
            self.counts["unmapped" if outcome.unmapped else "denied"] += 1
            denial = outcome.denial
            if denial is None:
                self._denials.append(Denial(principal.arn, operation, "*", f"unmapped: {outcome.unmapped}", message))
            else:
                self._denials.append(Denial(principal.arn, denial.action, denial.resource, denial.reason, message))

    @property
    def denials(self) -> list[Denial]:
        with self._lock:
            return list(self._denials)
