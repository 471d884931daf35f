"""Every environment of samconfig.toml that promotes one registry's versions, each stack in its own account.

    landscape = Landscape(aws, ["dev", "staging", "prod"])
    landscape.deploy()          # the registry first (its grants follow from the others' AccountId), then the rest
    landscape.start()
    landscape["prod"].outputs
    landscape.wait_idle()
    landscape.stop()

Where each environment lives is its ``AccountId`` parameter (samconfig.toml); the registry's grants to the
deployment accounts are :func:`tools.samconfig.registry_grants`, as ``make deploy`` passes them, and a deployment
stack of another account is told the registry's artifact bucket (and, retraining for drift, its retrain role) from
the registry stack's outputs (what an operator copies from one account's outputs to another's samconfig). Once
deployed, the registry's group is shared with the deployment accounts (``make share-registry``), so their deployers
find its versions with a cross-account ``Search``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from local.stack.local_stack import LocalStack
from tools import registry_share
from tools.samconfig import SAMCONFIG, parameter_overrides, registry_grants

ENVIRONMENTS = ("dev", "staging", "prod")


class Landscape:
    """The environments' stacks on one embedded AWS, in the accounts samconfig.toml names."""

    def __init__(
        self,
        aws: Any,
        envs: Sequence[str] = ENVIRONMENTS,
        *,
        overrides: Mapping[str, Mapping[str, str]] | None = None,
        **stack_options: Any,
    ) -> None:
        self.aws = aws
        self.envs = tuple(envs)
        self.overrides = {env: dict((overrides or {}).get(env, {})) for env in self.envs}
        self.stack_options = stack_options
        self.stacks: dict[str, LocalStack] = {}

    def __getitem__(self, env: str) -> LocalStack:
        return self.stacks[env]

    def __iter__(self) -> Iterator[LocalStack]:
        return iter(self.stacks.values())

    def parameters(self, env: str) -> dict[str, str]:
        path = self.stack_options.get("samconfig") or SAMCONFIG
        return {**parameter_overrides(env, path), **self.overrides[env]}

    @property
    def registry(self) -> str:
        """The environment whose stack is the registry (the first with ``StackRole=registry``)."""
        return next(env for env in self.envs if self.parameters(env).get("StackRole", "registry") == "registry")

    def account_of(self, env: str) -> str:
        return self.parameters(env).get("AccountId") or self.aws.account_id

    def deploy(self) -> dict[str, dict[str, Any]]:
        """Deploy the registry, then every other environment; their outputs by environment."""
        registry = self.registry
        path = self.stack_options.get("samconfig") or SAMCONFIG
        grants = {k: v for k, v in registry_grants(registry, path).items() if self._granted(v)}
        self._deploy(registry, grants)
        outputs = self.stacks[registry].outputs
        for env in self.envs:
            if env != registry:
                self._deploy(env, self._registry_parameters(env, outputs) if self._elsewhere(env) else {})
        self.share_registry()
        return {env: stack.outputs for env, stack in self.stacks.items()}

    def share_registry(self) -> dict[str, list[str]]:
        """``make share-registry``, as an operator runs it once after deploying: the registry promotes its group's
        RAM share, each environment of another account accepts it; the shares accepted, by environment."""
        registry = self.registry
        elsewhere = [env for env in self.stacks if env != registry and self._elsewhere(env)]
        if not elsewhere:
            return {}
        registry_account = self.account_of(registry)
        group = self.stacks[registry].outputs["ModelPackageGroupArn"]
        registry_share.promote(self.aws.client("ram", account_id=registry_account), group)
        return {
            env: registry_share.accept(self.aws.client("ram", account_id=self.account_of(env)), registry_account)
            for env in elsewhere
        }

    def _registry_parameters(self, env: str, registry_outputs: Mapping[str, Any]) -> dict[str, str]:
        """What a deployment stack of another account is told of the registry: its artifact bucket, and, when its
        drift policy retrains, the registry's role that starts the training pipeline for it."""
        told = {"RegistryArtifactBucket": str(registry_outputs["ArtifactBucketName"])}
        if self.parameters(env).get("DriftPolicy") == "retrain" and "DriftRetrainRequestRoleArn" in registry_outputs:
            told["RegistryDriftRetrainRoleArn"] = str(registry_outputs["DriftRetrainRequestRoleArn"])
        return told

    def _granted(self, account: str) -> bool:
        """A grant names an account that one of the landscape's environments lives in."""
        return any(self.account_of(env) == account for env in self.envs)

    def _elsewhere(self, env: str) -> bool:
        registry_account = self.parameters(env).get("RegistryAccountId", "")
        return bool(registry_account) and registry_account != self.account_of(env)

    def _deploy(self, env: str, extra: Mapping[str, str]) -> None:
        options = {k: v for k, v in self.stack_options.items()}
        options["parameter_overrides"] = {**options.get("parameter_overrides", {}), **self.overrides[env], **extra}
        stack = LocalStack(self.aws, env=env, account_id=self.account_of(env), **options)
        stack.deploy()
        self.stacks[env] = stack

    def start(self) -> Landscape:
        for stack in self.stacks.values():
            stack.start()
        return self

    def wait_idle(self, timeout: float = 60) -> None:
        """Until every stack is idle twice in a row (one's function may cause another's event)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 2:
            before = sum(len(stack.invocations) for stack in self.stacks.values())
            for stack in self.stacks.values():
                stack.wait_idle(max(deadline - time.monotonic(), 0.05))
            after = sum(len(stack.invocations) for stack in self.stacks.values())
            quiet = quiet + 1 if after == before else 0
            if time.monotonic() > deadline:
                raise TimeoutError(f"landscape not idle after {timeout}s")

    def stop(self) -> None:
        for stack in self.stacks.values():
            stack.stop()
