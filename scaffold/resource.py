"""What the resource templates are given: the names, and each field as the templates use it — its
Python type, its column, its schema in requests, and the example values the generated tests use."""

from __future__ import annotations

import json
from typing import Any

from scaffold.errors import Refused
from scaffold.fields import Field
from scaffold.names import Names, camel
from scaffold.project import Existing

INT_BOUNDS = "ge=-(2**31), le=2**31 - 1"  # Piccolo's Integer: 32 bits on PostgreSQL


def _column(field: Field, target: Existing | None) -> str:
    if target is not None:
        options = [f"references={target.table_class}"]
        options.append(
            "on_delete=OnDelete.set_null, null=True" if field.optional else "on_delete=OnDelete.cascade, null=False"
        )
        options.append("unique=True" if field.unique else "index=True")  # deletes of the target look it up
        return f"ForeignKey({', '.join(options)})"
    column = {"str": "Varchar", "text": "Text", "int": "Integer", "bool": "Boolean", "datetime": "Timestamptz"}.get(
        field.type, "UUID"
    )
    options = [f"length={field.max_length}"] if field.type == "str" else []
    options += ["unique=True"] if field.unique else []
    options += ["null=True", "default=None"] if field.optional else []
    return f"{column}({', '.join(options)})"


def _schema(field: Field, entity: str) -> tuple[str | None, str | None]:
    """(alias, Annotated type) for a field whose request value has bounds msgspec checks; else Nones."""
    alias = f"{entity}{camel(field.name)}"
    if field.type == "str":
        meta = (
            f"min_length=1, max_length={field.name.upper()}_MAX_LENGTH, "
            f'description="1–{field.max_length:,} characters after trimming surrounding whitespace"'
        )
        return alias, f"Annotated[str, msgspec.Meta({meta})]"
    if field.type == "text":
        meta = 'min_length=1, max_length=CONTENT_MAX_LENGTH, description=f"1–{CONTENT_MAX_LENGTH:,} characters after trimming surrounding whitespace"'
        return alias, f"Annotated[str, msgspec.Meta({meta})]"
    if field.type == "int":
        return alias, f'Annotated[int, msgspec.Meta({INT_BOUNDS}, description="a 32-bit integer")]'
    if field.type == "datetime":
        meta = 'tz=True, description="an instant with its UTC offset, e.g. 2026-05-01T12:00:00Z"'
        return alias, f"Annotated[datetime, msgspec.Meta({meta})]"
    return None, None


def _fit(text: str, max_length: int | None, filler: str) -> str:
    return text if max_length is None or len(text) <= max_length else filler * min(max_length, 3)


def _examples(field: Field) -> dict[str, Any]:
    """Python expressions: ``example_*`` for the makers (``number`` counts up, so unique values differ),
    ``other_*`` a second valid value for updates; ``*_py`` for use cases, ``*_json`` for request bodies."""
    words = field.name.replace("_", " ")
    if field.type in {"str", "text"}:
        limit = field.max_length or 0
        if limit >= len(words) + 6:
            example = f'f"{words} {{number}}"'
        elif limit >= 4:
            example = "str(number)"
        else:
            example = f"str(number % {10**limit})" if field.unique else '"x"'
        other = json.dumps(_fit(f"{words} changed", field.max_length, "y"))
        return {"example_py": example, "example_json": example, "other_py": other, "other_json": other}
    if field.type == "int":
        return {"example_py": "number", "example_json": "number", "other_py": "-1", "other_json": "-1"}
    if field.type == "bool":
        return {"example_py": "True", "example_json": "True", "other_py": "False", "other_json": "False"}
    if field.type == "datetime":
        example = "datetime(2026, 5, 1, tzinfo=UTC) + timedelta(minutes=number)"
        return {
            "example_py": example,
            "example_json": f"({example}).isoformat()",
            "other_py": "datetime(2027, 1, 1, tzinfo=UTC)",
            "other_json": '"2027-01-01T00:00:00Z"',
        }
    if field.type == "uuid":
        return {
            "example_py": "uuid.uuid4()",
            "example_json": "str(uuid.uuid4())",
            "other_py": "uuid.UUID(int=1)",
            "other_json": '"00000000-0000-0000-0000-000000000001"',
        }
    return {}


def _bad_values(field: Field) -> tuple[list[str], list[str]]:
    """(values the entity's rules refuse, as Python; values a request is refused for, as JSON in Python)."""
    over = f'"x" * {(field.max_length or 0) + 1}'
    domain: list[str] = []
    request: list[str] = []
    if field.type in {"str", "text"}:
        domain = ['""', '"   "', over, '"a\\x00b"']
        request = ['"   "', over, "5"]
    elif field.type == "int":
        request = ['"seven"', "2**31", "1.5"]
    elif field.type == "bool":
        request = ['"yes"']
    elif field.type == "datetime":
        domain = ["datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))"]
        request = ['"2026-05-01T12:00:00"', '"soon"']
    else:
        request = ['"not-a-uuid"']
    if not field.optional:
        request.append("None")
    return domain, request


def field_view(field: Field, names: Names, target: Existing | None) -> dict[str, Any]:
    alias, schema = _schema(field, names.entity)
    view: dict[str, Any] = {
        "name": field.name,
        "type": field.type,
        "optional": field.optional,
        "unique": field.unique,
        "max_length": field.max_length,
        "mutable": field.mutable,
        "label": field.label,
        "python_type": field.python_type,
        "base_type": field.python_type.removesuffix(" | None"),
        "const": f"{field.name.upper()}_MAX_LENGTH" if field.type == "str" else None,
        "column": _column(field, target),
        "alias": alias,
        "schema_type": schema,
        "in_type": alias or field.python_type.removesuffix(" | None"),
        **_examples(field),
    }
    if target is not None:
        view["target"] = {
            "plural": target.plural,
            "singular": target.singular,
            "entity": target.entity,
            "kind": target.kind,
            "table": target.table,
            "table_class": target.table_class,
        }
        view["filter_description"] = f"of this {target.kind}"
    elif field.type == "bool":
        view["filter_description"] = f"whose {field.label} is this"
    return view


def template_data(names: Names, fields: list[Field], existing: dict[str, Existing]) -> dict[str, Any]:
    """Everything the templates under templates/resource/ read. ``Refused`` for an unknown reference."""
    targets: dict[str, Existing] = {}
    for field in fields:
        if field.target is None:
            continue
        target = existing.get(field.target)
        if target is None:
            known = ", ".join(sorted(singular for singular, e in existing.items() if e.makers))
            raise Refused(f"field {field.name}: no resource {field.target!r} to reference (there are: {known})")
        if not target.makers:
            raise Refused(
                f"field {field.name}: {target.plural} has no tests/examples/{target.plural}.py making one "
                "(new_ and create_), which the tests need: see tests/examples/posts.py"
            )
        targets[field.target] = target
    views = [field_view(f, names, targets.get(f.target or "")) for f in fields]
    mutable = [v for v in views if v["mutable"]]
    if not mutable:
        raise Refused("give at least one field that is not a ref: an update needs something it can change")
    refs = [v for v in views if v["type"] == "ref"]
    filters = [v for v in views if v["type"] in {"ref", "bool"}]
    uniques = [v for v in views if v["unique"]]
    distinct = list(targets.values())
    strings = [v for v in views if v["type"] in {"str", "text"}]
    padded = None
    if strings:
        first = strings[0]
        padded = {"name": first["name"], "clean_value": _fit(first["label"], first["max_length"], "p")}
    bad_domain: list[tuple[str, str]] = []
    bad_json: list[tuple[str, str]] = []
    for field, view in zip(fields, views, strict=True):
        domain, request = _bad_values(field)
        bad_domain += [(view["name"], value) for value in domain]
        bad_json += [(view["name"], value) for value in request]
    required = next((v["name"] for v in views if not v["optional"]), None)
    return {
        "n": {
            "plural": names.plural,
            "singular": names.singular,
            "entity": names.entity,
            "entities": names.entities,
            "kind": names.kind,
            "kinds": names.kinds,
            "Kinds": names.kinds[:1].upper() + names.kinds[1:],
            "id": names.id,
            "url": names.url,
            "table": names.table,
            "tag": names.kinds,
        },
        "fields": views,
        "refs": refs,
        "mutable": mutable,
        "filters": filters,
        "uniques": uniques,
        "optionals": [v for v in views if v["optional"]],
        "query": f"{names.entity}Query" if filters else "ListQuery",
        "unique_labels": " or ".join(v["label"] for v in uniques),
        "uses_clean_content": bool(strings),
        "uses_clean_instant": any(v["type"] == "datetime" for v in views),
        "ref_targets": [t.__dict__ | {"kind": t.kind} for t in distinct if t.singular != "user"],
        "ref_tables": [t.__dict__ for t in distinct if t.singular != "user"],
        "ref_makers": [t.__dict__ | {"has_fakes": t.fakes} for t in distinct],
        "fake_targets": [t.__dict__ for t in distinct if t.fakes],
        "numbered": any("number" in v.get("example_py", "") for v in views),
        "padded": padded,
        "bad_domain": bad_domain,
        "bad_json": bad_json,
        "changed": mutable[0],
        "required_field": required,
        "out_fields": ["id", "owner_id", *(v["name"] for v in views), "created_at", "updated_at", "version"],
    }
