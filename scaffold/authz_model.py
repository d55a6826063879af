"""A new resource's OpenFGA type in ``adapters/authz/model.fga`` and its assertions in
``model.fga.yaml``, which ``fga model test`` (``just lint``) runs.

Both files are edited at their end, where a type and a test begin at the top level, and only in the
shape the house writes them, checked before the edit: the model is ``model``, ``schema 1.1`` and then
types (comments and blank lines aside); the test file's last key is ``tests``, a list. An edit of the
test file is read back and must parse to the same document with one more test. Anything else is a
refusal naming the file, never a guess. A service made without OpenFGA (no model file) gets none of
this: ``enabled`` says so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from scaffold.errors import Refused
from scaffold.names import Names

MODEL, MODEL_TESTS = "adapters/authz/model.fga", "adapters/authz/model.fga.yaml"
_TOP_LEVEL = re.compile(r"(model|type [a-z][a-z0-9_]*)")
_TYPE = re.compile(r"^type ([a-z][a-z0-9_]*)$", re.MULTILINE)
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*):", re.MULTILINE)
# The ids the assertions use: one object, its owner and someone else, in tuples of the test itself.
OWNER, OTHER = "user:owner", "user:someone_else"


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML has no type stubs here
    """Lists indented under their key, as the test file writes them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def enabled(root: Path) -> bool:
    """Whether the repository keeps its permissions in OpenFGA: the model file is there."""
    return (root / MODEL).is_file()


def _model_types(text: str) -> list[str]:
    """The types the model declares; ``Refused`` when it is not the shape this module edits."""
    code = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    code = [(number, line) for number, line in code if not line.lstrip().startswith("#")]
    if [line.strip() for _, line in code[:2]] != ["model", "schema 1.1"]:
        raise Refused(f"{MODEL}: does not begin with `model` and `schema 1.1`; add the type by hand")
    for number, line in code:
        if not line[0].isspace() and not _TOP_LEVEL.fullmatch(line.rstrip()):
            raise Refused(f"{MODEL}: line {number} is neither a type nor inside one; add the type by hand")
    return _TYPE.findall(text)


def add_type(text: str, names: Names) -> str:
    """The model with the resource's type, named by its singular: an owner, who alone may update and
    delete it (admins are the application's, as for every type of the model)."""
    kind, kinds = names.singular, names.kinds
    if kind in _model_types(text):
        raise Refused(f"{MODEL}: a type {kind!r} exists already")
    block = (
        f"# {kinds[:1].upper() + kinds[1:]} (`just new-resource`): the use cases decide owner-or-admin from the row;\n"
        "# the owner tuple is kept here for ListObjects and other readers of the store.\n"
        f"type {kind}\n"
        "  relations\n"
        "    define owner: [user]\n"
        "    define can_update: owner\n"
        "    define can_delete: owner\n"
    )
    return f"{text.rstrip()}\n\n{block}"


def _test(names: Names) -> dict[str, Any]:
    kind, obj = names.singular, f"{names.singular}:1"
    return {
        "name": f"the owner of {names.kind} 1 may update and delete it, someone else may not",
        "tuples": [{"user": OWNER, "relation": "owner", "object": obj}],
        "check": [
            {"user": OWNER, "object": obj, "assertions": {"owner": True, "can_update": True, "can_delete": True}},
            {"user": OTHER, "object": obj, "assertions": {"owner": False, "can_update": False, "can_delete": False}},
        ],
        "list_objects": [
            {"user": OWNER, "type": kind, "assertions": {"owner": [obj], "can_update": [obj], "can_delete": [obj]}},
            {"user": OTHER, "type": kind, "assertions": {"can_update": [], "can_delete": []}},
        ],
    }


def add_assertions(text: str, names: Names) -> str:
    """The test file with one more test: the resource's owner may update and delete it, someone else may
    not, both as checks and as ListObjects."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Refused(f"{MODEL_TESTS}: not valid YAML ({str(exc).splitlines()[0]})") from None
    keys = _TOP_KEY.findall(text)
    if not isinstance(document, dict) or not isinstance(document.get("tests"), list) or keys[-1:] != ["tests"]:
        raise Refused(f"{MODEL_TESTS}: its last key is not `tests`, a list; add the assertions by hand")
    items = re.search(r"^tests:\n(?:\s*(?:#.*)?\n)*( *)- ", text, re.MULTILINE)
    indent = items.group(1) if items else "  "
    test = _test(names)
    block = yaml.dump([test], Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120)
    block = "".join(f"{indent}{line}" if line.strip() else line for line in block.splitlines(keepends=True))
    edited = f"{text.rstrip()}\n\n{block}"
    try:
        read_back = yaml.safe_load(edited)
    except yaml.YAMLError:
        read_back = None
    if read_back != document | {"tests": [*document["tests"], test]}:
        raise Refused(f"{MODEL_TESTS}: the test appended does not read back as one; add the assertions by hand")
    return edited
