"""The committed generated code is exactly what scripts/gen_protos.py produces from the .proto files."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_generated_code_is_fresh(tmp_path: Path) -> None:
    generated = _generator().generate(tmp_path)
    committed_dir = ROOT / "protos" / "rentmeter" / "v1"
    assert {p.name for p in generated} == {p.name for p in committed_dir.glob("*_pb2*.py*")}
    stale = [p.name for p in generated if p.read_text() != (committed_dir / p.name).read_text()]
    assert stale == [], f"regenerate with `python scripts/gen_protos.py`: {stale}"
