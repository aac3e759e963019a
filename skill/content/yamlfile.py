"""Reading the content YAML files: from a compiled JSON snapshot when it is current.

YAML is where content is written (it carries the safety comments); parsing it needs
PyYAML, whose import and parse cost ~25 ms of a Lambda cold start. `make content` writes
skill/content/compiled.json, the same data as JSON with each source file's SHA-256. A
file is read from the snapshot only while its hash still matches, so an edited YAML file
is always read as written (and a test says the snapshot is stale); nothing can drift.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

CONTENT_DIR = Path(__file__).parent
SNAPSHOT = CONTENT_DIR / "compiled.json"


class ContentError(ValueError):
    """Raised when a content file is unreadable, or a field is missing or of the wrong shape."""


def _key(path: Path) -> str:
    return path.resolve().relative_to(CONTENT_DIR.resolve()).as_posix()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@cache
def _snapshot() -> dict[str, Any]:
    try:
        return json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def parse_yaml(path: Path) -> Any:
    """Parse one YAML file; a syntax error names the file so the fix is obvious."""
    import yaml

    # libyaml's loader is several times faster; a build without it (another CPU) still works.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with path.open(encoding="utf-8") as stream:
            return yaml.load(stream, Loader=loader)
    except (OSError, yaml.YAMLError) as error:
        raise ContentError(f"{path}: cannot read content: {error}") from error


def load_yaml(path: Path) -> Any:
    """A content file's data: the snapshot's copy if it is of this very file, else parsed."""
    try:
        entry = _snapshot().get("files", {}).get(_key(path))
        if entry is not None and entry["sha256"] == digest(path):
            return entry["data"]
    except (OSError, ValueError):
        pass  # outside the content folder or unreadable: parse_yaml reports it properly
    return parse_yaml(path)


def compile_snapshot() -> dict[str, Any]:
    """The snapshot of every YAML file under skill/content/, as `make content` writes it."""
    files = {
        _key(path): {"sha256": digest(path), "data": parse_yaml(path)}
        for path in sorted(CONTENT_DIR.rglob("*.yaml"))
    }
    return {"generated_by": "make content", "files": files}


def main(argv: list[str] | None = None) -> int:
    """`python -m skill.content.yamlfile [--check]`: write the snapshot, or fail if it is stale."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    text = json.dumps(compile_snapshot(), ensure_ascii=False, sort_keys=True, indent=1) + "\n"
    if "--check" in args:
        current = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""
        if current != text:
            print(f"{SNAPSHOT} is stale: run `make content`")
            return 1
        return 0
    SNAPSHOT.write_text(text, encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
