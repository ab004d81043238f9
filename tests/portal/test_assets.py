"""What ships with the portal: the vendored libraries are the versions the manifest names, byte for byte;
the catalogs are up to date, Chinese complete and compiled; every template, catalog and static file is in
the wheel's package data."""

from __future__ import annotations

import importlib.util
import json
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"


def script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_vendored_files_match_the_manifest() -> None:
    assert script("vendor_assets").problems() == []


def test_a_changed_vendored_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vendor = script("vendor_assets")
    copy = tmp_path / "vendor"
    copy.mkdir()
    for path in vendor.VENDOR.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    (copy / "htmx.min.js").write_bytes(b"alert(1)")
    monkeypatch.setattr(vendor, "VENDOR", copy)
    monkeypatch.setattr(vendor, "MANIFEST", copy / "MANIFEST.json")
    assert vendor.problems() == ["htmx.min.js differs from htmx.org@2.0.11's"]


def test_the_manifest_names_versions_and_hashes() -> None:
    entries = json.loads((PORTAL / "static" / "vendor" / "MANIFEST.json").read_text())["assets"]
    assert {e["package"] for e in entries} == {"htmx.org", "htmx-ext-sse", "uplot"}
    assert all(len(e["sha256"]) == 64 and e["tarball_integrity"].startswith("sha512-") for e in entries)


def test_catalogs_are_current_complete_and_compiled() -> None:
    assert script("portal_catalogs").problems() == []


def test_an_untranslated_message_is_found() -> None:
    catalogs = script("portal_catalogs")
    catalog = catalogs.load("zh_CN")
    catalog.add("A sentence nobody translated")
    assert catalogs.untranslated(catalog) == ["A sentence nobody translated"]


def test_every_portal_file_is_package_data() -> None:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = settings["package-data"]["portal"]
    shipped = [p for p in PORTAL.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")]
    missing = [
        str(path.relative_to(PORTAL))
        for path in shipped
        if not any(fnmatch(str(path.relative_to(PORTAL)), pattern) for pattern in patterns)
    ]
    assert len(shipped) > 20 and missing == []
