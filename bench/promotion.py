"""Promotion through the stages on the embedded AWS: what one desired-state lookup costs as the group grows.

A group holds ``--versions`` approved versions (default 1,000), most of them never promoted past Development, a few
at Staging and one live at Production. For each stage the deployer's lookup (``SageMakerGateway.newest_eligible``)
runs as it does in the registry's account (``Search`` filtering on ``ModelLifeCycle.Stage``) and as it does from a
deployment account (``ListModelPackages`` of the approved versions by the group's ARN), counting AWS calls and
timing them (median of ``--runs``). The Search lookup's calls must not grow with the versions that never reached the
stage; the ratio printed is its time against the listing's, measured in the same run.

    .venv/bin/python bench/promotion.py [--versions 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from local.aws import EmbeddedAWS, Timings
from sm_lifecycle.deployment.sagemaker import SageMakerGateway
from sm_lifecycle.kernel.stages import Stage

GROUP = "bench-promotion"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def populate(sm: Any, versions: int) -> str:
    """``versions`` approved versions: every 100th reached Staging, the 500th is live in Production."""
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    spec = {"Containers": [{"Image": IMAGE}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": []}
    for number in range(1, versions + 1):
        request: dict[str, Any] = {
            "ModelPackageGroupName": GROUP,
            "ModelApprovalStatus": "Approved",
            "InferenceSpecification": spec,
        }
        if number == versions // 2:
            request["ModelLifeCycle"] = {"Stage": "Production", "StageStatus": "Deployed"}
        elif number % 100 == 0:
            request["ModelLifeCycle"] = {"Stage": "Staging", "StageStatus": "Deployed"}
        else:
            request["ModelLifeCycle"] = {"Stage": "Development", "StageStatus": "Deployed"}
        sm.create_model_package(**request)
    return str(sm.describe_model_package_group(ModelPackageGroupName=GROUP)["ModelPackageGroupArn"])


def measure(sm: Any, group: str, stage: Stage, runs: int) -> tuple[int, float, int | None]:
    """(AWS calls of one lookup, median seconds, the version found)."""
    calls: list[str] = []

    def count(**_: Any) -> None:
        calls.append("call")

    sm.meta.events.register("before-call.sagemaker.*", count)
    gateway = SageMakerGateway(sm)
    times, found = [], None
    try:
        for _ in range(runs):
            calls.clear()
            started = time.perf_counter()
            newest = gateway.newest_eligible(group, stage)
            times.append(time.perf_counter() - started)
            found = newest.version if newest else None
    finally:
        sm.meta.events.unregister("before-call.sagemaker.*", count)
    return len(calls), statistics.median(times), found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    aws = EmbeddedAWS(timings=Timings()).start()
    try:
        sm = aws.client("sagemaker")
        group_arn = populate(sm, args.versions)
        print(f"desired-state lookup, {args.versions} approved versions (1 at Production, a few at Staging)")
        for stage in (Stage.PRODUCTION, Stage.STAGING):
            search_calls, search_time, found = measure(sm, GROUP, stage, args.runs)
            list_calls, list_time, listed = measure(sm, group_arn, stage, args.runs)
            assert found == listed, (found, listed)
            print(
                f"  {stage:<11} v{found}: Search {search_calls} call(s) {search_time * 1000:7.1f} ms | "
                f"ListModelPackages by ARN {list_calls} call(s) {list_time * 1000:7.1f} ms | "
                f"ratio {search_time / list_time:.2f}"
            )
    finally:
        aws.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
