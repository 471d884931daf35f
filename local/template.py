"""Import point kept for the operator commands: template parameters and samconfig.toml readers.

New code imports :mod:`local.stack.template` (the template) and :mod:`tools.samconfig` (samconfig.toml).
"""

from local.stack.template import TemplateError, UnsupportedResourceError, load_template, read_yaml, resolve_parameters
from tools.samconfig import parse_parameter_overrides, read_samconfig

__all__ = [
    "TemplateError",
    "UnsupportedResourceError",
    "load_template",
    "parse_parameter_overrides",
    "read_samconfig",
    "read_yaml",
    "resolve_parameters",
]
