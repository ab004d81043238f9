#!/usr/bin/env python3
"""Vendor the portal's browser libraries from npm into portal/static/vendor/, with a manifest.

    python scripts/vendor_assets.py           fetch the pinned versions with `npm pack`, copy the files,
                                              write portal/static/vendor/MANIFEST.json
    python scripts/vendor_assets.py --check   compare the committed files with the manifest (no npm needed)

Only this script needs Node (npm); installing rentmeter does not: the files are committed and ship in the
wheel as package data. To upgrade a library, change its version in ASSETS, run the script, review the diff
and run tests/portal/test_assets.py. The manifest records each tarball's npm integrity (SHA-512, as the
registry publishes it) and each vendored file's SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "portal" / "static" / "vendor"
MANIFEST = VENDOR / "MANIFEST.json"


@dataclass(frozen=True)
class Asset:
    package: str
    version: str
    # path inside the npm tarball -> file name under portal/static/vendor/
    files: dict[str, str]


ASSETS = (
    Asset(
        "htmx.org", "2.0.11",
        {"package/dist/htmx.min.js": "htmx.min.js", "package/LICENSE": "htmx.LICENSE"},
    ),
    Asset(
        "htmx-ext-sse", "2.2.4",
        {"package/dist/sse.min.js": "htmx-sse.min.js", "package/LICENSE": "htmx-sse.LICENSE"},
    ),
    Asset(
        "uplot",
        "1.6.32",
        {
            "package/dist/uPlot.iife.min.js": "uPlot.iife.min.js",
            "package/dist/uPlot.min.css": "uPlot.min.css",
            "package/LICENSE": "uPlot.LICENSE",
        },
    ),
)  # fmt: skip


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def npm_pack(asset: Asset, folder: Path) -> tuple[Path, str]:
    """Download the package's tarball into `folder`; its path and npm's integrity string."""
    answer = subprocess.run(
        ["npm", "pack", f"{asset.package}@{asset.version}", "--json", "--pack-destination", str(folder)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    packed = json.loads(answer.stdout)[0]
    return folder / packed["filename"], packed["integrity"]


def vendor() -> None:
    VENDOR.mkdir(parents=True, exist_ok=True)
    entries = []
    with tempfile.TemporaryDirectory(prefix="rentmeter-vendor-") as tmp:
        for asset in ASSETS:
            tarball, integrity = npm_pack(asset, Path(tmp))
            with tarfile.open(tarball) as archive:
                for source, name in asset.files.items():
                    member = archive.extractfile(source)
                    if member is None:
                        raise SystemExit(f"{asset.package}@{asset.version} has no file {source}")
                    with member, (VENDOR / name).open("wb") as out:
                        shutil.copyfileobj(member, out)
                    entries.append(
                        {
                            "file": name,
                            "package": asset.package,
                            "version": asset.version,
                            "source": source,
                            "tarball_integrity": integrity,
                            "sha256": sha256(VENDOR / name),
                        }
                    )
    MANIFEST.write_text(json.dumps({"assets": entries}, indent=2) + "\n")
    print(f"vendored {len(entries)} files into {VENDOR.relative_to(ROOT)}")


def problems() -> list[str]:
    """What differs between the files under portal/static/vendor/ and the manifest (empty: nothing)."""
    found = []
    listed = json.loads(MANIFEST.read_text())["assets"]
    for entry in listed:
        path = VENDOR / entry["file"]
        if not path.exists():
            found.append(f"{entry['file']} is missing")
        elif sha256(path) != entry["sha256"]:
            found.append(f"{entry['file']} differs from {entry['package']}@{entry['version']}'s")
    pinned = {(a.package, a.version, name) for a in ASSETS for name in a.files.values()}
    if pinned != {(e["package"], e["version"], e["file"]) for e in listed}:
        found.append("the manifest does not list the versions pinned in scripts/vendor_assets.py: rerun it")
    extra = {p.name for p in VENDOR.iterdir()} - {e["file"] for e in listed} - {MANIFEST.name}
    found.extend(f"{name} is not in the manifest" for name in sorted(extra))
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="compare the committed files with the manifest")
    args = parser.parse_args(argv)
    if args.check:
        found = problems()
        for problem in found:
            print(problem, file=sys.stderr)
        return 1 if found else 0
    vendor()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
