"""Move a model package version to a stage as a person does, and print every version's way through the stages.

    make promote VERSION=3 STAGE=Production [ENV=prod] [NOTE="reviewed by ana"]
    make promotions [VERSION=3] [ENV=dev]

``promote`` writes ``{STAGE, Approved}`` on the version's ``ModelLifeCycle`` (``UpdateModelPackage`` in the registry,
with the environment's own credentials: an account may write only its own stage, the group's policy says so),
after re-reading it: only a version waiting at that stage (``{STAGE, PendingApproval}``, put there by the previous
stage's gate after its bake) can be approved there; a stage is never skipped. The environment's deployer then rolls
the version out. ``promotions`` prints, per version, its approval status and current stage from the registry, and
the transitions the stage gates logged (each environment's gate log group), oldest first.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel.stages import LifeCycle, Stage, StageStatus, check_transition
from tools.stackinfo import StackInfo, resolve

ENVIRONMENT_OF = {Stage.DEVELOPMENT: "dev", Stage.STAGING: "staging", Stage.PRODUCTION: "prod"}


def summaries(sagemaker: Any, group: str) -> Iterator[dict[str, Any]]:
    for page in sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group):
        yield from page["ModelPackageSummaryList"]


def package_arn(sagemaker: Any, group: str, version: int) -> str:
    if group.startswith("arn:"):  # a version's ARN is its group's, versioned: no listing needed
        return f"{group.replace(':model-package-group/', ':model-package/', 1)}/{version}"
    for summary in summaries(sagemaker, group):
        if int(summary.get("ModelPackageVersion", 0)) == version:
            return str(summary["ModelPackageArn"])
    raise SystemExit(f"no version {version} in model package group {group}")


def group_of(stack: StackInfo) -> str:
    """The registry's group as SageMaker requests name it (its ARN: it may be another account's)."""
    return stack.outputs.get("ModelPackageGroupArn") or stack.outputs["ModelPackageGroupName"]


def promote(stack: StackInfo, version: int, stage: Stage, note: str | None) -> dict[str, Any]:
    sagemaker = stack.client("sagemaker")
    arn = package_arn(sagemaker, group_of(stack), version)
    try:
        package = sagemaker.describe_model_package(ModelPackageName=arn)
    except sagemaker.exceptions.ClientError as exc:
        raise SystemExit(f"version {version}: {exc}") from None
    current = LifeCycle.from_api(package.get("ModelLifeCycle"))
    description = note or f"approved at {stage} by {getpass.getuser()} (make promote)"
    wanted = LifeCycle(stage, StageStatus.APPROVED, description)
    if package.get("ModelApprovalStatus") != "Approved":
        raise SystemExit(f"version {version} is {package.get('ModelApprovalStatus')}, not Approved: not promoted")
    try:
        check_transition(current, wanted)
    except Exception as exc:  # the refusal names the current and the wanted stage
        raise SystemExit(f"version {version} cannot be approved at {stage}: {exc}") from None
    sagemaker.update_model_package(ModelPackageArn=arn, ModelLifeCycle=wanted.to_api())
    return {"model_package_arn": arn, "stage": str(stage), "status": str(StageStatus.APPROVED), "note": description}


# what a stage gate's log says it did (its outcomes that changed, or asked for, something)
GATE_TRANSITIONS = frozenset({"deployed", "approved", "approval-requested", "baked", "promoted", "rejected"})


def gate_transitions(stack: StackInfo) -> Iterator[dict[str, Any]]:
    """The transitions the environment's stage gate logged (none when it runs no gate), oldest first: each
    ``handled`` line of its log group whose outcome is one of ``GATE_TRANSITIONS``."""
    group = stack.outputs.get("StageGateLogGroupName")
    if not group:
        return
    pages = (
        stack.client("logs").get_paginator("filter_log_events").paginate(logGroupName=group, filterPattern='"handled"')
    )
    for page in pages:
        for event in page["events"]:
            outcome = _outcome_of(event.get("message", ""))
            if outcome is None or outcome.get("status") not in GATE_TRANSITIONS:
                continue
            yield {
                "time": datetime.fromtimestamp(event["timestamp"] / 1000, tz=UTC).isoformat(timespec="milliseconds"),
                "env": stack.env,
                **{k: outcome[k] for k in ("version", "stage", "status", "to", "evidence") if k in outcome},
            }


def _outcome_of(message: str) -> dict[str, Any] | None:
    """The ``outcome`` of one of the handler's JSON log lines (None for other lines)."""
    try:
        line = json.loads(message)
    except ValueError:
        return None
    outcome = line.get("outcome") if isinstance(line, dict) else None
    return outcome if isinstance(outcome, dict) and isinstance(outcome.get("version"), int) else None


def history(stack: StackInfo, version: int | None, gates: Iterable[StackInfo] = ()) -> list[dict[str, Any]]:
    """Each version's approval status and current stage (the registry), newest first, with the transitions the
    stage gates of ``gates`` (environments) logged for it, oldest first."""
    logged: dict[int, list[dict[str, Any]]] = {}
    for gate in gates:
        try:
            for transition in gate_transitions(gate):
                logged.setdefault(transition.pop("version"), []).append(transition)
        except (BotoCoreError, ClientError) as exc:  # one environment's log out of reach: the others still count
            _out_of_reach(gate.env, exc)
    rows = []
    for summary in summaries(stack.client("sagemaker"), group_of(stack)):
        number = int(summary.get("ModelPackageVersion", 0))
        if version is not None and number != version:
            continue
        life = LifeCycle.from_api(summary.get("ModelLifeCycle"))
        rows.append(
            {
                "version": number,
                "approval": summary.get("ModelApprovalStatus"),
                "stage": str(life.stage) if life else None,
                "stage_status": str(life.status) if life else None,
                "description": life.description if life else None,
                "transitions": sorted(logged.get(number, []), key=lambda t: t["time"]),
            }
        )
    return sorted(rows, key=lambda row: -row["version"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.promotion", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("promote", help="approve a version at a stage")
    up.add_argument("--version", type=int, required=True)
    up.add_argument("--stage", required=True, choices=[str(s) for s in Stage])
    up.add_argument("--note", help="StageDescription (default: who did it, with make)")
    up.add_argument("--env", help="samconfig.toml environment whose credentials write the stage (default: the stage's)")
    seen = commands.add_parser("history", help="every version's way through the stages")
    seen.add_argument("--version", type=int)
    seen.add_argument("--env", default="dev")
    args = parser.parse_args(argv)
    if args.command == "promote":
        stage = Stage(args.stage)
        stack = resolve(args.env or ENVIRONMENT_OF[stage])
        print(json.dumps(promote(stack, args.version, stage, args.note)))
    else:
        for row in history(resolve(args.env), args.version, gates=_environments()):
            print(json.dumps(row))
    return 0


def _environments() -> Iterator[StackInfo]:
    """Every environment this machine can reach (served locally, else deployed and readable with the default
    credentials); one that cannot be reached is named on stderr and left out."""
    for env in ENVIRONMENT_OF.values():
        try:
            yield resolve(env)
        except (BotoCoreError, ClientError) as exc:
            _out_of_reach(env, exc)


def _out_of_reach(env: str, exc: Exception) -> None:
    print(f"promotions: no stage gate log from {env}: {exc}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
