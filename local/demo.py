"""``python -m local demo``: train once, promote everywhere, in three accounts on the embedded AWS, as a timeline.

Everything below happens through the AWS API and the events SageMaker emits; the demo itself only does what people
do (upload data, start the pipeline, approve at Production, call an endpoint) and prints what the automation did:

1. the registry stack (dev) and the deployment stacks (staging, prod) are deployed in three accounts;
2. the ISLR ``Default`` credit-card data goes to the registry's artifact bucket; the pipeline is upserted there;
3. one pipeline run trains v1 (its Spot training job interrupted once, resumed from checkpoints); the metrics gate
   approves it in dev, dev's endpoint serves it, dev's stage gate bakes it and hands it to staging, whose gate
   approves it (auto), whose endpoint serves it and bakes it: it waits for a person at Production;
4. a release manager approves it (``make promote``); prod's endpoint rolls it out;
5. a better v2 follows to staging, where a 5xx burst during the canary trips the guardrails: staging rolls back,
   v2 stops at Staging with an alert, prod keeps v1;
6. dev's drift loop: traffic like the training data is checked (no drift); shifted traffic is checked (drift: an
   alert with the top features and Evidently's report), and dev's policy retrains: v3 meets the promotion gate;
   before that, prod's traffic shifts: prod's own check (in prod's account, against the registry's baseline) alerts;
7. the summary: per version, each stage's time and gate decision; the drift checks.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from local.aws import EmbeddedAWS, Timings
from local.demo_drift import DriftChapter
from local.pipelines import PipelineRunner
from pipeline.config import git_sha
from sm_lifecycle.kernel.stages import Stage

WORSE_MODEL = {"NumRound": "10", "MaxDepth": "1", "CheckpointFrequency": "2"}  # AUC about 0.86, against about 0.93
"""Run 1: few shallow trees, a checkpoint every 2 rounds (the Spot interruption comes after the second one)."""


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn.rsplit(":", 1)[-1]


def describe_event(event: dict[str, Any]) -> str:
    """One line for an event SageMaker emitted."""
    kind, d = event.get("detail-type", ""), event.get("detail", {})
    if kind == "SageMaker Model Package State Change":
        what = f"package v{d.get('ModelPackageVersion')} {d.get('ModelApprovalStatus')}"
        fields = d.get("UpdatedModelPackageFields")
        return f"{what} ({'updated: ' + ', '.join(fields) if fields else 'registered'})"
    if kind == "SageMaker Endpoint State Change":
        reason = f" — {d['FailureReason']}" if d.get("FailureReason") else ""
        return f"endpoint {d.get('EndpointName')} {d.get('EndpointStatus')} on {d.get('EndpointConfigName')}{reason}"
    if kind == "SageMaker Endpoint Deployment State Change":
        return f"endpoint {d.get('EndpointName')} deployment {d.get('Stage', {}).get('Name', d.get('Stage'))}"
    if kind == "SageMaker Model Building Pipeline Execution Status Change":
        execution = _short(d.get("pipelineExecutionArn", ""))
        return f"pipeline execution {execution} {d.get('currentPipelineExecutionStatus')}"
    if kind == "SageMaker Model Building Pipeline Execution Step Status Change":
        reason = f" — {d['failureReason']}" if d.get("failureReason") else ""
        return f"  step {d.get('stepName')} {d.get('currentStepStatus')}{reason}"
    if kind == "SageMaker Training Job State Change":
        return f"  training job {d.get('TrainingJobStatus')} / {d.get('SecondaryStatus')}"
    if kind == "SageMaker Processing Job State Change":
        return f"  processing job {d.get('ProcessingJobName', '')[-30:]} {d.get('ProcessingJobStatus')}"
    return kind


def describe_invocation(record: dict[str, Any]) -> str:
    """One line for a function invocation and what it decided."""
    result = record.get("result") or {}
    text = f"{record['function']}: {record['outcome']}"
    if isinstance(result, dict) and result.get("status"):
        text += f" → {result['status']}"
        for key in ("decision", "desired_version", "detail", "reason", "error"):
            if result.get(key) not in (None, "", [], {}):
                value = result[key]
                text += f" ({key}: {value if key != 'desired_version' else 'v' + str(value)})"
                break
    if record.get("error"):
        text += f" — {record['error']}"
    return text


@dataclass
class Timeline:
    """Prints, as they happen, the events SageMaker emitted and what the stacks' functions did about them."""

    aws: EmbeddedAWS
    stacks: list[Any]
    write: Callable[[str], None]
    started: float = field(default_factory=time.monotonic)
    _events: int = 0
    _invocations: dict[str, int] = field(default_factory=dict)
    quiet_kinds: tuple[str, ...] = ("SageMaker Endpoint Deployment State Change",)

    def stamp(self) -> str:
        return f"[{time.monotonic() - self.started:6.1f}s]"

    def say(self, text: str) -> None:
        self.write(f"{self.stamp()} {text}")

    def pump(self) -> None:
        events = self.aws.emitted_events
        for event in events[self._events :]:
            if event.get("detail-type") not in self.quiet_kinds:
                self.write(f"{self.stamp()}   event   {event.get('account')} {describe_event(event)}")
        self._events = len(events)
        for stack in self.stacks:
            invocations = stack.invocations
            for record in invocations[self._invocations.get(stack.env, 0) :]:
                self.write(f"{self.stamp()}   lambda  {stack.env:<8} {describe_invocation(record)}")
            self._invocations[stack.env] = len(invocations)

    def until(self, what: str, predicate: Callable[[], Any], timeout: float = 120.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            value = predicate()
            if value:
                self.pump()
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"demo: gave up waiting for {what} after {timeout:.0f} s")
            time.sleep(0.1)


ENVIRONMENTS = ("dev", "staging", "prod")
DRIFT_OVERRIDES = {"DriftRetrainCooldownHours": "0"}
"""dev's retraining cooldown (24 h in samconfig.toml) is off: the demo's runs are minutes apart."""
DEMO_TIMINGS = Timings(endpoint_create=1.5, endpoint_update=3.0, endpoint_delete=0.5, schedule_scale=0.0005)
"""Endpoint transitions a few seconds long; schedule time 2,000 times faster (dev's 30-minute bake: 0.9 s,
staging's 2 hours: 3.6 s)."""


@dataclass
class Stages:
    """Each version's way through the stages, as the registry shows it (polled), with when it got there."""

    registry: Any
    group_arn: str
    started: float
    seen: dict[int, list[tuple[float, str, str, str]]] = field(default_factory=dict)

    def poll(self) -> list[str]:
        """New transitions since the last poll, one line each."""
        lines = []
        pages = self.registry.get_paginator("list_model_packages").paginate(ModelPackageGroupName=self.group_arn)
        for page in pages:
            for summary in page["ModelPackageSummaryList"]:
                version, life = int(summary["ModelPackageVersion"]), summary.get("ModelLifeCycle") or {}
                state = (life.get("Stage", ""), life.get("StageStatus", ""))
                history = self.seen.setdefault(version, [])
                if state[0] and (not history or history[-1][1:3] != state):
                    history.append((time.monotonic() - self.started, *state, life.get("StageDescription", "")))
                    lines.append(f"v{version} → {{{state[0]}, {state[1]}}}: {life.get('StageDescription', '')[:150]}")
        return lines

    def status(self, version: int) -> tuple[str, str]:
        history = self.seen.get(version) or [(0.0, "", "", "")]
        return history[-1][1], history[-1][2]


class Demo:
    """Train once, promote everywhere: the registry (dev) and two deployment accounts (staging, prod)."""

    def __init__(self, env: str = "all", write: Callable[[str], None] | None = None) -> None:
        self.env = env
        self.runs: list[str] = []
        self.measured: dict[str, float] = {}
        self.alerts: dict[str, list[dict[str, Any]]] = {}
        self.write = write or _print

    # ------------------------------------------------------------------------------------------------ helpers
    def sm(self, env: str) -> Any:
        return self.clients[env]("sagemaker")

    def _endpoint(self, env: str) -> dict[str, Any] | None:
        try:
            return self.sm(env).describe_endpoint(EndpointName=self.landscape[env].outputs["EndpointName"])
        except self.sm(env).exceptions.ClientError:
            return None

    def _serving(self, env: str, version: int) -> bool:
        endpoint = self._endpoint(env)
        if not endpoint or endpoint["EndpointStatus"] != "InService":
            return False
        sm = self.sm(env)
        config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=config["EndpointConfigArn"])["Tags"]}
        return tags.get("model-package-version") == str(version)

    def _until(self, what: str, predicate: Callable[[], Any], timeout: float = 120.0) -> Any:
        def check() -> Any:
            for line in self.stages.poll():
                self.timeline.say(f"  registry {line}")
            return predicate()

        return self.timeline.until(what, check, timeout)

    def _run(self, what: str, parameters: dict[str, str], interrupt: bool = False) -> int:
        from pipeline import commands  # noqa: PLC0415 - the SageMaker SDK is heavy: imported once, when needed

        self.runs.append(what)
        armed = self.runner.interrupt_training(after_checkpoints=2) if interrupt else None
        arn = commands.start(self.target, parameters=parameters, boto_session=self.session)
        self.timeline.say(f"{what}: execution {_short(arn)} started {json.dumps(parameters) if parameters else ''}")
        registry = self.sm("dev")
        self._until(
            f"execution {_short(arn)}",
            lambda: (
                registry.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
                in commands.TERMINAL
            ),
            timeout=300,
        )
        if armed is not None:
            self._report_interruption(armed)
        packages = registry.list_model_packages(ModelPackageGroupName=self.group_arn)["ModelPackageSummaryList"]
        return max(int(p["ModelPackageVersion"]) for p in packages)

    def _report_interruption(self, armed: Any) -> None:
        """What the armed Spot interruption did; taken back if the job ended first (no later job meets it)."""
        if self.runner.disarm(armed):
            saved = [path.rsplit("/", 1)[-1] for path in armed.checkpoints_at_interruption]
            self.timeline.say(
                f"   {armed.job_name}: Spot reclaimed its instance after {', '.join(saved)}; "
                f"the job restarted from {saved[-1]}"
            )
        else:
            self.timeline.say("   the training job ended before Spot reclaimed its instance (no interruption)")

    # ------------------------------------------------------------------------------------------------ the story
    def run(self) -> int:
        started = time.monotonic()
        self.write("Train once, promote everywhere, locally: three AWS accounts on one embedded AWS; every step goes")
        self.write("through the AWS API and the events SageMaker emits.")
        self.write("")
        self.aws = EmbeddedAWS(timings=DEMO_TIMINGS).start()
        try:
            return self._story(started)
        finally:
            self.aws.stop()

    def _deploy(self, started: float) -> None:
        from local.stack.landscape import Landscape  # noqa: PLC0415

        aws = self.aws
        os.environ.update(aws.env())  # the SDK and boto3 in this process talk to the embedded AWS (the registry)
        self.session = boto3.session.Session(region_name=aws.region)
        self.landscape = Landscape(
            aws,
            ENVIRONMENTS,
            retry_delays=(1.0, 2.0),
            # the demo fires dev's drift check itself (its hourly schedule, scaled, would fire every 1.8 s), and its
            # runs are minutes apart: no retraining cooldown
            parameter_overrides={"GitSha": git_sha(), "DriftCheckRate": "rate(30 days)", **DRIFT_OVERRIDES},
        )
        self.landscape.deploy()
        self.landscape.start()
        self.clients = {
            env: functools.partial(aws.client, account_id=stack.account_id)
            for env, stack in self.landscape.stacks.items()
        }
        self.group_arn = self.landscape["dev"].outputs["ModelPackageGroupArn"]
        self.stages = Stages(self.sm("dev"), self.group_arn, started)
        self.timeline = Timeline(aws, list(self.landscape), self.write, started=started)
        for env, stack in self.landscape.stacks.items():
            self.alerts[env] = []
            self._inboxes[env] = _subscribe(aws, stack.outputs["AlertTopicArn"], account_id=stack.account_id)
            functions = ", ".join(sorted(stack.functions))
            self.timeline.say(f"1. {env:<8} account {stack.account_id}: stack {stack.stack_name} ({functions})")

    def _story(self, started: float) -> int:
        self._inboxes: dict[str, Callable[[], list[dict[str, Any]]]] = {}
        sdk = _import_in_background("pipeline.commands")  # the SageMaker SDK, while the stacks deploy
        self._deploy(started)
        sdk.join()
        try:
            with PipelineRunner(self.aws) as runner:
                self.runner = runner
                self._chapters()
        finally:
            self.landscape.stop()
        self.write("")
        self.write(f"Done in {time.monotonic() - started:.0f} s.")
        return 0

    def _chapters(self) -> None:
        from pipeline import quiet_sdk_logs  # noqa: PLC0415

        quiet_sdk_logs()  # before the SDK is imported: it would print its configuration to stdout
        from pipeline import commands  # noqa: PLC0415
        from pipeline.config import Target  # noqa: PLC0415

        t = self.timeline
        self.target = Target.from_outputs(self.landscape["dev"].outputs, self.aws.region)
        uri = commands.upload_data(self.target, boto_session=self.session)
        t.say(f"2. raw data (ISLR Default, 10,000 credit-card customers) uploaded to {uri}")
        arn = commands.upsert(self.target, "dev", boto_session=self.session)
        t.say(f"   pipeline {_short(arn)} upserted in the registry account from its SageMaker SDK v2 definition")
        for env, stack in self.landscape.stacks.items():  # as make deploy does in each account
            drift_arn = commands.upsert_drift_check(stack.outputs, self.aws.region, self._session_of(stack.account_id))
            t.say(f"   pipeline {_short(drift_arn)} upserted in {env}'s account: its scheduled drift checks start it")
        self.drift = DriftChapter(self)
        v1 = self._first_model()
        self._to_production(v1)
        v2 = self._better_model()
        self._canary_burst(v1, v2)
        self.clean_check.join()
        self.drift.drift_in_prod(v1)
        v3 = self.drift.drift_then_retraining()
        self._summary(v1, v2, v3)

    def _session_of(self, account_id: str) -> boto3.session.Session:
        """A session of the account's administrator (the registry's: the demo's own)."""
        if account_id == self.aws.account_id:
            return self.session
        keys = self.aws.account_credentials(account_id)
        return boto3.session.Session(
            region_name=self.aws.region,
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
        )

    def _first_model(self) -> int:
        t = self.timeline
        self.write("")
        t.say("3. one pipeline run (its Spot training job interrupted once, resumed from its checkpoints) trains v1")
        v1 = self._run("run 1", WORSE_MODEL, interrupt=True)
        self.clean_check = self.drift.no_drift_in_background(v1)  # dev's clients, while v1 goes on to staging
        trained = time.monotonic()
        self._until("v1 to wait at Production", lambda: self.stages.status(v1) == ("Production", "PendingApproval"))
        self.measured["v1 registered → dev, baked → staging, baked → waiting at prod"] = time.monotonic() - trained
        t.say("4. v1 served in dev and in staging, baked in both: it waits for a person at Production")
        return v1

    def _to_production(self, v1: int) -> None:
        from tools.promotion import promote  # noqa: PLC0415
        from tools.stackinfo import StackInfo  # noqa: PLC0415

        t, prod = self.timeline, self.landscape["prod"]
        self.write("")
        credentials = self.aws.account_credentials(prod.account_id)
        info = StackInfo(
            "prod",
            self.aws.region,
            prod.outputs,
            self.aws.endpoint_url,
            (credentials.access_key_id, credentials.secret_access_key),
        )
        t.say(f"5. a release manager approves v{v1} at Production: make promote VERSION={v1} STAGE=Production")
        pressed = time.monotonic()
        promote(info, v1, Stage.PRODUCTION, "approved by the release manager (demo)")
        self._until("prod to serve v1", lambda: self._serving("prod", v1))
        self.measured["prod approval → v1 serving in prod"] = time.monotonic() - pressed
        t.say(f"   prod serves v{v1}")
        self._predict("prod")

    def _better_model(self) -> int:
        t = self.timeline
        self.write("")
        t.say("6. a second run trains a better model")
        v2 = self._run("run 2 (better model)", {})
        self._until("v2 to reach staging", lambda: self.stages.status(v2)[0] == "Staging")
        return v2

    def _canary_burst(self, v1: int, v2: int) -> None:
        t = self.timeline
        self.write("")
        staging = self.landscape["staging"].outputs["EndpointName"]
        self._until(
            "staging's canary of v2", lambda: (self._endpoint("staging") or {}).get("EndpointStatus") == "Updating"
        )
        t.say(f"7. while staging's canary of v{v2} takes traffic, its model answers a burst of 5xx")
        self.aws.control.inject_invocation_errors(staging, status=500, times=20)
        runtime = self.clients["staging"]("sagemaker-runtime")
        for _ in range(20):
            with contextlib.suppress(runtime.exceptions.ModelError):
                runtime.invoke_endpoint(EndpointName=staging, ContentType="text/csv", Body="0,1500.0,20000.0")
        self._until(f"v{v2} to stop at staging", lambda: self.stages.status(v2) == ("Staging", "Rejected"), timeout=60)
        self.landscape.wait_idle(60)
        t.say(f"   the guardrails rolled staging back to v{v1}; v{v2} stopped at Staging; prod keeps v{v1}")
        assert self._serving("staging", v1) and self._serving("prod", v1)

    def _summary(self, v1: int, v2: int, v3: int) -> None:
        say = self.write
        self.stages.poll()
        for env, inbox in self._inboxes.items():
            self.alerts[env].extend(inbox())
        say("")
        say("Summary")
        say(f"  pipeline runs   {len(self.runs)}: {', '.join(self.runs)} (one registry, trained once per version)")
        for version in (v for v in (v1, v2, v3) if v):
            say(f"  v{version}")
            for at, stage, status, description in self.stages.seen.get(version, []):
                say(f"    {at:6.1f} s  {stage:<11} {status:<15} {description[:110]}")
        for env in ENVIRONMENTS:
            endpoint = self._endpoint(env) or {}
            live = next((v for v in (v3, v2, v1) if v and self._serving(env, v)), None)
            say(f"  {env:<8} endpoint {endpoint.get('EndpointName')} {endpoint.get('EndpointStatus')} serving v{live}")
        checks = ", ".join(
            f"{env} {r['status']} ({r['records']} records, share {r['drift_share']:.2f})"
            for env, r in self.drift.results
        )
        say(f"  drift checks    {len(self.drift.results)}: {checks}")
        for what, seconds in self.measured.items():
            say(f"  {seconds:5.1f} s         {what}")
        invocations = [r for stack in self.landscape for r in stack.invocations]
        outcomes = [record["outcome"] for record in invocations]
        say(
            f"  functions       {len(invocations)} invocations in 3 accounts: {outcomes.count('ok')} ok, "
            f"{outcomes.count('error')} error, {outcomes.count('dead-lettered')} dead-lettered"
        )
        for env, messages in self.alerts.items():
            subjects = "; ".join(m["Subject"] for m in messages) or "none"
            say(f"  alerts {env:<8} {len(messages)}: {subjects[:160]}")
        if self.aws.iam is not None:
            counts = self.aws.iam.log.counts
            say(f"  IAM             {counts['allowed']} requests allowed, {counts['denied']} denied (enforced)")

    def _predict(self, env: str) -> None:
        runtime = self.clients[env]("sagemaker-runtime")
        endpoint = self.landscape[env].outputs["EndpointName"]
        answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body="0,1500.0,20000.0")
        self.timeline.say(
            f"   prediction in {env} for a student with a 1,500 balance: P(default) = "
            f"{answer['Body'].read().decode().strip()}"
        )


def _import_in_background(module: str) -> threading.Thread:
    """Start importing ``module`` (the SDK's logs quietened first: it would print its configuration)."""
    from pipeline import quiet_sdk_logs  # noqa: PLC0415

    quiet_sdk_logs()
    thread = threading.Thread(target=importlib.import_module, args=(module,), name=f"import {module}", daemon=True)
    thread.start()
    return thread


def _subscribe(aws: EmbeddedAWS, topic_arn: str, account_id: str) -> Callable[[], list[dict[str, Any]]]:
    """An SQS queue of the topic's account subscribed to the alert topic, as an ops inbox; a reader of the SNS
    envelopes."""
    sqs, sns = aws.client("sqs", account_id=account_id), aws.client("sns", account_id=account_id)
    url = sqs.create_queue(QueueName="ops-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)

    def read() -> list[dict[str, Any]]:
        messages = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                messages.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return messages

    return read


def main(env: str = "all") -> int:
    return Demo(env).run()
