"""A pipeline definition as a graph of steps: parameters, dependencies, condition branches, property files.

The step graph comes from ``DependsOn`` and data dependencies (``Get: Steps.X...``, property files), and condition
steps own their ``IfSteps`` / ``ElseSteps``. A step runs once what it depends on has run or was skipped; a step that
depends on a skipped one, or that sits in the branch a condition did not take, is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.pipelines.expressions import Context, references

BRANCHES = ("IfSteps", "ElseSteps")
_TYPE_CAST: dict[str, Callable[[Any], Any]] = {
    "Integer": int,
    "Float": float,
    "Boolean": lambda v: v if isinstance(v, bool) else str(v).lower() == "true",
    "String": str,
}


def parameter_values(definition: Mapping[str, Any], overrides: Iterable[Mapping[str, str]]) -> dict[str, Any]:
    """The execution's parameter values: the definition's defaults overridden by ``PipelineParameters``, typed.

    KeyError for a parameter the pipeline does not declare, ValueError for one without a value.
    """
    declared = {p["Name"]: p for p in definition.get("Parameters", [])}
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if "DefaultValue" in spec:
            values[name] = _TYPE_CAST[spec.get("Type", "String")](spec["DefaultValue"])
    for item in overrides:
        name = item["Name"]
        if name not in declared:
            raise KeyError(f"{name} is not a parameter of the pipeline")
        values[name] = _TYPE_CAST[declared[name].get("Type", "String")](item["Value"])
    missing = [n for n in declared if n not in values]
    if missing:
        raise ValueError(f"no value for {', '.join(missing)}")
    return values


def step_arguments(step: Mapping[str, Any]) -> dict[str, Any]:
    """A step's ``Arguments`` without the steps of its condition branches."""
    return {k: v for k, v in step.get("Arguments", {}).items() if k not in BRANCHES}


def property_file_refs(value: Any) -> set[str]:
    """The ``Steps.S.PropertyFiles.F`` references in ``value``."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= property_file_refs(item)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key == "Get" and isinstance(item, str) and ".PropertyFiles." in item:
                found.add(item)
            else:
                found |= property_file_refs(item)
    return found


def register_property_files(step: Mapping[str, Any], properties: Mapping[str, Any], ctx: Context) -> None:
    """Make the ``PropertyFiles`` a succeeded processing step declares readable by ``Std:JsonGet``."""
    for file in step.get("PropertyFiles", []):
        outputs = properties["ProcessingOutputConfig"]["Outputs"]
        output = next(o for o in outputs if o["OutputName"] == file["OutputName"])
        ctx.property_files[f"{step['Name']}.{file['PropertyFileName']}"] = {
            "S3Uri": output["S3Output"]["S3Uri"].rstrip("/") + "/" + file["FilePath"]
        }


@dataclass
class StepGraph:
    """Every step of a definition by name (branch steps included), and what each depends on."""

    steps: dict[str, dict[str, Any]]
    branch_of: dict[str, tuple[str, str]]  # step name -> (condition step, "IfSteps" | "ElseSteps")
    dependencies: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, definition: Mapping[str, Any]) -> StepGraph:
        graph = cls({}, {})
        for step in definition.get("Steps", []):
            graph._add(step, None)
        for name, step in graph.steps.items():
            arguments = step_arguments(step)
            deps = set(step.get("DependsOn", [])) | references(arguments)
            deps |= {ref.split(".")[1] for ref in property_file_refs(arguments)}
            if name in graph.branch_of:
                deps.add(graph.branch_of[name][0])
            graph.dependencies[name] = deps - {name}
        return graph

    def _add(self, step: dict[str, Any], parent: tuple[str, str] | None) -> None:
        self.steps[step["Name"]] = step
        if parent:
            self.branch_of[step["Name"]] = parent
        if step.get("Type") == "Condition":
            for key in BRANCHES:
                for child in step.get("Arguments", {}).get(key, []):
                    self._add(child, (step["Name"], key))

    def not_taken(self, name: str, ctx: Context) -> bool:
        """Whether ``name`` sits in the branch its condition step did not take."""
        if name not in self.branch_of:
            return False
        parent, branch = self.branch_of[name]
        outcome = ctx.steps.get(parent, {}).get("Outcome")
        return (branch == "IfSteps") != bool(outcome)


class Walk:
    """The order in which an execution's steps run, one at a time, definition order among the ready ones."""

    def __init__(self, graph: StepGraph) -> None:
        self.graph = graph
        self.pending = list(graph.steps)
        self.done: set[str] = set()
        self.skipped: set[str] = set()

    def next(self, ctx: Context) -> str | None:
        """The next step to run (skipping those that will not run); ``None`` when nothing more can run."""
        while self.pending:
            finished = self.done | self.skipped
            ready = [n for n in self.pending if self.graph.dependencies[n] <= finished]
            if not ready:
                return None
            name = ready[0]
            self.pending.remove(name)
            if self.graph.dependencies[name] & self.skipped or self.graph.not_taken(name, ctx):
                self.skipped.add(name)
                continue
            return name
        return None

    def succeeded(self, name: str) -> None:
        self.done.add(name)

    def failed_on(self, name: str) -> None:
        """A step failed and the execution goes on: the steps that need it do not run."""
        self.skipped.add(name)
