"""`uv run just gen-proto`: the Python code for the protos under proto/ (grpcio-tools' protoc).

Writes messages (``*_pb2.py``), their type stubs (``*_pb2.pyi``) and the gRPC stubs and servicer
bases (``*_pb2_grpc.py``) to app/grpc/gen/, replacing what is there. The output is committed: the
production image installs no dev dependency (grpcio-tools is one), and a change to the wire
format shows in review. tests/integration/test_grpc_codegen.py fails when the committed files
differ from a fresh run, so an edited .proto without `just gen-proto` cannot pass CI.

protoc writes imports by the proto's path (``from blog.v1 import listing_pb2``), which would make
``blog`` a top-level package; they are rewritten to ``app.grpc.gen.blog.v1`` here, the one step
protoc's Python plugin has no option for.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PROTO_ROOT.parent
OUTPUT = REPO_ROOT / "app" / "grpc" / "gen"
PACKAGE = "app.grpc.gen"


def proto_files() -> list[Path]:
    return sorted(PROTO_ROOT.rglob("*.proto"))


def generate(output: Path = OUTPUT) -> list[Path]:
    """Generate into ``output`` (emptied first); returns the files written."""
    well_known = files("grpc_tools") / "_proto"  # google/protobuf/*.proto, as the runtime ships them
    with tempfile.TemporaryDirectory() as raw:
        status = protoc.main(
            [
                "grpc_tools.protoc",
                f"--proto_path={PROTO_ROOT}",
                f"--proto_path={well_known}",
                f"--python_out={raw}",
                f"--pyi_out={raw}",
                f"--grpc_python_out={raw}",
                *(str(path.relative_to(PROTO_ROOT)) for path in proto_files()),
            ]
        )
        if status != 0:
            raise SystemExit(f"protoc failed ({status})")
        if output.exists():
            shutil.rmtree(output)
        written = []
        for source in sorted(Path(raw).rglob("*.py*")):
            code = source.read_text()
            if source.name.endswith("_pb2_grpc.py") and "\nclass " not in code:
                continue  # a proto without a service: protoc still writes an empty module
            target = output / source.relative_to(raw)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_rewrite_imports(code))
            written.append(target)
    for package in sorted({path.parent for path in written}):
        while package != output.parent:
            (package / "__init__.py").touch()
            written.append(package / "__init__.py")
            package = package.parent
    return sorted(set(written))


def _rewrite_imports(code: str) -> str:
    packages = {path.parent.relative_to(PROTO_ROOT).as_posix().replace("/", ".") for path in proto_files()}
    for package in packages:
        code = code.replace(f"from {package} import ", f"from {PACKAGE}.{package} import ")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just gen-proto", description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="default: app/grpc/gen")
    args = parser.parse_args(argv)
    written = generate(args.output)
    print(f"{len(written)} files under {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
