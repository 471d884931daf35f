"""The registry of what the embedded AWS patches in moto: applied once, each with its reason, and revertible."""

from __future__ import annotations

import pytest
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from local.aws import extensions
from local.aws.patches import Patch, PatchRegistry, methods


class Base:
    def inherited(self) -> str:
        return "base"


class Owner(Base):
    value = "moto's"

    def own(self) -> str:
        return "moto's own"


class Replacements:
    def own(self) -> str:
        return "ours"

    def inherited(self) -> str:
        return "ours too"


def registry() -> PatchRegistry:
    return PatchRegistry(
        [
            *methods(Owner, Replacements, {"own": "why own", "inherited": "why inherited"}),
            Patch(Owner, "value", "ours", "why value"),
            Patch(Owner, "added", "new", "why added"),
        ]
    )


def test_install_applies_every_patch_once_and_uninstall_puts_the_owner_back() -> None:
    # GIVEN a registry of patches on an owner's own, inherited, plain and missing attributes
    patches = registry()

    # WHEN installed twice
    assert patches.install() is True
    assert patches.install() is False

    # THEN every patch is in place
    try:
        assert (Owner().own(), Owner().inherited(), Owner.value, Owner.added) == ("ours", "ours too", "ours", "new")
        assert all(patch.applied() for patch in patches.patches)
    finally:
        # AND uninstalling restores what the owner had itself and removes what it did not have
        patches.uninstall()
    assert (Owner().own(), Owner().inherited(), Owner.value) == ("moto's own", "base", "moto's")
    assert "inherited" not in vars(Owner)
    assert not hasattr(Owner, "added")
    assert not patches.installed()


def test_an_attribute_is_patched_by_one_patch_only() -> None:
    patches = registry()
    with pytest.raises(ValueError, match="patched twice"):
        patches.register(Patch(Owner, "value", "again", "a second reason"))


def test_nothing_is_registered_once_installed() -> None:
    patches = registry()
    patches.install()
    try:
        with pytest.raises(RuntimeError, match="installed"):
            patches.register(Patch(Owner, "other", 1, "late"))
    finally:
        patches.uninstall()


def test_a_method_patch_needs_the_method() -> None:
    with pytest.raises(ValueError, match="defines no missing"):
        methods(Owner, Replacements, {"missing": "no such method"})


def test_every_patch_of_the_embedded_aws_says_why_and_is_applied(embedded_aws) -> None:
    # GIVEN the embedded AWS started (it installs the extensions)
    described = extensions.PATCHES.describe()

    # THEN each patched attribute is listed once with a reason, and each is in place
    targets = [item["target"] for item in described]
    assert len(targets) == len(set(targets))
    assert all(item["reason"].strip() for item in described)
    assert "moto.sagemaker.models.SageMakerModelBackend.update_endpoint" in targets
    assert all(patch.applied() for patch in extensions.PATCHES.patches)


def test_uninstalling_the_extensions_gives_moto_back(embedded_aws) -> None:
    # GIVEN the extensions installed (UpdateEndpoint exists only through them)
    assert hasattr(SageMakerResponse, "update_endpoint")
    patched_update = vars(SageMakerModelBackend)["update_model_package"]

    # WHEN they are uninstalled THEN moto's own behaviour is back; installing again restores ours
    extensions.uninstall()
    try:
        assert not hasattr(SageMakerResponse, "update_endpoint")
        assert vars(SageMakerModelBackend)["update_model_package"] is not patched_update
    finally:
        extensions.install()
    assert vars(SageMakerModelBackend)["update_model_package"] is patched_update
