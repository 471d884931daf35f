"""``python -m local demo``: the whole model lifecycle on the embedded AWS, narrated as a timeline.

Everything below happens through the AWS API and the events SageMaker emits; the demo itself only does what a
user does (upload data, start the pipeline, press Approve / Reject in the console, call the endpoint) and prints
what the automation did in response:

1. the stack of template.yaml is deployed on an embedded AWS (moto + our SageMaker extensions);
2. the ISLR ``Default`` credit-card data goes to the artifact bucket;
3. the SageMaker pipeline runs for real, its training job interrupted once on Spot and resumed from checkpoints;
4. the registered package is judged by the promotion gate (dev: automatic) and approved;
5. the deployer creates the endpoint with data capture; a prediction is made and its captured record read back;
6. a second, worse model is registered and rejected by the gate with its reason in the registry;
7. a data scientist approves it anyway in the console: the endpoint follows; then rejects it: the endpoint rolls back;
8. a run on bad data fails and ops get the alert.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from local.aws import EmbeddedAWS, Timings
from local.pipelines import PipelineRunner
from local.stack import LocalStack
from pipeline.config import git_sha

WORSE_MODEL = {"NumRound": "10", "MaxDepth": "1"}  # AUC about 0.86, against about 0.93 for the defaults
BAD_ROWS = b"default,student,balance,income\nNo,No,729.52,44361.62\nYes,No,lots,12000\n"


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
    """Prints, as they happen, the events SageMaker emitted and what the stack's functions did about them."""

    aws: EmbeddedAWS
    stack: LocalStack
    write: Callable[[str], None]
    started: float = field(default_factory=time.monotonic)
    _events: int = 0
    _invocations: int = 0
    quiet_kinds: tuple[str, ...] = ("SageMaker Endpoint Deployment State Change",)

    def stamp(self) -> str:
        return f"[{time.monotonic() - self.started:6.1f}s]"

    def say(self, text: str) -> None:
        self.write(f"{self.stamp()} {text}")

    def pump(self) -> None:
        events = self.aws.emitted_events
        for event in events[self._events :]:
            if event.get("detail-type") not in self.quiet_kinds:
                self.write(f"{self.stamp()}   event   {describe_event(event)}")
        self._events = len(events)
        invocations = self.stack.invocations
        for record in invocations[self._invocations :]:
            self.write(f"{self.stamp()}   lambda  {describe_invocation(record)}")
        self._invocations = len(invocations)

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


class Demo:
    def __init__(self, env: str = "dev", write: Callable[[str], None] | None = None) -> None:
        self.env = env
        self.runs: list[str] = []
        self.measured: dict[str, float] = {}
        self.alerts: list[dict[str, Any]] = []
        self.write = write or _print

    # ------------------------------------------------------------------------------------------------ helpers
    def _package(self, version: int) -> dict[str, Any]:
        arn = f"{self.group_arn.replace('model-package-group', 'model-package')}/{version}"
        return self.sm.describe_model_package(ModelPackageName=arn)

    def _endpoint(self) -> dict[str, Any] | None:
        try:
            return self.sm.describe_endpoint(EndpointName=self.endpoint)
        except self.sm.exceptions.ClientError:
            return None

    def _serving(self, version: int) -> bool:
        endpoint = self._endpoint()
        if not endpoint or endpoint["EndpointStatus"] != "InService":
            return False
        config = self.sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        tags = {t["Key"]: t["Value"] for t in self.sm.list_tags(ResourceArn=config["EndpointConfigArn"])["Tags"]}
        return any(value.endswith(f"/{version}") for key, value in tags.items() if "package-arn" in key)

    def _run(self, what: str, parameters: dict[str, str], interrupt: bool = False) -> tuple[str, dict[str, Any]]:
        from pipeline import commands  # noqa: PLC0415 - the SageMaker SDK is heavy: imported once, when needed

        self.runs.append(what)

        if interrupt:
            self.runner.interrupt_training(after_checkpoints=2)
        arn = commands.start(self.target, parameters=parameters, boto_session=self.session)
        self.timeline.say(f"{what}: execution {_short(arn)} started {json.dumps(parameters) if parameters else ''}")
        described = self.timeline.until(
            f"execution {_short(arn)}",
            lambda: (
                (d := self.sm.describe_pipeline_execution(PipelineExecutionArn=arn))["PipelineExecutionStatus"]
                in commands.TERMINAL
                and d
            ),
            timeout=300,
        )
        return arn, described

    def _newest_version(self) -> int:
        packages = self.sm.list_model_packages(ModelPackageGroupName=self.group, SortBy="CreationTime")
        return max(int(p["ModelPackageArn"].rsplit("/", 1)[1]) for p in packages["ModelPackageSummaryList"])

    # ------------------------------------------------------------------------------------------------ the story
    def run(self) -> int:
        started = time.monotonic()
        say = self.write
        say("SageMaker model lifecycle, locally: every step below goes through the AWS API and SageMaker's events.")
        say("")
        self.aws = EmbeddedAWS(timings=Timings.demo()).start()
        try:
            return self._story(started)
        finally:
            self.aws.stop()

    def _story(self, started: float) -> int:
        say = self.write
        aws = self.aws
        os.environ.update(aws.env())  # the SDK and boto3 in this process talk to the embedded AWS
        self.session = boto3.session.Session(region_name=aws.region)
        self.sm, self.s3 = aws.client("sagemaker"), aws.client("s3")
        stack = LocalStack(aws, env=self.env, retry_delays=(1.0, 2.0), parameter_overrides={"GitSha": git_sha()})
        outputs = stack.deploy()
        stack.start()
        self.stack = stack
        self.timeline = Timeline(aws, stack, self.write)
        t = self.timeline
        self.group, self.endpoint = outputs["ModelPackageGroupName"], outputs["EndpointName"]
        self.group_arn = self.sm.describe_model_package_group(ModelPackageGroupName=self.group)["ModelPackageGroupArn"]
        alerts = _subscribe(aws, outputs["AlertTopicArn"])
        t.say(f"1. embedded AWS at {aws.endpoint_url}; stack {stack.stack_name} deployed from template.yaml")
        for logical_id in sorted(stack.functions):
            t.say(f"     {logical_id}")
        try:
            with PipelineRunner(aws) as runner:
                self.runner = runner
                self._pipeline_story(outputs, alerts)
        finally:
            stack.stop()
        say("")
        say(f"Done in {time.monotonic() - started:.0f} s.")
        return 0

    def _pipeline_story(self, outputs: dict[str, str], alerts: Any) -> None:
        from pipeline import quiet_sdk_logs  # noqa: PLC0415

        quiet_sdk_logs()  # before the SDK is imported: it would print its configuration to stdout
        from pipeline import commands  # noqa: PLC0415
        from pipeline.config import Target  # noqa: PLC0415

        t = self.timeline
        self.target = Target.from_outputs(outputs, self.aws.region)
        uri = commands.upload_data(self.target, boto_session=self.session)
        t.say(f"2. raw data (ISLR Default, 10,000 credit-card customers) uploaded to {uri}")
        arn = commands.upsert(self.target, self.env, boto_session=self.session)
        t.say(f"   pipeline {_short(arn)} upserted from its SageMaker SDK v2 definition")
        v1 = self._first_model()
        v2, package = self._weaker_model()
        self._by_hand(package, v1, v2)
        self._bad_data(outputs["ArtifactBucketName"], alerts)
        self._summary(outputs, v1, v2)

    def _first_model(self) -> int:
        """Chapters 3 to 5: a Spot-interrupted run, its model approved by the gate, deployed, serving."""
        t = self.timeline
        self.write("")
        t.say("3. a pipeline run; its Spot training job will be interrupted once and resume from its checkpoints")
        self._run("run 1 (Spot-interrupted)", {}, interrupt=True)
        v1 = self._newest_version()
        registered = time.monotonic()
        t.until("the deployer to serve v1", lambda: self._serving(v1), timeout=120)
        self.measured["registered → gate approved → endpoint created, v1 serving"] = time.monotonic() - registered
        package = self._package(v1)
        t.say(f"4. v{v1} is {package['ModelApprovalStatus']}: {package.get('ApprovalDescription', '')[:160]}")
        t.say(f"5. endpoint {self.endpoint} serves v{v1}")
        self._predict()
        return v1

    def _weaker_model(self) -> tuple[int, dict[str, Any]]:
        """Chapter 6: a weaker model, rejected by the gate."""
        t = self.timeline
        self.write("")
        t.say("6. a second run with a weaker model")
        self._run("run 2 (weaker model)", WORSE_MODEL)
        v2 = self._newest_version()
        t.until(
            f"the gate's decision on v{v2}", lambda: self._package(v2)["ModelApprovalStatus"] != "PendingManualApproval"
        )
        package = self._package(v2)
        t.say(f"   v{v2} is {package['ModelApprovalStatus']}: {package.get('ApprovalDescription', '')[:200]}")
        return v2, package

    def _by_hand(self, package: dict[str, Any], v1: int, v2: int) -> None:
        """Chapter 7: the weaker model approved in the console (the endpoint follows), then rejected (it rolls back)."""
        t = self.timeline
        self.write("")
        t.say(f"7. a data scientist presses Approve on v{v2} in the console (UpdateModelPackage)")
        self.sm.update_model_package(
            ModelPackageArn=package["ModelPackageArn"],
            ModelApprovalStatus="Approved",
            ApprovalDescription="Approved by hand for an A/B look",
        )
        pressed = time.monotonic()
        t.until(
            "the deployer to update the endpoint", lambda: (self._endpoint() or {}).get("EndpointStatus") == "Updating"
        )
        self.measured["Approve pressed → UpdateEndpoint issued by the deployer"] = time.monotonic() - pressed
        t.until(f"the endpoint to follow to v{v2}", lambda: self._serving(v2))
        self.measured[f"Approve pressed → v{v2} serving (SageMaker's update simulated: 6 s)"] = (
            time.monotonic() - pressed
        )
        t.say(f"   the endpoint serves v{v2}; now the data scientist presses Reject on it")
        self.sm.update_model_package(
            ModelPackageArn=package["ModelPackageArn"],
            ModelApprovalStatus="Rejected",
            ApprovalDescription="Rejected by hand: worse than v1",
        )
        pressed = time.monotonic()
        t.until(f"the endpoint to roll back to v{v1}", lambda: self._serving(v1))
        self.measured[f"Reject pressed → rolled back, v{v1} serving"] = time.monotonic() - pressed
        t.say(f"   rolled back: the endpoint serves v{v1} again")

    def _bad_data(self, bucket: str, alerts: Any) -> None:
        """Chapter 8: a run on bad data fails, and ops get the alert."""
        t, say = self.timeline, self.write
        say("")
        t.say("8. a run on bad data (a non-numeric balance)")
        self.s3.put_object(Bucket=bucket, Key="datasets/bad/raw.csv", Body=BAD_ROWS)
        _, described = self._run("run 3 (bad data)", {"InputDataUri": f"s3://{bucket}/datasets/bad/raw.csv"})
        t.say(f"   execution {described['PipelineExecutionStatus']}: {described.get('FailureReason', '')}")
        self.stack.wait_idle(60)
        t.pump()
        messages = alerts()
        t.say(f"   the alert topic delivered {len(messages)} message(s):")
        for message in messages:
            say(f"     Subject: {message['Subject']}")
            lines = message["Message"].splitlines()
            for line in lines[:12] if "Failed" in message["Subject"] else lines[:2]:
                say(f"     | {line}")
        self.alerts = messages

    def _summary(self, outputs: dict[str, str], v1: int, v2: int) -> None:
        say = self.write
        sqs = self.aws.client("sqs")
        invocations = self.stack.invocations
        dead_letters = sum(
            int(
                sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
                    "ApproximateNumberOfMessages"
                ]
            )
            for name, url in outputs.items()
            if name.endswith("DeadLetterQueueUrl")
        )
        endpoint = self._endpoint() or {}
        say("")
        say("Summary")
        say(f"  pipeline runs     {len(self.runs)}: {', '.join(self.runs)}")
        for version in (v1, v2):
            package = self._package(version)
            say(f"  package v{version}        {package['ModelApprovalStatus']}")
        status, config = endpoint.get("EndpointStatus"), endpoint.get("EndpointConfigName")
        say(f"  endpoint          {self.endpoint} {status} on {config}")
        for what, seconds in self.measured.items():
            say(f"  {seconds:5.1f} s           {what}")
        outcomes = [record["outcome"] for record in invocations]
        say(
            f"  functions         {len(invocations)} invocations: {outcomes.count('ok')} ok, "
            f"{outcomes.count('error')} error, {outcomes.count('dead-lettered')} dead-lettered; "
            f"{dead_letters} message(s) in the dead-letter queues"
        )
        say(f"  alert topic       {len(self.alerts)} message(s)")
        if self.aws.iam is not None:  # what the functions, the pipeline and its jobs were allowed, as their roles
            counts = self.aws.iam.log.counts
            say(f"  IAM               {counts['allowed']} requests allowed, {counts['denied']} denied (enforced)")

    def _predict(self) -> None:
        t = self.timeline
        runtime = self.aws.client("sagemaker-runtime")
        row = "0,1500.0,20000.0"  # student, balance, income
        answer = runtime.invoke_endpoint(EndpointName=self.endpoint, ContentType="text/csv", Body=row)
        t.say(
            f"   prediction for a student with a 1,500 balance: P(default) = {answer['Body'].read().decode().strip()}"
        )
        # the demo's sampling is whatever the environment configures: call until one request is captured
        bucket, prefix = _capture_location(self.sm, self.endpoint)
        for _ in range(50):
            listed = self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
            if listed:
                break
            runtime.invoke_endpoint(EndpointName=self.endpoint, ContentType="text/csv", Body=row)
        if not listed:
            t.say("   no request captured (sampling)")
            return
        body = self.s3.get_object(Bucket=bucket, Key=listed[0]["Key"])["Body"].read().decode()
        record = json.loads(body.splitlines()[0])
        t.say(f"   captured by data capture in s3://{bucket}/{listed[0]['Key']}:")
        t.say(f"     {json.dumps(record)[:300]}")


def _capture_location(sm: Any, endpoint: str) -> tuple[str, str]:
    config_name = sm.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    destination = sm.describe_endpoint_config(EndpointConfigName=config_name)["DataCaptureConfig"]["DestinationS3Uri"]
    bucket, _, prefix = destination.removeprefix("s3://").partition("/")
    return bucket, prefix


def _subscribe(aws: EmbeddedAWS, topic_arn: str) -> Callable[[], list[dict[str, Any]]]:
    """An SQS queue subscribed to the alert topic, as an ops inbox; returns a reader of the SNS envelopes."""
    sqs, sns = aws.client("sqs"), aws.client("sns")
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


def main(env: str = "dev") -> int:
    return Demo(env).run()
