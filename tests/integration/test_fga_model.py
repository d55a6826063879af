"""The OpenFGA model, checked by the real OpenFGA engine through the ``fga`` CLI (offline)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from tests.support.openfga import fga_binary

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_FILE = REPO_ROOT / "adapters" / "authz" / "model.fga"
TESTS_FILE = REPO_ROOT / "adapters" / "authz" / "model.fga.yaml"

SUMMARY = re.compile(r"^Tests (\d+)/(\d+) passing$", re.MULTILINE)


def _fga(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(fga_binary()), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO_ROOT,
    )


def _output(result: subprocess.CompletedProcess[str]) -> str:
    # `fga model test` writes its report to stderr; read both so a change of stream does not hide it.
    return result.stdout + result.stderr


def test_model_assertions_pass() -> None:
    result = _fga("model", "test", "--tests", str(TESTS_FILE))
    output = _output(result)

    assert result.returncode == 0, output
    summary = SUMMARY.search(output)
    assert summary is not None, output
    passing, total = int(summary.group(1)), int(summary.group(2))
    assert total > 0
    assert passing == total, output
    assert "FAILING" not in output


def test_a_wrong_assertion_makes_the_run_fail(tmp_path: Path) -> None:
    original = TESTS_FILE.read_text()
    # The stranger check on a post: flip its can_delete expectation.
    stranger_block = (
        "      - user: user:carol\n"
        "        object: post:1\n"
        "        assertions:\n"
        "          owner: false\n"
        "          editor: false\n"
        "          can_update: false\n"
        "          can_delete: false\n"
    )
    assert original.count(stranger_block) == 1, "the test file changed; update this test"
    broken = original.replace(stranger_block, stranger_block.replace("can_delete: false", "can_delete: true"))
    broken = broken.replace("model_file: ./model.fga", f"model_file: {MODEL_FILE}")
    assert str(MODEL_FILE) in broken
    copy = tmp_path / "broken.fga.yaml"
    copy.write_text(broken)

    # The model lives outside tmp_path; fga refuses such references unless told to allow them.
    result = _fga("model", "test", "--allow-external-files", "--tests", str(copy))
    output = _output(result)

    assert result.returncode != 0, output
    # It must fail because of the flipped assertion, not because the file could not be loaded.
    assert "Check(user=user:carol,relation=can_delete,object=post:1): expected=true, got=false" in output, output
    summary = SUMMARY.search(output)
    assert summary is not None, output
    assert int(summary.group(1)) == int(summary.group(2)) - 1, output


def _relations(type_definition: dict[str, Any]) -> dict[str, Any]:
    relations: dict[str, Any] = type_definition.get("relations") or {}
    return relations


def test_transform_emits_the_house_types() -> None:
    result = _fga("model", "transform", "--file", str(MODEL_FILE), "--output-format", "json")
    assert result.returncode == 0, _output(result)

    model = json.loads(result.stdout)
    assert model["schema_version"] == "1.1"
    types = {definition["type"]: definition for definition in model["type_definitions"]}
    assert {"user", "group", "post", "comment"} <= set(types)  # and one per resource `just new-resource` wrote

    assert _relations(types["user"]) == {}
    assert _relations(types["group"]) == {"member": {"this": {}}}

    def union(*relations: str) -> dict[str, Any]:
        return {"union": {"child": [{"computedUserset": {"relation": r}} for r in relations]}}

    post = _relations(types["post"])
    assert set(post) == {"owner", "editor", "can_update", "can_delete", "can_share", "can_list_editors"}
    assert post["owner"] == {"this": {}}
    assert post["editor"] == {"this": {}}
    assert post["can_update"] == union("owner", "editor")
    assert post["can_list_editors"] == union("owner", "editor")
    assert post["can_delete"] == {"computedUserset": {"relation": "owner"}}
    assert post["can_share"] == {"computedUserset": {"relation": "owner"}}

    comment = _relations(types["comment"])
    assert set(comment) == {"owner", "post", "can_update", "can_delete"}
    assert comment["owner"] == {"this": {}}
    assert comment["post"] == {"this": {}}
    assert comment["can_update"] == {"computedUserset": {"relation": "owner"}}
    assert comment["can_delete"] == {
        "union": {
            "child": [
                {"computedUserset": {"relation": "owner"}},
                {"tupleToUserset": {"tupleset": {"relation": "post"}, "computedUserset": {"relation": "owner"}}},
            ]
        }
    }

    direct = {
        (type_name, relation): [
            t["type"] + (f"#{t['relation']}" if t.get("relation") else "")
            for t in meta.get("directly_related_user_types", [])
        ]
        for type_name, definition in types.items()
        for relation, meta in (definition.get("metadata") or {}).get("relations", {}).items()
    }
    assert direct[("group", "member")] == ["user"]
    assert direct[("post", "owner")] == ["user"]
    assert direct[("post", "editor")] == ["user", "group#member"]
    assert direct[("comment", "owner")] == ["user"]
    assert direct[("comment", "post")] == ["post"]
