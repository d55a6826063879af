"""`just new-resource`'s parts, each on its own: the field grammar, the names, the anchored edits,
how statements are wrapped, and what it reads of the repository. The whole command runs in
tests/integration/test_new_resource.py."""

from __future__ import annotations

import ast
import shutil
import subprocess

import jinja2
import pytest
import yaml

from scaffold import authz_model, new_resource
from scaffold.edits import add_imports, insert_above
from scaffold.errors import Refused
from scaffold.fields import STR_MAX_DEFAULT, Field, parse_field, parse_fields
from scaffold.names import Names, singular_of
from scaffold.project import existing_resources
from scaffold.templating import WIDTH, Filters, sql
from tests.support.servers import REPO_ROOT


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ("title:str", Field("title", "str", max_length=STR_MAX_DEFAULT)),
        ("title:str:max=80:unique", Field("title", "str", unique=True, max_length=80)),
        ("body:text:optional", Field("body", "text", optional=True, max_length=10_000)),
        ("rank:int", Field("rank", "int")),
        ("done:bool", Field("done", "bool")),
        ("due:datetime:optional", Field("due", "datetime", optional=True)),
        ("external_id:uuid:unique:optional", Field("external_id", "uuid", optional=True, unique=True)),
        ("post:ref", Field("post_id", "ref", target="post")),
        ("author:ref=user:optional", Field("author_id", "ref", optional=True, target="user")),
    ],
)
def test_the_grammar_reads_each_type_and_flag(spec, field):
    assert parse_field(spec) == field


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("title", "needs a type"),
        ("title:string", "unknown type 'string'"),
        ("title:str:max=0", "max= takes a number from 1 to 10000"),
        ("title:str:max=ten", "max= takes a number"),
        ("rank:int:max=5", "max= is for str fields"),
        ("done:bool:unique", "a bool cannot be unique"),
        ("body:text:unique", "a text cannot be unique"),
        ("title:str:required", "unknown flag 'required'"),
        ("Title:str", "lower-case snake_case"),
        ("title__x:str", "lower-case snake_case"),
        ("class:str", "Python keyword"),
        ("owner_id:uuid", "'owner_id' is taken"),
        ("version:int", "'version' is taken"),
        ("limit:int", "'limit' is taken"),
        ("total:int", "'total' is taken"),
        ("now:datetime", "'now' is taken"),
        ("post:ref=Posts", "ref=NAME names a resource by its singular"),
    ],
)
def test_the_grammar_refuses_saying_why(spec, says):
    with pytest.raises(Refused) as refusal:
        parse_field(spec)
    assert says in str(refusal.value)
    assert "\n" not in str(refusal.value)


def test_a_field_given_twice_is_refused():
    with pytest.raises(Refused, match="'post_id' is given twice"):
        parse_fields(["post:ref", "post_id:uuid"])


@pytest.mark.parametrize(
    ("plural", "singular"),
    [("tags", "tag"), ("categories", "category"), ("boxes", "box"), ("classes", "class"), ("todo_lists", "todo_list")],
)
def test_the_singular_of_a_regular_plural(plural, singular):
    assert singular_of(plural) == singular


@pytest.mark.parametrize("word", ["status", "analysis", "people", "tag"])
def test_no_singular_is_guessed_for_what_is_not_a_regular_plural(word):
    assert singular_of(word) is None


def test_the_names_of_a_resource():
    names = Names.of("todo_lists")
    assert (names.singular, names.entity, names.entities) == ("todo_list", "TodoList", "TodoLists")
    assert (names.id, names.url, names.table, names.kind) == (
        "todo_list_id",
        "/v1/todo-lists",
        "todo_list",
        "todo list",
    )
    assert Names.of("people", "person").entity == "Person"
    assert Names.of("orders").table == "orders", "order is reserved in SQL: the table takes the plural"


@pytest.mark.parametrize(
    ("plural", "singular", "says"),
    [
        ("Tags", None, "lower-case snake_case"),
        ("tag-s", None, "lower-case snake_case"),
        ("people", None, "not a regular plural"),
        ("news", "news", "must differ from its singular"),
        ("classes", None, "Python keyword"),
        ("uuids", None, "would shadow"),
        ("people", "Person", "--singular 'Person'"),
    ],
)
def test_a_bad_name_is_refused_saying_why(plural, singular, says):
    with pytest.raises(Refused) as refusal:
        Names.of(plural, singular)
    assert says in str(refusal.value)


SOURCE = """\
from a import b
import c

BINDINGS = {
    A: 1,
    # anchor: above this line
}
"""


def test_lines_go_above_their_anchor_at_its_indentation():
    edited = insert_above(SOURCE, "anchor: above", ["B: 2,", "C: 3,"], path="x.py")
    assert edited == SOURCE.replace("    # anchor", "    B: 2,\n    C: 3,\n    # anchor")


@pytest.mark.parametrize("source", [SOURCE.replace("anchor", "gone"), SOURCE + "# anchor: above this line\n"])
def test_a_missing_or_doubled_anchor_is_refused(source):
    with pytest.raises(Refused, match=r"x\.py: .* holds the anchor"):
        insert_above(source, "anchor: above", ["B: 2,"], path="x.py")


def test_imports_go_after_the_last_import():
    edited = add_imports(SOURCE, ["from d import e"], path="x.py")
    assert edited.splitlines()[:3] == ["from a import b", "import c", "from d import e"]
    ast.parse(edited)


def test_a_statement_is_wrapped_before_its_clauses_and_reads_the_same():
    statement = (
        'SELECT "id", "owner_id", "title", "created_at", "updated_at", "version" FROM "todo" WHERE "id" = $1 FOR UPDATE'
    )
    wrapped = sql(statement)
    lines = wrapped.splitlines()
    assert lines[1].lstrip().startswith("'WHERE")
    assert all(len(line) <= WIDTH + 8 for line in lines)
    assert "".join(ast.literal_eval(line.strip()) for line in lines) == statement


def test_the_resources_a_new_one_may_reference():
    resources = existing_resources(REPO_ROOT)
    makers = {singular for singular, r in resources.items() if r.makers}
    assert "user" in makers
    # region: blog
    assert {"post", "comment"} <= makers
    post = resources["post"]
    assert (post.plural, post.table, post.table_class, post.fakes) == ("posts", "post", "PostTable", False)
    # endregion
    assert resources["user"].table == "users"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["Tags", "name:str"], "NAME 'Tags' must be lower-case snake_case"),
        (["users", "title:str"], "NAME 'users' would shadow a name the generated code uses"),
        (["tags"], "give the resource's fields"),
        (["tags", "name:string"], "unknown type 'string'"),
        (["tags", "name:str", "topic:ref"], "no resource 'topic' to reference"),
        (["tags", "user:ref"], "at least one field that is not a ref"),
        (["tags", "name:str", "--colour", "red"], "unrecognized arguments: --colour red"),
    ],
)
def test_the_command_refuses_in_one_line_and_writes_nothing(capsys, tmp_path, argv, says):
    """Against what the command reads of users, the resource every service starts with (its table
    and test examples), in a directory of its own: a resource generated here since (tags) changes nothing."""
    for folder in ("adapters/db", "tests/examples"):
        (tmp_path / folder).mkdir(parents=True)
        shutil.copy(REPO_ROOT / folder / "users.py", tmp_path / folder / "users.py")
    before = sorted(tmp_path.rglob("*"))

    assert new_resource.main(argv, root=tmp_path) == 2

    refusal = capsys.readouterr().err
    assert refusal.startswith("new-resource: ")
    assert says in refusal
    assert refusal.count("\n") == 1
    assert sorted(tmp_path.rglob("*")) == before


# region: openfga
# The permission model's edits (scaffold/authz_model.py), where the service has one.
MODEL = """model
  schema 1.1

# a comment
type user

type post
  relations
    define owner: [user]
"""
MODEL_TESTS = """name: permissions
model_file: ./model.fga
tuples:
  - user: user:anne
    relation: owner
    object: post:1
tests:
  - name: the owner owns
    check:
      - user: user:anne
        object: post:1
        assertions:
          owner: true
"""


def test_the_type_goes_at_the_end_of_the_model_with_an_owner_who_alone_changes_it():
    edited = authz_model.add_type(MODEL, Names.of("todo_lists"))
    assert edited.startswith(MODEL)
    assert edited.endswith(
        "type todo_list\n  relations\n    define owner: [user]\n    define can_update: owner\n"
        "    define can_delete: owner\n"
    )


@pytest.mark.parametrize(
    ("model", "says"),
    [
        (MODEL.replace("schema 1.1", "schema 1.2"), "does not begin with `model` and `schema 1.1`"),
        (MODEL + "condition recent(x: int) {\n  x < 5\n}\n", "line 10 is neither a type nor inside one"),
        (MODEL + "type todo_list\n", "a type 'todo_list' exists already"),
    ],
)
def test_a_model_of_another_shape_or_with_the_type_is_refused(model, says):
    with pytest.raises(Refused, match=r"adapters/authz/model\.fga: ") as refusal:
        authz_model.add_type(model, Names.of("todo_lists"))
    assert says in str(refusal.value)


def test_the_assertions_are_one_more_test_at_the_end_of_the_test_file():
    edited = authz_model.add_assertions(MODEL_TESTS, Names.of("todo_lists"))
    assert edited.startswith(MODEL_TESTS)
    before, after = yaml.safe_load(MODEL_TESTS), yaml.safe_load(edited)
    assert after == before | {"tests": [*before["tests"], after["tests"][-1]]}
    test = after["tests"][-1]
    owner, other = (check["assertions"] for check in test["check"])
    assert test["tuples"] == [{"user": "user:owner", "relation": "owner", "object": "todo_list:1"}]
    assert owner == {"owner": True, "can_update": True, "can_delete": True}
    assert other == {"owner": False, "can_update": False, "can_delete": False}
    assert [objects["assertions"]["can_delete"] for objects in test["list_objects"]] == [["todo_list:1"], []]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (MODEL_TESTS + "more: 1\n", "its last key is not `tests`, a list"),
        ("tests: {a: 1}\n", "its last key is not `tests`, a list"),
        ("tests: [\n", "not valid YAML"),
        ("name: x\ntests: [{name: a}]\n", "does not read back as one"),  # flow style: a block item does not fit
    ],
)
def test_a_test_file_of_another_shape_is_refused(text, says):
    with pytest.raises(Refused, match=r"adapters/authz/model\.fga\.yaml: ") as refusal:
        authz_model.add_assertions(text, Names.of("todo_lists"))
    assert says in str(refusal.value)


def _rendered(root, argv):
    """Every template of a resource rendered as Copier renders it (its _envops), with what ``check``
    gives them for ``root``."""
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "."], cwd=root, check=True)
    data = new_resource.check(root, Names.of(argv[0]), argv[1:])
    options = yaml.safe_load((new_resource.TEMPLATE / "copier.yml").read_text())["_envops"]
    loader = jinja2.FileSystemLoader(new_resource.TEMPLATE)
    env = jinja2.Environment(  # noqa: S701 (Python source, not HTML: nothing to escape)
        loader=loader, undefined=jinja2.StrictUndefined, extensions=[Filters], **options
    )
    names = [name for name in env.list_templates(extensions=["jinja"]) if name.startswith("files/")]
    return {name: env.get_template(name).render(data) for name in names}


@pytest.mark.parametrize("openfga", [True, False])
def test_the_outbox_is_written_to_only_where_the_model_file_is(tmp_path, openfga):
    """A service made without OpenFGA has no model.fga: nothing of the resource names the outbox or
    a relationship (its edits of the model and the backfill are skipped with them, in ``stage``)."""
    for path in ["adapters/db/users.py", "adapters/db/posts.py", "tests/examples/posts.py", authz_model.MODEL]:
        if openfga or path != authz_model.MODEL:
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO_ROOT / path, tmp_path / path)

    rendered = _rendered(tmp_path, ["todo_lists", "title:str", "post:ref"])

    assert len(rendered) == 8
    mentions = {name for name, text in rendered.items() if "outbox" in text or "RelationChange" in text}
    expected = {
        "files/domain/use_cases/{{n.plural}}.py.jinja",
        "files/tests/unit/test_{{n.plural}}.py.jinja",
        "files/tests/integration/test_{{n.plural}}_db.py.jinja",
    }
    assert mentions == (expected if openfga else set())
    use_cases = rendered["files/domain/use_cases/{{n.plural}}.py.jinja"]
    assert ('uow.outbox.record([RelationChange.owner("write", todo_list.owner_id, "todo_list"' in use_cases) is openfga


def _permission_files(root):
    for path in (authz_model.MODEL, authz_model.MODEL_TESTS, new_resource.OUTBOX):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / path, root / path)


def test_the_type_its_test_and_its_owners_in_the_backfill_are_written_once(tmp_path):
    _permission_files(tmp_path)
    names = Names.of("scaffold_probes")

    edited = new_resource.add_permissions(tmp_path, names)

    assert edited == [authz_model.MODEL, authz_model.MODEL_TESTS, new_resource.OUTBOX]
    assert "\ntype scaffold_probe\n" in (tmp_path / authz_model.MODEL).read_text()
    tests = yaml.safe_load((tmp_path / authz_model.MODEL_TESTS).read_text())["tests"]
    assert tests[-1]["check"][0]["object"] == "scaffold_probe:1"
    outbox = ast.parse((tmp_path / new_resource.OUTBOX).read_text())
    backfill = next(n.value for n in outbox.body if isinstance(n, ast.AnnAssign) and "_BACKFILL" in ast.unparse(n))
    assert ast.literal_eval(backfill)["scaffold_probe"] == (
        "scaffold_probe",
        "'user:' || CAST(owner_id AS TEXT)",
        "owner",
        "'scaffold_probe:' || CAST(id AS TEXT)",
        "TRUE",
    )
    with pytest.raises(Refused, match="a type 'scaffold_probe' exists already"):
        new_resource.add_permissions(tmp_path, names)


def test_a_kind_the_backfill_has_already_is_refused(tmp_path):
    _permission_files(tmp_path)
    with pytest.raises(Refused, match=r"adapters/db/outbox\.py: the backfill has a kind 'comment_post' already"):
        new_resource.add_permissions(tmp_path, Names.of("comment_posts"))


# endregion
