"""Regenerate the Python code for protos/rentmeter/v1/*.proto.

Usage: python scripts/gen_protos.py [OUTPUT_ROOT]

Needs grpcio-tools at the version pinned in pyproject.toml's dev extra, so that the committed code is
reproducible; tests/test_protos_fresh.py regenerates into a temporary folder and fails on any difference.
Generated imports are rewritten from ``rentmeter.v1`` to ``protos.rentmeter.v1``, the importable package.
"""

from __future__ import annotations

import re
import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
PACKAGE_DIR = Path("rentmeter") / "v1"
_IMPORT = re.compile(r"^from rentmeter\.v1 import ", re.MULTILINE)


def generate(output_root: Path) -> list[Path]:
    """Generate *_pb2.py, *_pb2.pyi and *_pb2_grpc.py under output_root/rentmeter/v1; return them."""
    out_dir = output_root / PACKAGE_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / PACKAGE_DIR).glob("*.proto"))
    include = str(resources.files("grpc_tools") / "_proto")
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={output_root}",
        f"--pyi_out={output_root}",
        f"--grpc_python_out={output_root}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    generated = sorted(out_dir.glob("*_pb2*.py*"))
    for path in generated:
        text = path.read_text()
        path.write_text(_IMPORT.sub("from protos.rentmeter.v1 import ", text))
    return generated


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else PROTO_ROOT
    for file in generate(target):
        print(file)
