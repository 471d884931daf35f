"""How long SageMaker's asynchronous operations take in the embedded AWS."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Timings:
    """How long SageMaker's asynchronous operations take, in seconds (0 completes them at once, in the background),
    and how fast schedule time runs: ``schedule_scale`` seconds of waiting per second until an EventBridge Scheduler
    schedule's time (0.001: a one-hour bake fires after 3.6 s, ``rate(1 minute)`` every 60 ms; 1: real time)."""

    endpoint_create: float = 0.0
    endpoint_update: float = 0.0
    endpoint_delete: float = 0.0
    schedule_scale: float = 0.001

    @classmethod
    def demo(cls) -> Timings:
        """Delays long enough to watch an endpoint go through its states; a ten-minute bake takes six seconds."""
        return cls(endpoint_create=4.0, endpoint_update=6.0, endpoint_delete=1.0, schedule_scale=0.01)

    def replace(self, **changes: float) -> Timings:
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown timings: {sorted(unknown)}")
        return dataclasses.replace(self, **{k: float(v) for k, v in changes.items()})
