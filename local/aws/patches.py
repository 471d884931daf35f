"""The registry of what the embedded AWS changes in moto: every patched attribute, with why, applied once.

moto 5.2.5 offers no hook for most of what SageMaker does and moto does not (endpoints that change state over time,
the events SageMaker emits, real inference), so the embedded AWS replaces or adds attributes of moto's backend and
response classes. Each such change is a :class:`Patch` declared next to the code it installs (the ``PATCHES`` of an
area's wire module); :class:`PatchRegistry` applies them all at once, only once, and can put moto back as it was.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_ABSENT = object()  # the owner had no attribute of its own under that name


@dataclass(frozen=True)
class Patch:
    """``owner.name = replacement``, for ``reason``.

    ``own`` is what ``owner`` held itself under ``name`` when the patch was declared (``_ABSENT`` when the attribute
    was inherited or new): what :meth:`PatchRegistry.uninstall` puts back.
    """

    owner: Any
    name: str
    replacement: Any
    reason: str
    own: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "own", vars(self.owner).get(self.name, _ABSENT))

    @property
    def target(self) -> str:
        """``module.Class.name`` of the patched attribute."""
        return f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"

    def apply(self) -> None:
        setattr(self.owner, self.name, self.replacement)

    def revert(self) -> None:
        if self.own is _ABSENT:
            if self.name in vars(self.owner):
                delattr(self.owner, self.name)
        else:
            setattr(self.owner, self.name, self.own)

    def applied(self) -> bool:
        return vars(self.owner).get(self.name, _ABSENT) is self.replacement


class PatchRegistry:
    """Patches to apply together. ``install()`` applies them once (a second call changes nothing)."""

    def __init__(self, patches: Iterable[Patch] = ()) -> None:
        self._patches: list[Patch] = []
        self._installed = False
        self._lock = threading.Lock()
        for patch in patches:
            self.register(patch)

    def register(self, patch: Patch) -> None:
        """Add a patch (refused once installed, and refused for an attribute another patch already claims)."""
        with self._lock:
            if self._installed:
                raise RuntimeError(f"cannot register {patch.target}: the patches are installed")
            clash = next((p for p in self._patches if p.owner is patch.owner and p.name == patch.name), None)
            if clash is not None:
                raise ValueError(f"{patch.target} is patched twice")
            self._patches.append(patch)

    @property
    def patches(self) -> tuple[Patch, ...]:
        return tuple(self._patches)

    def install(self) -> bool:
        """Apply every patch; ``False`` when they already were (nothing is applied twice)."""
        with self._lock:
            if self._installed:
                return False
            for patch in self._patches:
                patch.apply()
            self._installed = True
            return True

    def uninstall(self) -> None:
        """Put moto back as it was, last patch first."""
        with self._lock:
            if not self._installed:
                return
            for patch in reversed(self._patches):
                patch.revert()
            self._installed = False

    def installed(self) -> bool:
        return self._installed

    def describe(self) -> list[dict[str, str]]:
        """What is patched and why (for people reading the emulator, and for its contract tests)."""
        return [{"target": p.target, "reason": p.reason} for p in self._patches]


def methods(owner: type, source: type, reasons: dict[str, str]) -> tuple[Patch, ...]:
    """One patch per method of ``source`` named in ``reasons`` (method name -> why moto's own will not do)."""
    missing = [name for name in reasons if name not in vars(source)]
    if missing:
        raise ValueError(f"{source.__qualname__} defines no {', '.join(missing)}")
    return tuple(Patch(owner, name, vars(source)[name], reason) for name, reason in reasons.items())
