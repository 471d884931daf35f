"""The demo's drift loop chapter: an endpoint's captured requests checked against the served version's training
baseline by the stack's own functions and its drift-check pipeline, in the stack's own account.

In dev (the registry), first traffic like the training data: the check finds no drift. Then prod's clients shift
(balances tripled, the student flag flipped): prod's own check, in prod's account, reads the baseline of the version
prod serves from the registry's bucket, finds the drift and alerts on prod's topic (prod's policy: ``alert``). Then
dev's clients shift the same way: dev's check finds drift, the monitor alerts with the top features and the HTML
report, and by dev's policy (``retrain``, its cooldown off for the demo) starts the training pipeline; the new version
meets the promotion gate. The demo fires each recurring schedule itself (``fire_now``: the next firing, now), as the
clock would.
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local.aws.scheduler.models import FIRINGS
from local.pipelines.runner import IMAGE_ENVIRONMENTS
from pipeline import PACKAGE_DIR
from pipeline.data import default_dataset
from pipeline.drift import IMAGE_REPOSITORY

if TYPE_CHECKING:
    from local.demo import Demo

REPORT_PATH = Path(".local/demo/drift-report.html")
BATCH = 40  # rows per request: dev captures 20 % of the requests (about 800 of the 4,000 clean rows)
FINISHED = ("Succeeded", "Failed", "Stopped", "CompletedWithFailures")


def _features() -> Any:
    sys.path.insert(0, str(PACKAGE_DIR / "steps"))
    preprocess = importlib.import_module("preprocess")  # the pipeline's own step: the features, as trained on
    return preprocess.transform(default_dataset())[list(preprocess.FEATURES)]


class DriftChapter:
    def __init__(self, demo: Demo) -> None:
        interpreter = Path(IMAGE_ENVIRONMENTS[IMAGE_REPOSITORY])
        if not interpreter.exists():  # the checks' jobs would fail, one by one, after the whole story
            raise SystemExit(f"demo: the drift checks run in {interpreter.parent.parent}: make drift-env first")
        self.demo = demo
        self.features = _features()
        self.results: list[tuple[str, dict[str, Any]]] = []  # (environment, the monitor's outcome)

    def send(self, rows: Any, env: str = "dev") -> None:
        runtime = self.demo.clients[env]("sagemaker-runtime")
        endpoint = self.demo.landscape[env].outputs["EndpointName"]
        for start in range(0, len(rows), BATCH):
            body = rows.iloc[start : start + BATCH].to_csv(header=False, index=False)
            runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)

    def fire(self, env: str = "dev") -> int:
        """Fire the environment's schedule now (its next firing); how many checks its monitor had acted on before."""
        before = len(self._monitored(env))
        FIRINGS.fire_now(self.demo.landscape[env].outputs["DriftCheckScheduleArn"])
        return before

    def outcome(self, before: int, env: str = "dev") -> dict[str, Any] | None:
        """The monitor's outcome of the check fired after ``before`` checks, once it has acted on it."""
        monitored = self._monitored(env)
        if len(monitored) <= before:
            return None
        result: dict[str, Any] = monitored[before]["result"]
        self.results.append((env, result))
        return result

    def _monitored(self, env: str) -> list[dict[str, Any]]:
        return [r for r in self.demo.landscape[env].invocations if r["function"] == "DriftMonitorFunction"]

    def _shifted(self, rows: int, seed: int) -> Any:
        """Requests unlike the training data: balances tripled, the student flag flipped."""
        return self.features.sample(n=rows, random_state=seed).assign(
            balance=lambda f: f["balance"] * 3, student=lambda f: 1 - f["student"]
        )

    # ------------------------------------------------------------------------------------------------ the chapter
    def no_drift_in_background(self, version: int) -> threading.Thread:
        """Once dev serves ``version``: traffic like the training data, then a check, while the story goes on."""

        def run() -> None:
            deadline = time.monotonic() + 120
            while not self.demo._serving("dev", version) and time.monotonic() < deadline:
                time.sleep(0.1)
            self.send(self.features.sample(n=4000, random_state=7))
            before, deadline = self.fire(), time.monotonic() + 120
            while (result := self.outcome(before)) is None and time.monotonic() < deadline:
                time.sleep(0.1)
            if result is None:
                self.demo.timeline.say("   drift check of dev: no outcome after 120 s")
                return
            flagged = f" ({', '.join(result['drifted'])}: under the dataset's 0.5)" if result.get("drifted") else ""
            self.demo.timeline.say(
                f"   drift check of dev (traffic like the training data): {result['status']}, {result['records']} "
                f"captured records of v{result['version']}, drift share {result['drift_share']:.2f}{flagged}"
            )

        thread = threading.Thread(target=run, name="demo drift check", daemon=True)
        thread.start()
        return thread

    def drift_then_retraining(self) -> int:
        """Shifted traffic, a check that finds drift, its alert and report, the retraining; the new version."""
        t = self.demo.timeline
        self.demo.write("")
        t.say("9. dev's clients change the same way; dev's hourly drift check fires")
        self.send(self._shifted(2000, seed=8))
        before = self.fire()
        result: dict[str, Any] = self.demo._until("the drift check", lambda: self.outcome(before), timeout=120)
        self._drift_alerts("dev")
        self._keep_report(result.get("report"))
        return self._retraining(result)

    def drift_in_prod(self, version: int) -> None:
        """Prod's clients shift: prod's own check, in prod's account, against the registry's baseline."""
        t = self.demo.timeline
        self.demo.write("")
        t.say(
            f"8. prod's clients change: balances triple, the student flag flips; prod's daily check fires (v{version})"
        )
        self.send(self._shifted(2000, seed=9), env="prod")
        before = self.fire("prod")
        result: dict[str, Any] = self.demo._until("prod's drift check", lambda: self.outcome(before, "prod"), 120)
        t.say(
            f"   prod's check ran in prod's account on {result['records']} captured records of v{result['version']}, "
            f"against v{result['version']}'s baseline read from the registry's bucket: {result['status']}"
        )
        self._drift_alerts("prod")
        t.say("   prod's policy is alert; retrain would start the registry's pipeline through its retrain role")

    def _drift_alerts(self, env: str) -> None:
        """Print the drift alerts the environment's topic delivered (kept for the summary)."""
        alerts = self.demo._inboxes[env]()
        self.demo.alerts[env].extend(alerts)
        for alert in (a for a in alerts if self._kind(a) == "drift"):
            self.demo.timeline.say(f"   alert: {alert['Subject']}")
            for line in alert["Message"].splitlines()[2:5]:
                self.demo.timeline.say(f"     {line.strip()}")

    @staticmethod
    def _kind(alert: dict[str, Any]) -> str:
        return str((alert.get("MessageAttributes") or {}).get("kind", {}).get("Value", ""))

    def _keep_report(self, uri: str | None) -> None:
        if not uri:
            return
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        body = self.demo.clients["dev"]("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
        REPORT_PATH.write_bytes(body)
        self.demo.timeline.say(f"   Evidently's report: {uri} (a copy: open {REPORT_PATH})")

    def _retraining(self, result: dict[str, Any]) -> int:
        t, sm = self.demo.timeline, self.demo.sm("dev")
        arn = result.get("retraining")
        if result.get("status") != "retrain-started" or not arn:
            t.say(f"   no retraining: {result.get('status')}")
            return 0
        self.demo.runs.append("run 3 (retraining for drift)")
        t.say(f"   dev's drift policy (retrain) started the training pipeline: execution {arn.rsplit('/', 1)[-1]}")
        self.demo._until(
            "the retraining",
            lambda: sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] in FINISHED,
            timeout=300,
        )
        group = self.demo.group_arn
        newest = sm.list_model_packages(ModelPackageGroupName=group, SortOrder="Descending", MaxResults=1)
        version_arn = newest["ModelPackageSummaryList"][0]["ModelPackageArn"]
        package = self.demo._until(
            "the gate's decision",
            lambda: (
                (p := sm.describe_model_package(ModelPackageName=version_arn))["ModelApprovalStatus"]
                != "PendingManualApproval"
                and p
            ),
        )
        version = int(package["ModelPackageVersion"])
        decision = (package.get("ApprovalDescription") or "").splitlines()[0][:120]
        t.say(
            f"   v{version}, retrained on the configured data: {package['ModelApprovalStatus']} by the gate: {decision}"
        )
        if package["ModelApprovalStatus"] == "Approved":
            self.demo._until(f"dev to serve v{version}", lambda: self.demo._serving("dev", version), timeout=60)
            t.say(f"   dev serves v{version}; its next drift check compares its traffic with v{version}'s baseline")
        return version
