"""Read template.yaml, CloudFormation short tags included, as plain Python data.

Why: `yaml.safe_load` rejects `!Ref`, `!GetAtt`, `!Sub` and friends, and the tests (and any test
that builds a local DynamoDB table from the template's `ProgressTable`) need the template as the
deploy would see it. Each short tag is turned into its long JSON form (`!Ref X` ->
`{"Ref": "X"}`, `!GetAtt A.B` -> `{"Fn::GetAtt": ["A", "B"]}`, `!If [...]` -> `{"Fn::If": [...]}`),
so assertions can compare against the same shapes CloudFormation documents.

Usage::

    from tests.template_loader import load_template, resource

    template = load_template()
    table_properties = resource(template, "ProgressTable")["Properties"]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

# Short tags whose long form is not simply "Fn::<Tag>".
_SPECIAL_TAGS = {"Ref": "Ref", "Condition": "Condition"}


class CloudFormationLoader(yaml.SafeLoader):
    """A safe loader that also understands every `!Tag` CloudFormation accepts."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    """Turn `!Tag value` into `{"Fn::Tag": value}` (or `{"Ref": value}` / `{"Condition": ...}`)."""
    key = _SPECIAL_TAGS.get(tag_suffix, f"Fn::{tag_suffix}")
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            # The short form "Resource.Attribute" splits at the first dot only:
            # attributes such as Endpoint.Address keep their own dot.
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


CloudFormationLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as a dict; a file that is not a YAML mapping is a TypeError, not an empty dict."""
    with path.open(encoding="utf-8") as stream:
        data = yaml.load(stream, Loader=CloudFormationLoader)
    if not isinstance(data, dict):
        raise TypeError(f"{path}: expected a YAML mapping at the top level")
    return data


def resource(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """One resource by logical ID, with a clear error when it is missing."""
    resources = template.get("Resources", {})
    if logical_id not in resources:
        raise KeyError(f"template has no resource {logical_id!r}; it has {sorted(resources)}")
    found: dict[str, Any] = resources[logical_id]
    return found


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """All resources of one type, by logical ID."""
    return {
        logical_id: body
        for logical_id, body in template.get("Resources", {}).items()
        if body.get("Type") == resource_type
    }
