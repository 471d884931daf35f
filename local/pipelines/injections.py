"""What a test or the demo arms on the local pipeline runner: Spot interruptions, capacity shortages, and steps whose
failure the execution completes without (it then ends ``CompletedWithFailures``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class SpotInterruption:
    """An armed Spot interruption: the next matching training job is interrupted once ``after_checkpoints``
    new checkpoint files exist in its checkpoint folder (i.e. mid-training, after some progress was saved)."""

    after_checkpoints: int = 1
    step_name: str | None = None
    fired: threading.Event = field(default_factory=threading.Event)
    job_name: str | None = None
    checkpoints_at_interruption: list[str] = field(default_factory=list)

    def matches(self, step_name: str) -> bool:
        return not self.fired.is_set() and self.step_name in (None, step_name)


@dataclass
class CapacityShortage:
    """The next ``times`` jobs of ``step_name`` fail to start with a capacity error (retry policy path)."""

    step_name: str
    times: int = 1


class Injections:
    """The interruptions and shortages armed so far, and which the next job of a step meets."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.interruptions: list[SpotInterruption] = []
        self.shortages: list[CapacityShortage] = []
        self.tolerated: dict[str, int] = {}  # step name -> how many more of its failures the execution survives

    def interrupt_training(self, *, after_checkpoints: int = 1, step_name: str | None = None) -> SpotInterruption:
        interruption = SpotInterruption(after_checkpoints=after_checkpoints, step_name=step_name)
        with self._lock:
            self.interruptions.append(interruption)
        return interruption

    def disarm(self, interruption: SpotInterruption) -> bool:
        """Take back an interruption that has not fired (its job ended first); whether it had fired."""
        with self._lock:
            if not interruption.fired.is_set() and interruption in self.interruptions:
                self.interruptions.remove(interruption)
        return interruption.fired.is_set()

    def fail_capacity(self, step_name: str, times: int = 1) -> CapacityShortage:
        shortage = CapacityShortage(step_name, times)
        with self._lock:
            self.shortages.append(shortage)
        return shortage

    def tolerate_failure(self, step_name: str, times: int = 1) -> None:
        """The next ``times`` executions go on when ``step_name`` fails (the steps that need it do not run) and end
        ``CompletedWithFailures``. What makes SageMaker end an execution so is not documented (the API reference
        lists the status only); this is how the runner reaches it."""
        with self._lock:
            self.tolerated[step_name] = self.tolerated.get(step_name, 0) + times

    def take_tolerance(self, step_name: str) -> bool:
        """Whether this failure of ``step_name`` is tolerated (it is used up if so)."""
        with self._lock:
            if self.tolerated.get(step_name, 0) > 0:
                self.tolerated[step_name] -= 1
                return True
        return False

    def take_shortage(self, step_name: str) -> bool:
        """Whether the next job of ``step_name`` meets a capacity shortage (it is used up if so)."""
        with self._lock:
            for shortage in self.shortages:
                if shortage.step_name == step_name and shortage.times > 0:
                    shortage.times -= 1
                    return True
        return False

    def interruption_for(self, step_name: str) -> SpotInterruption | None:
        """The armed interruption the next training job of ``step_name`` meets, if any."""
        with self._lock:
            return next((i for i in self.interruptions if i.matches(step_name)), None)
