"""samconfig.toml read once for every reader: environments, parameter overrides, stack names, deploy overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import samconfig, stackinfo

PROBE = Path(__file__).resolve().parents[2] / "fixtures" / "stack" / "samconfig.toml"


def test_an_environment_is_its_deploy_parameters_over_the_defaults() -> None:
    dev = samconfig.read_samconfig(PROBE, "dev")
    assert dev["stack_name"] == "probe-dev"
    assert samconfig.stack_name("prod", PROBE) == "probe-prod"
    assert samconfig.parameter_overrides("dev", PROBE)["Greeting"] == "hello world"


@pytest.mark.parametrize(
    "value", ["Environment=dev Greeting='hello world'", ["Environment=dev", "Greeting=hello world"]]
)
def test_both_forms_of_parameter_overrides_read_alike(value: str | list[str]) -> None:
    assert samconfig.parse_parameter_overrides(value) == {"Environment": "dev", "Greeting": "hello world"}


def test_what_samconfig_cannot_say_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(samconfig.SamConfigError, match=r"\[qa\]"):
        samconfig.read_samconfig(PROBE, "qa")
    with pytest.raises(samconfig.SamConfigError, match="KEY=VALUE"):
        samconfig.parse_parameter_overrides("Environment")
    assert samconfig.read_samconfig(tmp_path / "absent.toml", "dev") == {}


def test_make_deploy_passes_every_override_of_the_environment_with_the_commit() -> None:
    words = stackinfo.deploy_parameter_overrides("dev", "abc1234")
    overrides = {**samconfig.parameter_overrides("dev"), **samconfig.registry_grants("dev")}
    assert words[-1] == "GitSha=abc1234"
    assert words[:-1] == [f"{name}={value}" for name, value in overrides.items() if name != "GitSha"]


def test_the_registry_grants_the_accounts_the_deployment_environments_live_in() -> None:
    # dev is the registry; staging and prod say where they live (AccountId) and which stage they serve
    assert samconfig.registry_grants("dev") == {
        "StagingAccountId": samconfig.parameter_overrides("staging")["AccountId"],
        "ProductionAccountId": samconfig.parameter_overrides("prod")["AccountId"],
    }
    assert samconfig.registry_grants("staging") == {}  # a deployment stack grants nothing
    words = stackinfo.deploy_parameter_overrides("dev", "abc1234")
    assert "StagingAccountId=222222222222" in words and "ProductionAccountId=333333333333" in words
