"""Acting on a finished drift check: its metrics, then the environment's policy (off, alert or retrain).

Events are hints: the check's execution must be this stack's drift-check pipeline's and SageMaker must say it
``Succeeded``; where its summary is comes from the execution itself, never from the event: its display name
(``drift-<window>``, as the starters name it: the window's result folder under ``drift/<endpoint>/``), else its
``OutputUri`` parameter, which must lie under ``drift/<endpoint>/`` of the stack's bucket. Calls per check:
DescribePipelineExecution and GetObject (2; ListPipelineParametersForExecution too for a check named otherwise); an
alert adds Publish (3); a retraining adds ListPipelineExecutions, and StartPipelineExecution when one starts (5).
Metrics go out as EMF log lines (no call).

Retraining (policy ``retrain``) starts the training pipeline on ``DRIFT_RETRAIN_DATA_URI`` (else the pipeline's
default data) with the stack's git SHA, unless an execution of it is running (at most one in flight) or the newest
one started less than ``DRIFT_RETRAIN_COOLDOWN_HOURS`` ago (the cooldown). Two checks racing to retrain start one
execution: the start's ``ClientRequestToken`` is derived from the newest execution both saw. A retraining that cannot
be started (a refused role, a missing pipeline, AWS failing past the SDK's retries) does not fail the check: the drift
alert goes out saying why (``retrain-failed``), and the next check that finds drift tries again.

A deployment stack has no training pipeline: it asks the registry's (``DRIFT_RETRAIN_ROLE_ARN``, a role of the
registry's account that may list and start that pipeline alone). The registry's executions decide the one in flight
and the cooldown, so checks of every environment share them; the role is assumed when a retraining is considered
(``AssumeRole``, once per container while its credentials last).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from sm_lifecycle.drift.config import DriftSettings
from sm_lifecycle.drift.message import DriftAlert, drift_alert
from sm_lifecycle.drift.model import CHECK_DISPLAY_PREFIX, RETRAIN_FAILURE, DriftResult, Retraining, Window
from sm_lifecycle.drift.s3 import DriftObjects
from sm_lifecycle.drift.sagemaker import RUNNING, DriftPipelines, Execution
from sm_lifecycle.drift.starter import client_token
from sm_lifecycle.kernel.errors import InvalidEventError, LifecycleError
from sm_lifecycle.kernel.registry import GIT_SHA
from sm_lifecycle.kernel.text import clean

logger = Logger(child=True)

Publish = Callable[[DriftAlert], str]  # -> SNS MessageId
Record = Callable[[DriftResult, str], None]  # (result, endpoint) -> None: the check's metrics


class DriftMonitor:
    def __init__(
        self,
        settings: DriftSettings,
        pipelines: DriftPipelines,
        objects: DriftObjects,
        publish: Publish,
        record: Record,
        *,
        training: Callable[[], DriftPipelines] | None = None,
    ) -> None:
        """``training``: the training pipeline's adapter, made when a retraining is considered (default: ``pipelines``,
        the stack's own account)."""
        self.settings = settings
        self._pipelines = pipelines
        self._training = training or (lambda: pipelines)
        self._objects = objects
        self._publish = publish
        self._record = record

    def on_finished(self, execution_arn: str, now: datetime | None = None) -> dict[str, Any]:
        """Record and act on the check ``execution_arn``; the outcome."""
        execution = self._pipelines.execution(execution_arn)
        if execution.status != "Succeeded":
            logger.warning("SageMaker does not say the check succeeded", extra={"status": execution.status})
            return {"status": "ignored", "reason": f"{execution_arn} is {execution.status}, not Succeeded"}
        key, window = self.summary_of(execution)
        try:
            result = DriftResult.parse(self._objects.summary(key))
        except ValueError as exc:
            raise InvalidEventError(f"drift check {execution_arn}: {exc}", field="summary.json") from exc
        self._record(result, self.settings.endpoint_name)
        outcome: dict[str, Any] = {
            "records": result.records,
            "drift_share": result.drift_share,
            "version": result.version,
            "drifted": [f.name for f in result.drifted],
        }
        if result.status != "ok":
            return {**outcome, "status": "insufficient-data"}
        if not result.drift_detected:
            return {**outcome, "status": "no-drift"}
        if self.settings.policy == "off":
            return {**outcome, "status": "drift-recorded"}
        retraining = self.retrain_or_say_why(execution_arn, now) if self.settings.policy == "retrain" else None
        report = f"s3://{self.settings.bucket}/{key.rsplit('/', 1)[0]}/report.html" if result.has_report else None
        message_id = self._publish(
            drift_alert(
                self.settings, result, check_arn=execution_arn, window=window, report_uri=report, retraining=retraining
            )
        )
        status = "alerted" if retraining is None else f"retrain-{retraining.status}"
        return {
            **outcome,
            "status": status,
            "message_id": message_id,
            "report": report,
            "retraining": retraining.execution_arn if retraining else None,
        }

    def summary_of(self, execution: Execution) -> tuple[str, tuple[str, str]]:
        """The check's summary key and window: from its display name, which both starters make
        ``drift-<window>`` (the summary is then in that window's result folder of this endpoint); else (a check
        started some other way) from its parameters, one more call."""
        name = execution.display_name
        window = (
            Window.named(name.removeprefix(CHECK_DISPLAY_PREFIX)) if name.startswith(CHECK_DISPLAY_PREFIX) else None
        )
        if window is not None:
            key = f"{window.result_folder(self.settings.endpoint_name)}/summary.json"
            return key, (Window.iso(window.start), Window.iso(window.end))
        parameters = self._pipelines.parameters(execution.arn)
        key = self.summary_key(parameters.get("OutputUri", ""))
        return key, (parameters.get("WindowStart", "?"), parameters.get("WindowEnd", "?"))

    def summary_key(self, output_uri: str) -> str:
        """The summary's key from the execution's ``OutputUri``, which must be this endpoint's drift prefix."""
        expected = f"s3://{self.settings.bucket}/{self.settings.prefix}"
        if not output_uri.startswith(expected) or ".." in output_uri:
            raise InvalidEventError(f"OutputUri {output_uri[:200]!r} is not under {expected}", field="OutputUri")
        return f"{output_uri.removeprefix(f's3://{self.settings.bucket}/').rstrip('/')}/summary.json"

    def retrain_or_say_why(self, check_arn: str, now: datetime | None = None) -> Retraining:
        """:meth:`retrain`; a retraining that cannot be started (the registry's role refused, the pipeline missing, AWS
        failing past its retries) is ``failed`` with the reason, for the alert to tell: the drift's evidence is never
        lost to it, and the next check that finds drift tries again."""
        try:
            return self.retrain(check_arn, now)
        except LifecycleError as exc:
            reason = clean(exc, RETRAIN_FAILURE)
            logger.error("retraining not started", extra={"check": check_arn, "reason": reason})
            return Retraining("failed", None, reason=reason)

    def retrain(self, check_arn: str, now: datetime | None = None) -> Retraining:
        """Start the training pipeline unless one is in flight or the cooldown holds."""
        s = self.settings
        training, pipelines = s.common.pipeline_name, self._training()
        recent = pipelines.recent(training)
        running = next((e for e in recent if e.status in RUNNING), None)
        if running is not None:
            return Retraining("in-flight", running.arn)
        newest = recent[0] if recent else None
        if newest is not None and newest.created is not None:
            until = newest.created.astimezone(UTC) + s.cooldown
            if (now or datetime.now(UTC)) < until:
                return Retraining("cooldown", newest.arn, until)
        parameters = {GIT_SHA: s.common.git_sha}
        if s.retrain_data_uri:
            parameters["InputDataUri"] = s.retrain_data_uri
        check_id = check_arn.rsplit("/", 1)[-1]
        arn = pipelines.start(
            training,
            parameters,
            token=client_token(training, newest.arn if newest else "no execution yet"),
            display_name=f"drift-retrain-{check_id}",
            why=f"Retraining: drift found by {check_arn}",
        )
        logger.info("retraining started", extra={"execution_arn": arn, "check": check_arn})
        return Retraining("started", arn)
