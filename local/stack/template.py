"""template.yaml as CloudFormation would see it: parameters, the SAM transform, conditions and intrinsic functions.

The SAM transform is expanded offline with ``samtranslator`` (the library behind the ``AWS::Serverless-2016-10-31``
transform), fed the way ``cfn-lint`` feeds it without AWS: local ``CodeUri``/``ContentUri`` replaced by S3 locations,
the bundled managed-policy map, the region from a boto3 session. The result holds the resources CloudFormation would
create (``AWS::Lambda::Function``, ``AWS::Events::Rule`` with its ``EventPattern``, ``AWS::Lambda::EventInvokeConfig``,
IAM roles...). :mod:`local.stack.intrinsics` then evaluates intrinsic functions against the resources created
locally. Parameter values come from the template's defaults, then samconfig.toml (:mod:`tools.samconfig`), then the
caller.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml
from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
from samtranslator.metrics.metrics import Metrics
from samtranslator.parser.parser import Parser
from samtranslator.public.exceptions import InvalidDocumentException
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import intrinsics_multi_constructor

from tools.samconfig import ROOT, SamConfigError, parse_parameter_overrides, read_samconfig

logger = logging.getLogger(__name__)

PROJECT_ROOT = ROOT  # a relative template path is found here when not in the working directory
LOCAL_CODE_BUCKET = "local-code"  # S3 bucket name standing in for local code folders during the transform


class TemplateError(Exception):
    """The template (or its parameters) cannot be deployed as CloudFormation would refuse it."""


class UnsupportedResourceError(TemplateError):
    """Something refers to a resource whose type the local stack does not create."""


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that reads CloudFormation short forms (``!Ref``, ``!Sub``...) without touching SafeLoader."""


_CfnLoader.add_multi_constructor("!", intrinsics_multi_constructor)


def read_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


# ---------------------------------------------------------------------------------------------------------- parameters
def resolve_parameters(declared: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
    """Parameter values as CloudFormation validates them: defaults, overrides, AllowedValues, AllowedPattern."""
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"parameters not declared in the template: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        raw: Any  # a default may be a YAML boolean or number
        if name in overrides:
            raw = overrides[name]
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            raise TemplateError(f"parameter {name} has no default and no value (samconfig parameter_overrides)")
        value = str(raw).lower() if isinstance(raw, bool) else str(raw)
        kind = spec.get("Type", "String")
        if kind.startswith("List<") or kind == "CommaDelimitedList":
            values[name] = [item.strip() for item in value.split(",")] if value else []
            continue
        allowed = spec.get("AllowedValues")
        if allowed is not None and value not in [str(item) for item in allowed]:
            raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
        pattern = spec.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise TemplateError(f"parameter {name}={value!r} does not match {pattern}")
        _check_bounds(name, value, spec, number=kind == "Number")
        values[name] = value
    return values


def _check_bounds(name: str, value: str, spec: Mapping[str, Any], *, number: bool) -> None:
    """``MinValue``/``MaxValue`` of a Number, ``MinLength``/``MaxLength`` of a String, as CloudFormation checks them."""
    if number:
        try:
            measured = float(value)
        except ValueError as exc:
            raise TemplateError(f"parameter {name}={value!r} is not a number") from exc
        low, high, what = spec.get("MinValue"), spec.get("MaxValue"), "value"
    else:
        measured, low, high, what = float(len(value)), spec.get("MinLength"), spec.get("MaxLength"), "length"
    if low is not None and measured < float(low):
        raise TemplateError(f"parameter {name}={value!r}: {what} must be at least {low}")
    if high is not None and measured > float(high):
        raise TemplateError(f"parameter {name}={value!r}: {what} must be at most {high}")


# ---------------------------------------------------------------------------------------------------------- template
@dataclass
class Template:
    """A template loaded for one environment: SAM source, the CloudFormation it expands to, and parameter values."""

    path: Path
    env: str
    stack_name: str
    region: str
    parameters: dict[str, Any]
    sam: dict[str, Any]
    cfn: dict[str, Any]
    code_dirs: dict[str, Path] = field(default_factory=dict)  # SAM logical id -> local CodeUri / ContentUri folder

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.cfn.get("Resources", {})

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        return self.cfn.get("Outputs", {})

    def code_dir(self, code: Mapping[str, Any]) -> Path:
        """The local folder of a translated ``Code``/``Content`` property (``{S3Bucket, S3Key}``)."""
        if code.get("S3Bucket") != LOCAL_CODE_BUCKET or code.get("S3Key") not in self.code_dirs:
            raise TemplateError(f"code location {dict(code)} is not a local folder of the template")
        return self.code_dirs[code["S3Key"]]


def _localise_code(sam: dict[str, Any], root: Path) -> dict[str, Path]:
    """Replace local code folders with S3 locations the translator accepts; remember where they were."""
    code_dirs: dict[str, Path] = {}
    uri_property = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}
    globals_code = sam.get("Globals", {}).get("Function", {}).get("CodeUri")
    for logical_id, resource in sam.get("Resources", {}).items():
        prop = uri_property.get(resource.get("Type"))
        if prop is None:
            continue
        props = resource.setdefault("Properties", {})
        if props.get("PackageType") == "Image":
            raise TemplateError(f"{logical_id}: image functions cannot run locally")
        if "InlineCode" in props:
            raise TemplateError(f"{logical_id}: InlineCode is not supported locally")
        uri = props.get(prop, globals_code if prop == "CodeUri" else None)
        if not isinstance(uri, str) or uri.startswith("s3://"):
            raise TemplateError(f"{logical_id}: {prop} must be a local folder to run locally, got {uri!r}")
        folder = (root / uri).resolve()
        if not folder.is_dir():
            logger.warning("%s: %s %s is not a folder (yet): invocations will fail to import", logical_id, prop, uri)
        code_dirs[logical_id] = folder
        props[prop] = {"Bucket": LOCAL_CODE_BUCKET, "Key": logical_id}
    if globals_code is not None:
        sam["Globals"]["Function"].pop("CodeUri")
    return code_dirs


def translate(sam: dict[str, Any], parameters: Mapping[str, Any], region: str) -> dict[str, Any]:
    """Expand ``AWS::Serverless-2016-10-31`` offline, as CloudFormation's SAM transform would."""
    sam = copy.deepcopy(sam)
    if "AWS::Serverless-2016-10-31" not in as_list(sam.get("Transform")):
        return sam
    metrics = Metrics()  # published (to nowhere) after the translation: unpublished ones log a warning
    translator = Translator(
        managed_policy_map=get_bundled_managed_policy_map("aws"),
        sam_parser=Parser(),
        boto_session=boto3.session.Session(region_name=region),
        metrics=metrics,
    )
    try:
        cfn = translator.translate(sam_template=sam, parameter_values=dict(parameters), passthrough_metadata=True)
        metrics.publish()
    except InvalidDocumentException as exc:
        causes = "; ".join(str(cause.message) for cause in exc.causes)
        raise TemplateError(f"SAM transform failed: {causes}") from exc
    return cfn


def load_template(
    path: str | Path = "template.yaml",
    env: str = "dev",
    *,
    samconfig: str | Path | None = None,
    parameter_overrides: Mapping[str, str] | None = None,
    stack_name: str | None = None,
    region: str | None = None,
) -> Template:
    """Load ``path`` for ``env``: parameter defaults < samconfig ``parameter_overrides`` < ``parameter_overrides``."""
    template_path = Path(path)
    if not template_path.is_absolute() and not template_path.exists():
        template_path = PROJECT_ROOT / template_path
    template_path = template_path.resolve()
    config_path = Path(samconfig) if samconfig is not None else template_path.parent / "samconfig.toml"
    try:
        config = read_samconfig(config_path, env)
        overrides = parse_parameter_overrides(config.get("parameter_overrides"))
    except SamConfigError as exc:
        raise TemplateError(str(exc)) from exc
    overrides.update(parameter_overrides or {})
    region = region or config.get("region") or "us-east-1"
    stack_name = stack_name or config.get("stack_name") or f"{template_path.parent.name}-{env}"

    sam = read_yaml(template_path)
    parameters = resolve_parameters(sam.get("Parameters", {}), overrides)
    code_dirs = _localise_code(sam, template_path.parent)
    cfn = translate(sam, parameters, region)
    return Template(
        path=template_path,
        env=env,
        stack_name=stack_name,
        region=region,
        parameters=parameters,
        sam=sam,
        cfn=cfn,
        code_dirs=code_dirs,
    )


def as_list(value: Any) -> list[Any]:
    """A template property that may be one value or a list of them, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
