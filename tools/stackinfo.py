"""Find the stack an operator command talks to: a running local stack (`make serve`) or the deployed one on AWS.

`python -m local serve` writes its ready line to `.local/serve-<env>.json`; when that file names a live endpoint, the
commands use it (through the standard ``AWS_ENDPOINT_URL`` setting). Otherwise they read the CloudFormation outputs of
the environment's stack (its name comes from samconfig.toml) with the caller's own AWS credentials.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from tools.samconfig import ROOT, parameter_overrides, registry_grants, stack_name

LOCAL_STATE = ROOT / ".local"


def serve_file(env: str, state_dir: Path | None = None) -> Path:
    return (state_dir or LOCAL_STATE) / f"serve-{env}.json"


@dataclass(frozen=True)
class StackInfo:
    env: str
    region: str
    outputs: dict[str, str]
    endpoint_url: str | None  # None: real AWS
    # a served stack of another account than the embedded AWS's default (make serve ENV=all): who acts in it
    credentials: tuple[str, str] = ("testing", "testing")

    @property
    def is_local(self) -> bool:
        return self.endpoint_url is not None

    def client(self, service: str) -> Any:
        if self.endpoint_url:
            return boto3.client(  # type: ignore[call-overload]  # the service name is a str, not one stub's Literal
                service,
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                aws_access_key_id=self.credentials[0],
                aws_secret_access_key=self.credentials[1],
            )
        return boto3.client(service, region_name=self.region)  # type: ignore[call-overload]  # the service name is a str, not one stub's Literal

    def apply_to_environ(self) -> None:
        """Point boto3 in this process (and its children) at the stack, as standard configuration does."""
        os.environ["AWS_DEFAULT_REGION"] = self.region
        if self.endpoint_url:
            os.environ["AWS_ENDPOINT_URL"] = self.endpoint_url
            os.environ.setdefault("AWS_ACCESS_KEY_ID", self.credentials[0])
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", self.credentials[1])


def _alive(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):  # noqa: S310 - loopback URL we wrote ourselves
            return True
    except OSError:
        return False


def served_stack(env: str = "dev", state_dir: Path | None = None) -> StackInfo | None:
    """The local stack of ``env`` that ``make serve`` is serving now, if any."""
    path = serve_file(env, state_dir)
    if path.exists():
        ready = json.loads(path.read_text())
        if _alive(ready["endpoint_url"]):
            credentials = (ready.get("aws_access_key_id", "testing"), ready.get("aws_secret_access_key", "testing"))
            return StackInfo(env, ready["region"], dict(ready["outputs"]), ready["endpoint_url"], credentials)
    return None


def resolve(env: str = "dev", state_dir: Path | None = None) -> StackInfo:
    """The local stack of ``env`` if one is being served, else the deployed stack on AWS."""
    if (served := served_stack(env, state_dir)) is not None:
        return served
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return StackInfo(env, region, cloudformation_outputs(env, boto3.session.Session(region_name=region)), None)


def cloudformation_outputs(env: str, session: Any) -> dict[str, str]:
    """The Outputs of the environment's deployed stack (named in samconfig.toml), read with ``session``'s
    credentials: the one CloudFormation lookup of the project."""
    stacks = session.client("cloudformation").describe_stacks(StackName=stack_name(env))
    return {o["OutputKey"]: o["OutputValue"] for o in stacks["Stacks"][0].get("Outputs", [])}


def deploy_parameter_overrides(env: str, git_sha: str) -> list[str]:
    """samconfig.toml's ``parameter_overrides`` of ``env``, the registry's grants to the deployment accounts
    (:func:`tools.samconfig.registry_grants`) and ``GitSha`` (a command-line ``--parameter-overrides`` replaces
    samconfig's list as a whole, so ``make deploy`` passes the whole list)."""
    overrides = {**parameter_overrides(env), **registry_grants(env)}
    kept = [f"{name}={value}" for name, value in overrides.items() if name != "GitSha"]
    return [*kept, f"GitSha={git_sha}"]


if __name__ == "__main__":
    import sys

    match sys.argv[1:]:
        case ["served", env]:  # exit 0 when a local stack of ENV is being served
            raise SystemExit(0 if served_stack(env) else 1)
        case ["deploy-overrides", env, sha]:  # the --parameter-overrides of `sam deploy`, as words for the shell
            words = deploy_parameter_overrides(env, sha)
            if any(c.isspace() or c in "'\"" for word in words for c in word):
                raise SystemExit("parameter values with spaces or quotes cannot go through `make deploy`")
            print(" ".join(words))
        case _:
            raise SystemExit("usage: python -m tools.stackinfo served ENV | deploy-overrides ENV GIT_SHA")
