"""template.yaml as CloudFormation would see it: parameters, the SAM transform, conditions and intrinsic functions.

The SAM transform is expanded offline with ``samtranslator`` (the library behind the ``AWS::Serverless-2016-10-31``
transform), fed the way ``cfn-lint`` feeds it without AWS: local ``CodeUri``/``ContentUri`` replaced by S3 locations,
the bundled managed-policy map, the region from a boto3 session. The result holds the resources CloudFormation would
create (``AWS::Lambda::Function``, ``AWS::Events::Rule`` with its ``EventPattern``, ``AWS::Lambda::EventInvokeConfig``,
IAM roles...). ``Resolver`` then evaluates intrinsic functions against the resources created locally.
"""

from __future__ import annotations

import copy
import logging
import re
import shlex
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml
from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
from samtranslator.parser.parser import Parser
from samtranslator.public.exceptions import InvalidDocumentException
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import intrinsics_multi_constructor

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_CODE_BUCKET = "local-code"  # S3 bucket name standing in for local code folders during the transform
NO_VALUE = object()  # AWS::NoValue


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


# ---------------------------------------------------------------------------------------------------------- samconfig
def read_samconfig(path: Path, env: str) -> dict[str, Any]:
    """``[<env>.deploy.parameters]`` merged over ``[default.global.parameters]`` (what ``sam deploy`` reads)."""
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        config = tomllib.load(handle)
    merged: dict[str, Any] = {}
    for section in (("default", "global"), (env, "global"), ("default", "deploy"), (env, "deploy")):
        merged.update(config.get(section[0], {}).get(section[1], {}).get("parameters", {}))
    if env not in config and env != "default":
        raise TemplateError(f"{path.name} has no [{env}] environment")
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
            raise TemplateError(f"parameter override {item!r} is not KEY=VALUE")
        overrides[key.strip()] = val
    return overrides


def resolve_parameters(declared: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
    """Parameter values as CloudFormation validates them: defaults, overrides, AllowedValues, AllowedPattern."""
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"parameters not declared in the template: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
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
        if kind == "Number":
            try:
                float(value)
            except ValueError as exc:
                raise TemplateError(f"parameter {name}={value!r} is not a number") from exc
        values[name] = value
    return values


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
    if "AWS::Serverless-2016-10-31" not in _as_list(sam.get("Transform")):
        return sam
    translator = Translator(
        managed_policy_map=get_bundled_managed_policy_map("aws"),
        sam_parser=Parser(),
        boto_session=boto3.session.Session(region_name=region),
    )
    try:
        cfn = translator.translate(sam_template=sam, parameter_values=dict(parameters), passthrough_metadata=True)
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
    config = read_samconfig(config_path, env)
    overrides = parse_parameter_overrides(config.get("parameter_overrides"))
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


# ---------------------------------------------------------------------------------------------------------- intrinsics
def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")
INTRINSICS = {
    "Ref",
    "Condition",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::If",
    "Fn::Equals",
    "Fn::Not",
    "Fn::And",
    "Fn::Or",
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::FindInMap",
    "Fn::Base64",
    "Fn::GetAZs",
    "Fn::ImportValue",
    "Fn::Cidr",
    "Fn::Length",
    "Fn::ToJsonString",
}


def _intrinsic(value: Any) -> tuple[str, Any] | None:
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        if key in INTRINSICS:
            return key, value[key]
    return None


def references(value: Any) -> Iterator[str]:
    """Logical ids (resources or parameters) that ``value`` refers to through Ref, GetAtt or Sub."""
    found = _intrinsic(value)
    if found:
        name, arg = found
        if name == "Ref" and isinstance(arg, str):
            yield arg
            return
        if name == "Fn::GetAtt":
            target = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
            yield target
            return
        if name == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            for match in _SUB_VARIABLE.finditer(text):
                ref = match.group(1)
                if not ref.startswith("!") and ref not in variables:
                    yield ref.split(".", 1)[0]
            yield from references(variables)
            return
    if isinstance(value, dict):
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


class Resolver:
    """Evaluates intrinsic functions of a translated template.

    ``ref(logical_id)`` and ``get_att(logical_id, attribute)`` answer for resources (created locally by the caller).
    """

    def __init__(
        self,
        template: Template,
        *,
        account_id: str,
        ref: Callable[[str], Any],
        get_att: Callable[[str, str], Any],
    ) -> None:
        self.template = template
        self._ref = ref
        self._get_att = get_att
        region = template.region
        partition = boto3.session.Session().get_partition_for_region(region)
        self.pseudo: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": partition,
            "AWS::StackName": template.stack_name,
            "AWS::StackId": f"arn:{partition}:cloudformation:{region}:{account_id}:stack/{template.stack_name}/local",
            "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        self.conditions: dict[str, bool] = {}
        for name in template.cfn.get("Conditions", {}):
            self.condition(name)

    # -- conditions
    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            definitions = self.template.cfn.get("Conditions", {})
            if name not in definitions:
                raise TemplateError(f"unknown condition {name}")
            self.conditions[name] = bool(self.resolve(definitions[name]))
        return self.conditions[name]

    # -- values
    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function evaluated (``AWS::NoValue`` removed)."""
        found = _intrinsic(value)
        if found:
            return self._call(*found)
        if isinstance(value, dict):
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self.resolve(entry) for entry in value) if item is not NO_VALUE]
        return value

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.template.parameters:
            return self.template.parameters[name]
        if name in self.template.resources:
            return self._ref(name)
        raise TemplateError(f"Ref to unknown name {name}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self.template.resources:
            raise TemplateError(f"GetAtt to unknown resource {logical_id}")
        return self._get_att(logical_id, attribute)

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = variables[name]
            elif "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                value = self.get_att(logical_id, attribute)
            else:
                value = self.ref(name)
            if isinstance(value, list | dict):
                raise TemplateError(f"Fn::Sub variable {name} is not a string")
            return str(value)

        return _SUB_VARIABLE.sub(replace, text)

    def _call(self, name: str, arg: Any) -> Any:
        if name == "Ref":
            return self.ref(arg)
        if name == "Condition":
            return self.condition(arg)
        if name == "Fn::GetAtt":
            logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
            return self.get_att(logical_id, attribute)
        if name == "Fn::Sub":
            if isinstance(arg, str):
                return self._sub(arg, {})
            text, variables = arg
            return self._sub(text, {key: self.resolve(value) for key, value in variables.items()})
        if name == "Fn::If":
            condition, when_true, when_false = arg
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name == "Fn::Equals":
            left, right = (self.resolve(item) for item in arg)
            return str(left) == str(right) if not isinstance(left, list | dict) else left == right
        if name == "Fn::Not":
            return not self.resolve(arg[0])
        if name == "Fn::And":
            return all(self.resolve(item) for item in arg)
        if name == "Fn::Or":
            return any(self.resolve(item) for item in arg)
        if name == "Fn::Join":
            separator, items = arg
            return str(separator).join(str(item) for item in self.resolve(items))
        if name == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if name == "Fn::Split":
            separator, text = arg
            return str(self.resolve(text)).split(separator)
        if name == "Fn::FindInMap":
            map_name, top, second = (self.resolve(item) for item in arg[:3])
            try:
                return self.template.cfn.get("Mappings", {})[map_name][top][second]
            except KeyError as exc:
                raise TemplateError(f"Fn::FindInMap {map_name}/{top}/{second} not found") from exc
        if name == "Fn::Base64":
            import base64  # noqa: PLC0415

            return base64.b64encode(str(self.resolve(arg)).encode()).decode()
        if name == "Fn::GetAZs":
            region = self.resolve(arg) or self.template.region
            return [f"{region}{zone}" for zone in "abc"]
        if name == "Fn::Length":
            return len(self.resolve(arg))
        if name == "Fn::ToJsonString":
            import json  # noqa: PLC0415

            return json.dumps(self.resolve(arg), separators=(",", ":"))
        raise TemplateError(f"{name} cannot be resolved locally")
