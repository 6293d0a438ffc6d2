"""Tenant manifests: ``tenants/<slug>/tenant.toml``, validated before anything is written."""

from __future__ import annotations

import base64
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from propdesk.errors import FieldProblem, ManifestError
from propdesk.plugins.manager import PluginHost
from propdesk.tenancy.naming import SLUG_PATTERN

MANIFEST_FILE = "tenant.toml"

MANIFEST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["display_name", "base_currency", "timezone"],
    "additionalProperties": False,
    "properties": {
        "slug": {"type": "string", "pattern": SLUG_PATTERN},
        "display_name": {"type": "string", "minLength": 1, "maxLength": 120},
        "domains": {
            "type": "array",
            "items": {"type": "string", "format": "hostname", "minLength": 1},
            "uniqueItems": True,
        },
        "base_currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "timezone": {"type": "string", "minLength": 1},
        "theme": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "primary_color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"},
                "accent_color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"},
                "logo": {"type": "string", "minLength": 1},
            },
        },
        "plugins": {"type": "object", "additionalProperties": {"type": "object"}},
    },
}
_VALIDATOR = Draft202012Validator(
    MANIFEST_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)


@dataclass(frozen=True)
class TenantManifest:
    """A validated manifest. ``source`` names the file it came from (for messages)."""

    slug: str
    display_name: str
    base_currency: str
    timezone: str
    domains: tuple[str, ...] = ()
    theme: dict[str, Any] = field(default_factory=dict)
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "<values>"
    #: The desk's folder (products in ``challenges/``), for manifests read from files.
    folder: Path | None = None

    @classmethod
    def from_values(cls, slug: str, **values: Any) -> TenantManifest:
        """Build from keyword values (tests, API): defaults for what a desk rarely sets."""
        data = {
            "display_name": slug.replace("_", " ").title(),
            "base_currency": "USD",
            "timezone": "UTC",
            **values,
        }
        return parse_manifest(data, slug=slug, source=f"<manifest {slug}>")


def pointer(path: Any) -> str:
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _problem(error: ValidationError) -> FieldProblem:
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return FieldProblem(pointer([*path, missing]), "is required")
    if error.validator == "additionalProperties" and "'" in error.message:
        extra = error.message.split("'")[1]
        return FieldProblem(pointer([*path, extra]), "is not a known field")
    if error.validator == "pattern" and path == ["slug"]:
        return FieldProblem(
            "/slug", "must be 2-40 lowercase letters, digits or underscores, starting with a letter"
        )
    if error.validator == "pattern" and pointer(path) in _FORMATS:
        return FieldProblem(pointer(path), _FORMATS[pointer(path)])
    return FieldProblem(pointer(path), error.message)


_FORMATS = {
    "/base_currency": "must be a three-letter ISO 4217 code in capitals, e.g. USD",
    "/theme/primary_color": "must be a colour written #RRGGBB",
    "/theme/accent_color": "must be a colour written #RRGGBB",
}


def parse_manifest(
    data: dict[str, Any], *, slug: str, source: str, host: PluginHost | None = None
) -> TenantManifest:
    """Validate a manifest; with ``host``, its plugins too. Raises listing every problem."""
    problems = [_problem(e) for e in sorted(_VALIDATOR.iter_errors(data), key=lambda e: e.path)]
    if host is not None and isinstance(data.get("plugins"), dict):
        problems += check_plugins(data["plugins"], host)
    declared = data.get("slug")
    if isinstance(declared, str) and declared != slug:
        problems.append(FieldProblem("/slug", f"is {declared!r} but the folder is {slug!r}"))
    if not any(p.field == "/slug" for p in problems):
        if not re.fullmatch(SLUG_PATTERN, slug):
            problems.append(
                FieldProblem(
                    "/slug",
                    f"{slug!r} is not a safe identifier: use 2-40 lowercase letters, digits "
                    "or underscores, starting with a letter (the folder name is the slug)",
                )
            )
    tz = data.get("timezone")
    if isinstance(tz, str) and tz:
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(FieldProblem("/timezone", f"{tz!r} is not an IANA time zone"))
    if problems:
        raise ManifestError(source, problems)
    return TenantManifest(
        slug=slug,
        display_name=data["display_name"],
        base_currency=data["base_currency"],
        timezone=data["timezone"],
        domains=tuple(d.lower() for d in data.get("domains", ())),
        theme=dict(data.get("theme", {})),
        plugins={name: dict(s) for name, s in data.get("plugins", {}).items()},
        source=source,
    )


def check_plugins(plugins: Mapping[str, Any], host: PluginHost) -> list[FieldProblem]:
    """Unknown plugins and settings that fail their plugin's JSON Schema."""
    problems = []
    installed = host.tenant_plugins()
    schemas = host.settings_schemas()
    for name, settings in plugins.items():
        where = pointer(["plugins", name])
        if name not in installed:
            known = ", ".join(sorted(installed)) or "none"
            problems.append(FieldProblem(where, f"unknown plugin {name!r} (installed: {known})"))
            continue
        schema = schemas.get(name)
        if schema is None:
            if settings:
                problems.append(FieldProblem(where, f"plugin {name!r} takes no settings"))
            continue
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        for error in sorted(validator.iter_errors(settings), key=lambda e: e.path):
            problem = _problem(error)
            problems.append(FieldProblem(where + problem.field.rstrip("/"), problem.message))
    return problems


def read_manifest(folder: Path, host: PluginHost | None = None) -> TenantManifest:
    """Read and validate ``folder/tenant.toml``; the folder's name is the slug."""
    path = folder / MANIFEST_FILE
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(source, [FieldProblem("", "file not found")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(source, [FieldProblem("", f"not valid TOML: {exc}")]) from None
    theme = data.get("theme")
    logo = theme.get("logo") if isinstance(theme, dict) else None
    logo_problems = []
    if isinstance(logo, str) and logo and not (folder / logo).is_file():
        message = f"file {logo!r} not found next to {MANIFEST_FILE}"
        logo_problems.append(FieldProblem("/theme/logo", message))
    try:
        manifest = replace(
            parse_manifest(data, slug=folder.name, source=source, host=host), folder=folder
        )
    except ManifestError as exc:
        raise ManifestError(source, exc.problems + logo_problems) from None
    if logo_problems:
        raise ManifestError(source, logo_problems)
    if isinstance(logo, str) and logo:
        try:
            data_uri = logo_data(folder / logo)
        except ValueError as exc:
            raise ManifestError(source, [FieldProblem("/theme/logo", str(exc))]) from None
        manifest = replace(manifest, theme={**manifest.theme, "logo_data": data_uri})
    return manifest


#: Logo types a desk may ship, and the largest logo stored with the desk (it is inlined).
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg"}
LOGO_MAX_BYTES = 200_000


def logo_data(path: Path) -> str:
    """The logo as a ``data:`` URI: the registry keeps it, so any web process can show it."""
    media = LOGO_TYPES.get(path.suffix.lower())
    if media is None:
        raise ValueError(f"a logo must be one of {', '.join(LOGO_TYPES)}, not {path.name!r}")
    raw = path.read_bytes()
    if len(raw) > LOGO_MAX_BYTES:
        raise ValueError(f"{path.name!r} is {len(raw):,} bytes; a logo may have {LOGO_MAX_BYTES:,}")
    return f"data:{media};base64,{base64.b64encode(raw).decode('ascii')}"


def find_manifests(path: Path) -> list[Path]:
    """``path`` is one tenant folder, a tenant.toml, or a folder of tenant folders."""
    if path.is_file():
        return [path.parent]
    if (path / MANIFEST_FILE).is_file():
        return [path]
    return sorted(p.parent for p in path.glob(f"*/{MANIFEST_FILE}"))
