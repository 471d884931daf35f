"""One pipeline execution run from its definition: the steps in graph order, each attempt with cache and retries.

A step's attempt resolves its arguments, reuses a cached run if its cache key matches, else runs its step kind; a
failure its retry policies cover is retried; the first failure ends the walk and fails the execution (with the
Fail step's message, or SageMaker's generic reason), unless the step's failure is tolerated (an injection): the walk
goes on without the steps that need it and the execution ends ``CompletedWithFailures``. Every status change is
reported (:mod:`.reporting`).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Mapping
from typing import Any

from local.pipelines.cache import StepCache
from local.pipelines.execution import (
    COMPLETED_WITH_FAILURES,
    FAILED,
    GENERIC_FAILURE,
    STEP_EXECUTING,
    SUCCEEDED,
    Execution,
    StepFailed,
    StepRecord,
    now,
)
from local.pipelines.expressions import Context, ExpressionError, resolve
from local.pipelines.graph import StepGraph, Walk, register_property_files, step_arguments
from local.pipelines.jobs import StepServices
from local.pipelines.retries import RetryPolicies
from local.pipelines.steps import step_kind
from local.pipelines.steps.call import StepCall

logger = logging.getLogger(__name__)


class ExecutionRun:
    """Runs ``execution`` to its end on the embedded AWS (``retry_interval_scale``: 0 retries at once)."""

    def __init__(
        self, services: StepServices, execution: Execution, cache: StepCache, retry_interval_scale: float
    ) -> None:
        self.services = services
        self.execution = execution
        self.cache = cache
        self.retry_interval_scale = retry_interval_scale
        self.reporter = services.reporter

    def run(self, fake: Any, failure: str | None) -> None:
        """The whole execution (``fake``: moto's execution; ``failure``: a reason it fails for before any step)."""
        execution = self.execution
        started = time.monotonic()
        tolerated: list[str] = []
        try:
            self.reporter.execution_status(execution, None)
            if failure is None:
                failure = self._run_steps(tolerated)
        except Exception as exc:
            logger.exception("pipeline execution %s crashed", execution.arn)
            failure = f"InternalError: {type(exc).__name__}: {exc}"
        finally:
            execution.end_time = now()
            previous = execution.status
            execution.status = FAILED if failure else (COMPLETED_WITH_FAILURES if tolerated else SUCCEEDED)
            execution.failure_reason = failure or (GENERIC_FAILURE if tolerated else None)
            execution.step_timings["_total"] = time.monotonic() - started
            try:
                self.reporter.execution_end(fake, execution)
                self.reporter.execution_status(execution, previous)
            finally:
                execution.done.set()

    def _run_steps(self, tolerated: list[str]) -> str | None:
        """The failure reason of the execution, ``None`` if it went to its end (``tolerated``: the steps that failed
        without stopping it)."""
        graph = StepGraph.of(self.execution.definition)
        ctx = Context(
            parameters=self.execution.parameters,
            execution=self.execution.variables,
            read_s3=self.services.transfer.read,
        )
        walk = Walk(graph)
        while (name := walk.next(ctx)) is not None:
            began = time.monotonic()
            try:
                self._execute(graph.steps[name], ctx)
            except StepFailed as exc:
                if self.services.injections.take_tolerance(name):
                    tolerated.append(name)
                    walk.failed_on(name)
                    continue
                return exc.reason if graph.steps[name].get("Type") == "Fail" else GENERIC_FAILURE
            else:
                walk.succeeded(name)
            finally:
                self.execution.step_timings[name] = time.monotonic() - began
        return None

    def _execute(self, step: Mapping[str, Any], ctx: Context) -> None:
        record = StepRecord(name=step["Name"], step_type=step["Type"])
        self.execution.steps[record.name] = record
        retries = RetryPolicies(step.get("RetryPolicies", []))
        while True:
            record.attempt_count += 1
            previous = record.status if record.attempt_count > 1 else None
            record.status = STEP_EXECUTING
            self.reporter.step(self.execution, record, previous)
            try:
                properties = self._attempt(step, record, ctx)
            except ExpressionError as exc:
                self._finish(record, FAILED, f"ClientError: {exc}")
                raise StepFailed(str(exc)) from exc
            except StepFailed as exc:
                record.metadata.update(exc.metadata)
                delay = retries.delay_before_retry(exc.reason)
                if delay is not None:
                    time.sleep(delay * self.retry_interval_scale)
                    continue
                self._finish(record, FAILED, exc.reason)
                raise
            ctx.steps[record.name] = properties
            register_property_files(step, properties, ctx)
            self._finish(record, SUCCEEDED, None)
            return

    def _attempt(self, step: Mapping[str, Any], record: StepRecord, ctx: Context) -> dict[str, Any]:
        """One attempt's properties: from a cached earlier run (first attempts only), else from running the step."""
        arguments = resolve(step_arguments(step), ctx)
        hit = self.cache.hit(self.execution, step, arguments) if record.attempt_count == 1 else None
        if hit is not None:
            record.metadata = copy.deepcopy(hit.metadata)
            record.cache_hit_source = hit.execution_arn
            return copy.deepcopy(hit.properties)
        call = StepCall(self.services, self.execution, step, arguments, record, ctx)
        properties = step_kind(step["Type"])(call)
        self.cache.remember(self.execution, step, arguments, properties, record)
        return properties

    def _finish(self, record: StepRecord, status: str, reason: str | None) -> None:
        previous = record.status
        record.status = status
        record.failure_reason = reason
        record.end_time = now()
        self.reporter.step(self.execution, record, previous)
