"""samconfig.toml, read as ``sam deploy --config-env <env>`` reads it: the one reader of the project's deploy settings.

Standard library only, so that every part of the project that needs an environment's settings (the stack runtime of
the embedded AWS, the operator commands, the pipeline commands) reads them here without depending on the others.
"""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMCONFIG = ROOT / "samconfig.toml"
_SECTIONS = (("default", "global"), ("{env}", "global"), ("default", "deploy"), ("{env}", "deploy"))


class SamConfigError(ValueError):
    """samconfig.toml has no such environment, or a setting cannot be read."""


def read_samconfig(path: Path, env: str) -> dict[str, Any]:
    """``[<env>.deploy.parameters]`` merged over ``[default.global.parameters]`` (what ``sam deploy`` reads);
    ``{}`` when there is no such file."""
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        config = tomllib.load(handle)
    merged: dict[str, Any] = {}
    for environment, command in _SECTIONS:
        section = config.get(environment.format(env=env), {}).get(command, {})
        merged.update(section.get("parameters", {}))
    if env not in config and env != "default":
        raise SamConfigError(f"{path.name} has no [{env}] environment")
    return merged


def parse_parameter_overrides(value: str | list[str] | None) -> dict[str, str]:
    """``"A=1 B='x y'"`` or ``["A=1", "B=x y"]`` (both forms samconfig accepts) into a dict."""
    if not value:
        return {}
    items = shlex.split(value) if isinstance(value, str) else [str(item) for item in value]
    overrides: dict[str, str] = {}
    for item in items:
        key, sep, val = item.partition("=")
        if not sep:
            raise SamConfigError(f"parameter override {item!r} is not KEY=VALUE")
        overrides[key.strip()] = val
    return overrides


def parameter_overrides(env: str, path: Path = SAMCONFIG) -> dict[str, str]:
    """The environment's ``parameter_overrides``, by parameter name."""
    return parse_parameter_overrides(read_samconfig(path, env).get("parameter_overrides"))


def stack_name(env: str, path: Path = SAMCONFIG) -> str:
    """The environment's ``stack_name``."""
    name = read_samconfig(path, env).get("stack_name")
    if not name:
        raise SamConfigError(f"{path.name} has no stack_name for {env}")
    return str(name)


# ------------------------------------------------------------------------ train once, promote everywhere
GRANT_PARAMETERS = {"Staging": "StagingAccountId", "Production": "ProductionAccountId"}
"""The registry's parameter that grants the account of the environment serving each later stage."""


def environments(path: Path = SAMCONFIG) -> list[str]:
    """The environments of samconfig.toml that deploy a stack (those with ``[<env>.deploy.parameters]``)."""
    if not path.exists():
        return []
    with path.open("rb") as handle:
        config = tomllib.load(handle)
    return [
        env
        for env, commands in config.items()
        if env != "default" and isinstance(commands, dict) and "deploy" in commands
    ]


def registry_grants(env: str, path: Path = SAMCONFIG) -> dict[str, str]:
    """For a registry environment: ``StagingAccountId`` / ``ProductionAccountId`` = the ``AccountId`` of the
    deployment environment serving that stage from its group, when it is another account (nothing otherwise).

    One place says where each environment lives (its ``AccountId``); the registry's grants follow from it.
    """
    own = parameter_overrides(env, path)
    if own.get("StackRole", "registry") != "registry":
        return {}
    grants: dict[str, str] = {}
    for other in environments(path):
        params = parameter_overrides(other, path)
        stage, account = params.get("LifecycleStage", ""), params.get("AccountId", "")
        if (
            params.get("StackRole") == "deployment"
            and stage in GRANT_PARAMETERS
            and params.get("ModelPackageGroupName") == own.get("ModelPackageGroupName")
            and account
            and account != own.get("AccountId")
        ):
            grants[GRANT_PARAMETERS[stage]] = account
    return grants
