"""Assemble the ask-cli v2 skill package from the repository's single sources.

interaction_model/<locale>.json (the voice model) and infrastructure/skill.json (the manifest) are
the only hand-kept files; infrastructure/skill-package/ is generated from them on every
`make skill-package` / `make deploy` and git-ignored, so there are never two copies to keep in sync.

The manifest source carries a ``{{SKILL_ENDPOINT_URI}}`` placeholder because the endpoint is only
known after deployment: the Lambda ARN comes from the SAM stack output (``make deploy``), or the
HTTPS URL of the self-hosted Flask endpoint is given by hand. Without either, the endpoint and the
event subscription (which needs an endpoint) are left out, which is what the very first
``ask deploy --target skill-metadata`` needs to create the skill and obtain its ID.

Every interaction_model/*.json locale is shipped. A locale the manifest has no publishing text for
(say a new en-GB model) borrows en-US's text and adds its country to the distribution list, so adding
an English locale needs no manifest edit.

Standard library only: it runs under any Python 3.11+ (the skill's .venv in the Makefile).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = REPO_ROOT / "interaction_model"
MANIFEST_SOURCE = REPO_ROOT / "infrastructure" / "skill.json"
DEFAULT_OUTPUT = REPO_ROOT / "infrastructure" / "skill-package"
# Written by `make deploy` (git-ignored) so a later plain `make skill-package` keeps the endpoint
# instead of silently producing a package that would unset it on the next `ask deploy`.
SAVED_ENDPOINT = REPO_ROOT / "infrastructure" / ".deployed-endpoint.json"

PLACEHOLDER = "{{SKILL_ENDPOINT_URI}}"
BASE_LOCALE = "en-US"
SSL_CERTIFICATE_TYPES = ("Trusted", "Wildcard", "SelfSigned")
_LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$")
_LOCALE = re.compile(r"^[a-z]{2}-[A-Z]{2}$")


class PackageError(ValueError):
    """The sources or the endpoint options cannot make a valid skill package."""


@dataclass(frozen=True)
class Endpoint:
    """Where Alexa sends requests: a Lambda ARN, or an HTTPS URL with its certificate type."""

    uri: str
    ssl_certificate_type: str | None = None

    def __post_init__(self) -> None:
        if self.uri.startswith("https://"):
            if self.ssl_certificate_type not in SSL_CERTIFICATE_TYPES:
                raise PackageError(
                    f"an HTTPS endpoint needs sslCertificateType, one of {SSL_CERTIFICATE_TYPES}"
                )
        elif _LAMBDA_ARN.match(self.uri):
            if self.ssl_certificate_type is not None:
                raise PackageError("sslCertificateType applies to HTTPS endpoints only")
        else:
            raise PackageError(
                f"endpoint must be a Lambda function ARN or an https:// URL: {self.uri}"
            )

    def as_manifest(self) -> dict[str, str]:
        """The manifest's endpoint object."""
        value = {"uri": self.uri}
        if self.ssl_certificate_type:
            value["sslCertificateType"] = self.ssl_certificate_type
        return value


def model_locales(model_dir: Path = MODEL_DIR) -> list[str]:
    """Locales that have a voice model, e.g. ["en-US"]; each becomes a locale of the skill."""
    locales = sorted(path.stem for path in model_dir.glob("*.json"))
    bad = [name for name in locales if not _LOCALE.match(name)]
    if bad:
        raise PackageError(f"{model_dir}: file names must be locales like en-US.json, got {bad}")
    if not locales:
        raise PackageError(f"{model_dir}: no interaction model (<locale>.json) found")
    return locales


def render_manifest(
    source: dict[str, Any], locales: list[str], endpoint: Endpoint | None
) -> dict[str, Any]:
    """The deployable manifest: endpoint filled in (or left out) and one entry per model locale."""
    manifest = copy.deepcopy(source)
    body = manifest["manifest"]
    publishing = body["publishingInformation"]
    texts = publishing["locales"]
    if BASE_LOCALE not in texts:
        raise PackageError(f"manifest has no publishing text for {BASE_LOCALE}")
    for locale in locales:
        if locale not in texts:
            if not locale.startswith("en-"):
                raise PackageError(f"add publishing text for {locale} to {MANIFEST_SOURCE.name}")
            texts[locale] = copy.deepcopy(texts[BASE_LOCALE])
        country = locale.split("-")[1]
        countries = publishing.setdefault("distributionCountries", [])
        if not publishing.get("isAvailableWorldwide") and country not in countries:
            countries.append(country)
    stale = sorted(set(texts) - set(locales))
    if stale:
        raise PackageError(f"manifest publishes {stale}, which have no interaction model")

    custom = body["apis"]["custom"]
    if endpoint is None:
        custom.pop("endpoint", None)
        # Skill events are delivered to an endpoint; without one there is nothing to subscribe.
        body.pop("events", None)
    else:
        custom["endpoint"] = endpoint.as_manifest()
        if "events" in body:
            body["events"]["endpoint"] = endpoint.as_manifest()

    leftover = PLACEHOLDER in json.dumps(manifest)
    if leftover:
        raise PackageError(f"{PLACEHOLDER} left in the manifest outside the endpoints")
    return manifest


def assemble(
    output: Path = DEFAULT_OUTPUT,
    endpoint: Endpoint | None = None,
    model_dir: Path = MODEL_DIR,
    manifest_source: Path = MANIFEST_SOURCE,
) -> Path:
    """Write <output>/skill.json and <output>/interactionModels/custom/<locale>.json.

    Models are copied byte for byte (the package is a copy, never an edited fork); stale locales
    from an earlier run are removed. Returns the skill.json path.
    """
    locales = model_locales(model_dir)
    for locale in locales:
        json.loads((model_dir / f"{locale}.json").read_text(encoding="utf-8"))
    source = json.loads(manifest_source.read_text(encoding="utf-8"))
    manifest = render_manifest(source, locales, endpoint)

    models_out = output / "interactionModels" / "custom"
    if models_out.exists():
        shutil.rmtree(models_out)
    models_out.mkdir(parents=True)
    for locale in locales:
        shutil.copyfile(model_dir / f"{locale}.json", models_out / f"{locale}.json")
    skill_json = output / "skill.json"
    skill_json.write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return skill_json


def endpoint_from_args(
    lambda_arn: str | None, https_url: str | None, ssl_certificate_type: str | None
) -> Endpoint | None:
    """At most one endpoint kind; an empty value counts as not given (Make passes empty vars)."""
    if lambda_arn and https_url:
        raise PackageError("give either a Lambda ARN or an HTTPS URL, not both")
    if lambda_arn:
        return Endpoint(lambda_arn, ssl_certificate_type or None)
    if https_url:
        return Endpoint(https_url, ssl_certificate_type or "Trusted")
    return None


def save_endpoint(endpoint: Endpoint, path: Path = SAVED_ENDPOINT) -> None:
    """Remember the deployed endpoint for later `make skill-package` runs."""
    value = {"uri": endpoint.uri, "sslCertificateType": endpoint.ssl_certificate_type}
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")


def saved_endpoint(path: Path = SAVED_ENDPOINT) -> Endpoint | None:
    """The endpoint recorded by the last `make deploy`, if any."""
    if not path.exists():
        return None
    value = json.loads(path.read_text(encoding="utf-8"))
    return Endpoint(value["uri"], value.get("sslCertificateType"))


def main(argv: list[str] | None = None) -> int:
    """CLI for `make skill-package`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--lambda-arn", default=None, help="Lambda function ARN endpoint")
    parser.add_argument("--https-url", default=None, help="self-hosted HTTPS endpoint URL")
    parser.add_argument(
        "--ssl-certificate-type",
        default=None,
        choices=SSL_CERTIFICATE_TYPES,
        help="certificate of the HTTPS endpoint (default Trusted, i.e. signed by a public CA)",
    )
    parser.add_argument(
        "--no-endpoint",
        action="store_true",
        help=f"leave the endpoint out even if {SAVED_ENDPOINT.name} exists (skill creation)",
    )
    args = parser.parse_args(argv)
    try:
        endpoint = endpoint_from_args(args.lambda_arn, args.https_url, args.ssl_certificate_type)
        if endpoint is None and not args.no_endpoint:
            endpoint = saved_endpoint()
        skill_json = assemble(args.output, endpoint)
    except (PackageError, OSError, json.JSONDecodeError) as error:
        print(f"skill-package: {error}", file=sys.stderr)
        return 2
    where = endpoint.uri if endpoint else "none yet (first deploy creates the skill)"
    print(f"skill-package: wrote {skill_json.parent} (endpoint: {where})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
