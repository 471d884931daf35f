"""The layer's shape: a kernel, and one package per feature that builds on the kernel alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LAYER = Path(__file__).resolve().parents[2] / "layers" / "shared" / "python" / "sm_lifecycle"
FEATURES = sorted(p.name for p in LAYER.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name != "kernel")


def imported_packages(package: Path) -> dict[str, set[str]]:
    """``{module path: the sm_lifecycle packages it imports}`` for every module of ``package``."""
    found: dict[str, set[str]] = {}
    for module in package.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(module.read_text(), str(module))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(module.relative_to(LAYER))] = {
            name.split(".")[1] for name in names if name.startswith("sm_lifecycle.")
        }
    return found


def test_the_layer_has_a_kernel_and_its_features() -> None:
    assert (LAYER / "kernel" / "__init__.py").exists()
    assert {"deployment", "drift", "promotion", "stage_gate", "tagging"} <= set(FEATURES)


@pytest.mark.parametrize("feature", FEATURES)
def test_a_feature_imports_the_kernel_and_itself_only(feature: str) -> None:
    crossing = {
        module: sorted(packages - {"kernel", feature})
        for module, packages in imported_packages(LAYER / feature).items()
        if packages - {"kernel", feature}
    }
    assert crossing == {}


def test_the_kernel_imports_no_feature() -> None:
    crossing = {
        module: sorted(packages & set(FEATURES))
        for module, packages in imported_packages(LAYER / "kernel").items()
        if packages & set(FEATURES)
    }
    assert crossing == {}
