"""The generated gRPC code is committed (app/grpc/gen/, see proto/generate.py for why): it must be
exactly what `just gen-proto` writes from proto/ today, so a .proto edited without regenerating,
or a generated file edited by hand, fails here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMITTED = REPO_ROOT / "app" / "grpc" / "gen"


def tree(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): path.read_text()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_committed_code_is_what_gen_proto_writes(tmp_path):
    fresh = tmp_path / "gen"
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "proto" / "generate.py"), "--output", str(fresh)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    committed, regenerated = tree(COMMITTED), tree(fresh)
    assert sorted(committed) == sorted(regenerated), "run `uv run just gen-proto` and commit app/grpc/gen/"
    stale = [name for name in committed if committed[name] != regenerated[name]]
    assert not stale, f"out of date with proto/: {stale}; run `uv run just gen-proto`"


def test_generated_imports_point_inside_the_app():
    for path in COMMITTED.rglob("*.py*"):
        text = path.read_text()
        assert "from blog." not in text, path
        assert "import blog." not in text, path
