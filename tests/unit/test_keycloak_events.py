"""The webhook's adapter: the signature first, then Phase Two's admin-event format."""

from __future__ import annotations

import json
import uuid

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.auth.keycloak_events import KeycloakEvents, parse_admin_event
from domain.errors import BadSignature, DependencyUnavailable, InvalidInput
from domain.model import user_id_from_subject
from domain.sharing import GroupEvent, MembershipEvent
from domain.users import IdentityEvent, UserEvent
from tests.support.keycloak_events import SECRET, admin_event, encode, group_event, sign

USER = uuid.UUID("5b3f2c1e-0d4a-4b8e-9f1a-2c3d4e5f6a7b")
GROUP = uuid.UUID("0e6c1d2a-7b3f-4c5d-8e9f-a1b2c3d4e5f6")
source = KeycloakEvents(SECRET)


def read(event: dict | bytes) -> IdentityEvent | None:
    body = event if isinstance(event, bytes) else encode(event)
    return source.read(body, sign(body))


# -- signature -----------------------------------------------------------------------------
def test_no_secret_configured_is_unavailable():
    body = encode(admin_event("CREATE", USER, 1))
    with pytest.raises(DependencyUnavailable, match="KEYCLOAK_WEBHOOK_SECRET"):
        KeycloakEvents(None).read(body, sign(body))
    with pytest.raises(DependencyUnavailable):
        KeycloakEvents("").read(body, sign(body))


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("deadbeef", "bad"),
        (sign(b"another body"), "bad"),
        (sign(encode(admin_event("CREATE", USER, 1)), secret="another secret"), "bad"),
        ("ünïcode", "bad"),
    ],
)
def test_a_missing_or_wrong_signature_is_refused_before_parsing(signature, reason):
    body = encode(admin_event("CREATE", USER, 1))
    with pytest.raises(BadSignature, match=reason):
        source.read(body, signature)
    with pytest.raises(BadSignature):  # garbage is not parsed (which would say 400) without a signature
        source.read(b"{not json", signature)


def test_the_signature_may_be_upper_case_hex():
    body = encode(admin_event("CREATE", USER, 1))
    assert source.read(body, sign(body).upper()) is not None


def test_configure_swaps_the_secret():
    changing = KeycloakEvents("old")
    body = encode(admin_event("CREATE", USER, 1))
    changing.configure("new")
    assert changing.read(body, sign(body, "new")) is not None
    with pytest.raises(BadSignature):
        changing.read(body, sign(body, "old"))


# -- format --------------------------------------------------------------------------------
@pytest.mark.parametrize("phase_two", [False, True], ids=["contract shape", "phase two shape"])
def test_user_create(phase_two):
    event = read(admin_event("CREATE", USER, 1700000000123, phase_two=phase_two))
    assert event == UserEvent(
        user_id=USER,
        time_ms=1700000000123,
        username="alice",
        full_name="Alice Anderson",
        email="alice@example.com",
        enabled=True,
    )


def test_user_update_disabling_and_without_names():
    event = read(admin_event("UPDATE", USER, 5, first_name=None, last_name=None, email=None, enabled=False))
    assert event is not None
    assert (event.full_name, event.email, event.enabled) == (msgspec.UNSET, msgspec.UNSET, False)


def test_blank_names_and_email_clear_them():
    event = read(admin_event("UPDATE", USER, 5, first_name=" ", last_name="", email=""))
    assert event is not None
    assert (event.full_name, event.email) == (None, None)


@pytest.mark.parametrize("phase_two", [False, True])
def test_user_delete_from_the_resource_path(phase_two):
    assert read(admin_event("DELETE", USER, 9, phase_two=phase_two)) == UserEvent(user_id=USER, time_ms=9, deleted=True)


def test_the_id_is_the_same_user_id_a_token_subject_gives():
    federated = "f:ldap:jdoe"
    event = read(admin_event("UPDATE", federated, 1, phase_two=True))
    assert event is not None
    assert event.user_id == user_id_from_subject(federated)


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(admin_event("CREATE", USER, 1, resource_type="CLIENT"), id="another resource"),
        pytest.param(
            admin_event("CREATE", USER, 1, resource_type="REALM_ROLE_MAPPING", phase_two=True), id="phase two"
        ),
        pytest.param(group_event("UPDATE", GROUP, 1, user_id=USER), id="membership UPDATE"),
        pytest.param(admin_event("ACTION", USER, 1), id="ACTION operation"),
        pytest.param(admin_event("ACTION", USER, 1, phase_two=True), id="phase two ACTION"),
        pytest.param({"type": "access.LOGIN", "realmId": "demo", "time": 1, "details": {}}, id="login event"),
    ],
)
def test_events_about_something_else_are_ignored(event):
    assert read(event) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        (b'"a string"', "body"),
        (encode({"time": 1}), "resourceType"),
        (encode({"type": "something", "time": 1}), "resourceType"),
        (encode({**admin_event("CREATE", USER, 1), "time": "yesterday"}), "time"),
        (encode({**admin_event("CREATE", USER, 1), "time": -1}), "time"),
        (encode({k: v for k, v in admin_event("CREATE", USER, 1).items() if k != "time"}), "time"),
        (encode({**admin_event("CREATE", USER, 1), "operationType": None}), "operationType"),
        (encode({**admin_event("CREATE", USER, 1), "representation": "{oops"}), "representation"),
        (encode({**admin_event("CREATE", USER, 1), "representation": None}), "representation"),
        (encode({**admin_event("CREATE", USER, 1), "representation": json.dumps({"enabled": "yes"})}), "enabled"),
        (encode({**admin_event("CREATE", USER, 1), "representation": json.dumps([1])}), "representation"),
        (encode({**admin_event("CREATE", USER, 1), "resourcePath": "clients/x"}), "resourcePath"),
        (encode({**admin_event("CREATE", USER, 1), "resourcePath": f"users/{uuid.uuid4()}"}), "representation.id"),
        (encode({**admin_event("DELETE", USER, 1), "resourcePath": None}), "resourcePath"),
        (encode(admin_event("CREATE", USER, 1, username="")), "username"),
        (encode(admin_event("CREATE", USER, 1, username="x" * 256)), "username"),
        (encode(admin_event("CREATE", USER, 1, first_name="x" * 200, last_name="y" * 200)), "full_name"),
        (encode(admin_event("CREATE", USER, 1, email="x" * 321)), "email"),
    ],
)
def test_malformed_bodies_are_invalid_input_naming_the_field(body, field):
    with pytest.raises(InvalidInput) as raised:
        read(body)
    assert raised.value.field.endswith(field), raised.value.detail


# -- properties ----------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=6,
)
field_values = st.one_of(
    json_values,
    st.sampled_from(["USER", "CLIENT", "CREATE", "UPDATE", "DELETE", "ACTION", "admin.USER-CREATE", "access.LOGIN"]),
    st.sampled_from([f"users/{USER}", "users/", "users//x", "realms/demo"]),
    st.integers(min_value=-5, max_value=2**70),
    st.dictionaries(
        st.sampled_from(["id", "username", "firstName", "lastName", "email", "enabled"]), json_values, max_size=6
    ).map(json.dumps),
)
event_like = st.dictionaries(
    st.sampled_from(
        ["type", "resourceType", "operationType", "representation", "resourcePath", "time", "realmName", "details"]
    ),
    field_values,
    max_size=6,
)


def _outcome(body: bytes) -> UserEvent | InvalidInput | None:
    """The event, None (ignored: 204) or the InvalidInput (400); any other exception fails the test."""
    try:
        return read(body)
    except InvalidInput as exc:
        return exc


def _check_outcome(body: bytes) -> None:
    outcome = _outcome(body)
    if isinstance(outcome, InvalidInput):
        assert outcome.field
        assert outcome.detail


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_signed_bytes_are_parsed_or_refused_as_invalid_input(body):
    _check_outcome(body)


@settings(max_examples=150, deadline=None)
@given(event_like)
def test_any_event_shaped_object_is_parsed_or_refused_as_invalid_input(fields):
    _check_outcome(encode(fields))


@settings(max_examples=50, deadline=None)
@given(event_like, st.text(max_size=70))
def test_without_the_right_signature_nothing_is_parsed(fields, signature):
    body = encode(fields)
    if signature.strip().lower() == sign(body):
        return
    with pytest.raises(BadSignature):
        source.read(body, signature)


@pytest.mark.parametrize("as_string", [False, True], ids=["object", "json-string"])
def test_a_signed_body_nested_too_deeply_is_invalid_input_not_a_crash(as_string):
    deep = '{"a":' * 60_000 + "1" + "}" * 60_000
    representation = deep if as_string else msgspec.Raw(deep.encode())
    event = {"resourceType": "USER", "operationType": "UPDATE", "time": 1, "resourcePath": f"users/{USER}"}
    body = msgspec.json.encode({**event, "representation": representation})
    with pytest.raises(InvalidInput, match="nested too deeply"):
        read(body)


def test_parse_admin_event_is_the_unsigned_core():
    assert parse_admin_event(encode(admin_event("DELETE", USER, 3))) == UserEvent(user_id=USER, time_ms=3, deleted=True)


@settings(max_examples=100, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "username": st.text(max_size=260),
            "first_name": st.none() | st.text(max_size=140),
            "last_name": st.none() | st.text(max_size=140),
            "email": st.none() | st.text(max_size=330),
            "enabled": st.booleans(),
            "phase_two": st.booleans(),
        }
    ),
    st.integers(min_value=0, max_value=2**63 - 1),
)
def test_any_user_representation_round_trips_or_is_refused(fields, time_ms):
    username, email, enabled = fields["username"], fields["email"], fields["enabled"]
    body = encode(admin_event("UPDATE", USER, time_ms, **fields))
    event = _outcome(body)
    if isinstance(event, InvalidInput):
        assert event.field in {"username", "full_name", "email"}
        return
    assert event is not None
    assert (event.user_id, event.time_ms, event.username, event.enabled) == (USER, time_ms, username, enabled)
    assert event.email == (msgspec.UNSET if email is None else email or None)  # absent: unchanged; "": cleared


# region: blog
# -- groups and memberships ------------------------------------------------------------------
@pytest.mark.parametrize("phase_two", [False, True], ids=["contract shape", "phase two"])
@pytest.mark.parametrize(("operation", "joined"), [("CREATE", True), ("DELETE", False)])
def test_a_membership_event_names_the_user_and_the_group(operation, joined, phase_two):
    event = read(
        group_event(operation, GROUP, 7, user_id=USER, name="Editors", path="/staff/Editors", phase_two=phase_two)
    )
    assert event == MembershipEvent(
        user_id=USER, group=GroupEvent(group_id=GROUP, time_ms=7, name="Editors", path="/staff/Editors"), joined=joined
    )


@pytest.mark.parametrize("phase_two", [False, True], ids=["contract shape", "phase two"])
def test_group_events(phase_two):
    assert read(group_event("CREATE", GROUP, 3, name="staff", phase_two=phase_two)) == GroupEvent(
        group_id=GROUP, time_ms=3, name="staff", path="/staff"
    )
    assert read(group_event("DELETE", GROUP, 4, phase_two=phase_two)) == GroupEvent(
        group_id=GROUP, time_ms=4, deleted=True
    )


def test_a_child_group_is_named_by_its_representation():
    event = group_event("CREATE", GROUP, 3, name="child", path="/staff/child")
    event["resourcePath"] = f"groups/{uuid.uuid4()}/children"
    assert read(event) == GroupEvent(group_id=GROUP, time_ms=3, name="child", path="/staff/child")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"resourcePath": f"users/{USER}"}, "resourcePath"),
        ({"resourcePath": f"users/{USER}/groups/{uuid.uuid4()}"}, "representation.id"),
        ({"representation": None}, "representation"),
        (
            {"representation": json.dumps({"id": "not-a-uuid"}), "resourcePath": f"users/{USER}/groups/not-a-uuid"},
            "representation.id",
        ),
        ({"time": None}, "time"),
        ({"representation": json.dumps({"id": str(GROUP), "name": "x" * 256})}, "representation.name"),
    ],
)
def test_a_malformed_membership_event_is_bad_input(change, field):
    event = {k: v for k, v in {**group_event("CREATE", GROUP, 1, user_id=USER), **change}.items() if v is not None}
    with pytest.raises(InvalidInput) as caught:
        read(event)
    assert caught.value.field == field


# endregion
