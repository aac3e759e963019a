"""Reading the content YAML files, fast where libyaml is present and with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# libyaml's loader parses our content several times faster than the pure-Python one,
# which matters on a Lambda cold start; a build without it (another CPU) still works.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ContentError(ValueError):
    """Raised when a content file is unreadable, or a field is missing or of the wrong shape."""


def load_yaml(path: Path) -> Any:
    """Parse one YAML file; a syntax error names the file so the fix is obvious."""
    try:
        with path.open(encoding="utf-8") as stream:
            return yaml.load(stream, Loader=_Loader)
    except (OSError, yaml.YAMLError) as error:
        raise ContentError(f"{path}: cannot read content: {error}") from error
