"""Approve or reject a model package version as the SageMaker console's buttons do (``UpdateModelPackage``).

    make approve VERSION=3 [ENV=dev] [NOTE="reviewed by ana"]
    make reject  VERSION=3 [ENV=dev] [NOTE="bias found"]

It acts on the environment's stack: the local one while ``make serve`` runs, else the deployed one on AWS with your
own credentials (see ``tools.stackinfo``). The deployer reacts to the approval change event exactly as to a click in
the console.
"""

from __future__ import annotations

import argparse
import getpass
import json
from typing import Any

from tools.stackinfo import resolve

STATUS = {"approve": "Approved", "reject": "Rejected"}


def package_arn(sagemaker: Any, group: str, version: int) -> str:
    for page in sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group):
        for summary in page["ModelPackageSummaryList"]:
            if int(summary.get("ModelPackageVersion", 0)) == version:
                return str(summary["ModelPackageArn"])
    raise SystemExit(f"no version {version} in model package group {group}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.approval", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=sorted(STATUS))
    parser.add_argument("--version", type=int, required=True, help="model package version in the group")
    parser.add_argument("--env", default="dev", help="samconfig.toml environment (dev, staging, prod)")
    parser.add_argument("--group", help="model package group (default: the stack's)")
    parser.add_argument("--note", help="ApprovalDescription (default: who did it, with make)")
    args = parser.parse_args(argv)

    stack = resolve(args.env)
    sagemaker = stack.client("sagemaker")
    group = args.group or stack.outputs["ModelPackageGroupName"]
    arn = package_arn(sagemaker, group, args.version)
    status = STATUS[args.action]
    note = args.note or f"{status} by {getpass.getuser()} (make {args.action})"
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus=status, ApprovalDescription=note)
    where = stack.endpoint_url or f"AWS {stack.region}"
    print(json.dumps({"model_package_arn": arn, "status": status, "note": note, "stack": where}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
