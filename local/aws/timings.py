"""How long SageMaker's asynchronous operations take in the embedded AWS."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Timings:
    """How long SageMaker's asynchronous operations take, in seconds (0 completes them at once, in the background)."""

    endpoint_create: float = 0.0
    endpoint_update: float = 0.0
    endpoint_delete: float = 0.0

    @classmethod
    def demo(cls) -> Timings:
        """Delays long enough to watch an endpoint go through its states."""
        return cls(endpoint_create=4.0, endpoint_update=6.0, endpoint_delete=1.0)

    def replace(self, **changes: float) -> Timings:
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown timings: {sorted(unknown)}")
        return dataclasses.replace(self, **{k: float(v) for k, v in changes.items()})
