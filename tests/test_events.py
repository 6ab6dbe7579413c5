"""The event vocabulary: each change made once through the API and once through a CSV import
records the same events; and rules/events.py's payloads, without a database."""

import uuid
from typing import Any

import httpx
from strawberry import relay

from rules import events as vocabulary
from rules.ids import encode_id
from tests.conftest import Api, create_user
from tests.test_imports import finished
from tests.test_users import GOOD_PASSWORD, platform_ids

OTHER_PASSWORD = "amber kettle harbour drift"

AUDIT = """
query($id: ID) { auditEvents(first: 100, userId: $id) {
  edges { node { action actor targetType targetId data } } } }
"""
UPDATE = """
mutation($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { userErrors { code message } } }
"""
SET_PASSWORD = """
mutation($id: ID!, $password: String!) {
  setPassword(id: $id, password: $password) { userErrors { code message } } }
"""
ENABLE = "mutation($ids: [ID!]!) { enableUsers(ids: $ids) { userErrors { code message } } }"
DISABLE = "mutation($ids: [ID!]!) { disableUsers(ids: $ids) { userErrors { code message } } }"
DELETE = "mutation($ids: [ID!]!) { deleteUsers(ids: $ids) { userErrors { code message } } }"
USER_ID = "query($email: String!) { user(email: $email) { id } }"


async def history(api: Api, user_id: str | None = None) -> list[dict[str, Any]]:
    """The events of a user (of everything without one), oldest first."""
    data = await api.data(AUDIT, id=user_id)
    return [e["node"] for e in reversed(data["auditEvents"]["edges"])]


async def mutate(api: Api, query: str, **variables: Any) -> None:
    data = await api.data(query, **variables)
    (payload,) = data.values()
    assert payload["userErrors"] == [], payload


class Twins:
    """One user changed through the API, its twin through CSV imports: after each change,
    both have the same events, apart from the actor and `job` (present in every event an import
    made, and only there)."""

    def __init__(
        self, client: httpx.AsyncClient, admin: Api, db_url: str, api_id: str, csv_email: str
    ) -> None:
        self.client, self.admin, self.db_url = client, admin, db_url
        self.api_id = api_id
        self.csv_email = csv_email
        self.csv_id = ""  # known once an import has created the twin
        self.seen = 0

    async def imported(self, body: str, **params: str) -> None:
        job = await finished(self.client, self.admin, self.db_url, body.encode(), **params)
        assert job["failed"] == 0, job
        if not self.csv_id:
            self.csv_id = (await self.admin.data(USER_ID, email=self.csv_email))["user"]["id"]
        events = await history(self.admin, self.csv_id)
        new, self.seen = events[self.seen :], len(events)
        assert new and all(e["data"]["job"] == job["id"] for e in new), new

    async def same_events(self) -> list[dict[str, Any]]:
        """Both twins' events, compared; the API twin's returned."""
        by_api = await history(self.admin, self.api_id)
        by_csv = await history(self.admin, self.csv_id)
        assert all("job" not in e["data"] for e in by_api), by_api
        assert [_shape(e) for e in by_csv] == [_shape(e) for e in by_api]
        return by_api


def _shape(event: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    data = {k: v for k, v in event["data"].items() if k != "job"}
    return event["action"], event["targetType"], data


async def test_each_change_records_the_same_events_through_the_api_and_an_import(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    ids = await platform_ids(admin)

    # Created with a password, roles and a welcome e-mail.
    ana = await create_user(
        admin,
        "ana",
        firstName="Ana",
        lastName="Gil",
        language="es",
        password=GOOD_PASSWORD,
        roles=[
            {"platform": "lcloud", "role": "teacher"},
            {"platform": "contentcloud", "role": "author"},
        ],
        sendWelcomeEmail=True,
    )
    twins = Twins(client, admin, db_url, ana["id"], "bea@example.com")
    await twins.imported(
        "username,email,first_name,last_name,language,password,roles,welcome_email\n"
        f"bea,bea@example.com,Bea,Gil,es,{GOOD_PASSWORD},"
        "learningcloud:teacher|contentcloud:author,yes\n"
    )
    events = await twins.same_events()
    assert [_shape(e) for e in events] == [
        (
            "user.created",
            "User",
            {
                "fields": ["email", "firstName", "language", "lastName", "username"],
                "roles": sorted(
                    [
                        {"platform": ids["learningcloud"], "role": "teacher"},
                        {"platform": ids["contentcloud"], "role": "author"},
                    ],
                    key=lambda r: (r["platform"], r["role"]),
                ),
                "passwordSet": True,
            },
        ),
        ("user.welcome_email_requested", "User", {}),
    ]

    # Profile fields.
    await mutate(admin, UPDATE, id=ana["id"], input={"lastName": "López", "location": "Madrid"})
    await twins.imported("email,last_name,location\nbea@example.com,López,Madrid\n", mode="UPDATE")
    events = await twins.same_events()
    assert _shape(events[-1]) == ("user.updated", "User", {"changed": ["lastName", "location"]})

    # Roles: one added, one removed, one kept.
    roles = [
        {"platform": "learningcloud", "role": "student"},
        {"platform": "contentcloud", "role": "author"},
    ]
    await mutate(admin, UPDATE, id=ana["id"], input={"roles": roles})
    await twins.imported(
        "email,roles\nbea@example.com,learningcloud:student|contentcloud:author\n",
        rolesMode="REPLACE",
    )
    events = await twins.same_events()
    assert _shape(events[-1]) == (
        "user.roles_changed",
        "User",
        {
            "added": [{"platform": ids["learningcloud"], "role": "student"}],
            "removed": [{"platform": ids["learningcloud"], "role": "teacher"}],
        },
    )

    # Password: user.password_set, not a user.updated.
    await mutate(admin, SET_PASSWORD, id=ana["id"], password=OTHER_PASSWORD)
    await twins.imported(f"email,password\nbea@example.com,{OTHER_PASSWORD}\n")
    events = await twins.same_events()
    assert _shape(events[-1]) == ("user.password_set", "User", {})

    # Status: user.disabled and user.enabled, not a user.updated.
    await mutate(admin, DISABLE, ids=[ana["id"]])
    await twins.imported("email,status\nbea@example.com,DISABLED\n")
    await mutate(admin, ENABLE, ids=[ana["id"]])
    await twins.imported("email,status\nbea@example.com,ACTIVE\n")
    events = await twins.same_events()
    assert [e["action"] for e in events[-2:]] == ["user.disabled", "user.enabled"]

    # Deleted (once disabled): the platforms it had roles on, and nothing else.
    await mutate(admin, DISABLE, ids=[ana["id"]])
    await mutate(admin, DELETE, ids=[ana["id"]])
    await twins.imported("email,status\nbea@example.com,DISABLED\n")
    await twins.imported("operation,email\nD,bea@example.com\n")
    events = await twins.same_events()
    assert _shape(events[-1]) == (
        "user.deleted",
        "User",
        {"platforms": sorted([ids["learningcloud"], ids["contentcloud"]])},
    )
    assert [e["action"] for e in events] == [
        "user.created",
        "user.welcome_email_requested",
        "user.updated",
        "user.roles_changed",
        "user.password_set",
        "user.disabled",
        "user.enabled",
        "user.disabled",
        "user.deleted",
    ]
    assert {e["targetId"] for e in events} == {ana["id"]}


async def test_a_user_created_without_password_or_roles(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    cid = await create_user(admin, "cid", firstName="Cid", lastName="Ros")
    twins = Twins(client, admin, db_url, cid["id"], "dan@example.com")
    await twins.imported("username,email,first_name,last_name\ndan,dan@example.com,Dan,Ros\n")
    events = await twins.same_events()
    assert [_shape(e) for e in events] == [
        (
            "user.created",
            "User",
            {
                "fields": ["email", "firstName", "lastName", "username"],
                "roles": [],
                "passwordSet": False,
            },
        )
    ]


async def test_one_import_row_records_what_the_api_records_for_each_of_its_changes(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    # Created disabled, with a welcome e-mail: as createUser, then disableUsers.
    ana = await create_user(admin, "ana", sendWelcomeEmail=True)
    await mutate(admin, DISABLE, ids=[ana["id"]])
    twins = Twins(client, admin, db_url, ana["id"], "bea@example.com")
    await twins.imported(
        "username,email,first_name,last_name,status\nbea,bea@example.com,Bea,Tester,DISABLED\n",
        sendWelcomeEmail="true",
    )
    await twins.same_events()

    # Fields, roles, password and status at once: as updateUser, setPassword, enableUsers.
    await mutate(
        admin,
        UPDATE,
        id=ana["id"],
        input={"location": "Sevilla", "roles": [{"platform": "contentcloud", "role": "author"}]},
    )
    await mutate(admin, SET_PASSWORD, id=ana["id"], password=GOOD_PASSWORD)
    await mutate(admin, ENABLE, ids=[ana["id"]])
    await twins.imported(
        "email,location,roles,password,status\n"
        f"bea@example.com,Sevilla,contentcloud:author,{GOOD_PASSWORD},ACTIVE\n"
    )
    events = await twins.same_events()
    assert [e["action"] for e in events] == [
        "user.created",
        "user.welcome_email_requested",
        "user.disabled",
        "user.updated",
        "user.roles_changed",
        "user.password_set",
        "user.enabled",
    ]
    assert events[3]["data"] == {"changed": ["location"]}


async def test_import_started_names_the_options_as_the_api_does(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    job = await finished(
        client, admin, db_url, b"email\nana@example.com\n", matchBy="EMAIL", rolesMode="REPLACE"
    )
    [started] = [e for e in await history(admin) if e["action"] == "import.started"]
    assert (started["targetType"], started["targetId"]) == ("ImportJob", job["id"])
    assert started["data"] == {
        "dryRun": False,
        "options": {
            "mode": "UPSERT",
            "matchBy": "EMAIL",
            "rolesMode": "REPLACE",
            "sendWelcomeEmail": False,
            "encoding": None,
            "delimiter": None,
            "extraColumnsAsAttributes": False,
        },
    }


# --- rules/events.py, without a database ------------------------------------------------------

LC = uuid.uuid4()
CC = uuid.uuid4()


def test_global_ids_are_those_the_api_gives() -> None:
    row_id = uuid.uuid4()
    assert encode_id("Platform", row_id) == str(relay.GlobalID("Platform", str(row_id)))
    assert relay.GlobalID.from_id(encode_id("User", row_id)).node_id == str(row_id)


def test_user_created_names_the_profile_fields_given_a_value() -> None:
    event = vocabulary.user_created(
        {
            "username": "ana",
            "email": "ana@example.com",
            "first_name": "Ana",
            "last_name": "",
            "time_zone": "Europe/Madrid",
            "location": None,
            "attributes": {},
            "status": "ACTIVE",
            "password": "secret words",
            "password_hash": "$argon2id$…",
        },
        [(LC, "teacher"), (CC, "author"), (LC, "student")],
        password_set=True,
    )
    assert event.action == "user.created" and event.target_type == "User"
    assert event.data["fields"] == ["email", "firstName", "timeZone", "username"]
    assert event.data["passwordSet"] is True
    expected = [(encode_id("Platform", p), r) for p, r in [(LC, "teacher"), (CC, "author")]]
    expected += [(encode_id("Platform", LC), "student")]
    assert event.data["roles"] == [{"platform": p, "role": r} for p, r in sorted(expected)]
    assert "job" not in event.data


def test_job_only_when_a_job_made_the_change() -> None:
    job = encode_id("ImportJob", uuid.uuid4())
    assert vocabulary.user_password_set().data == {}
    assert vocabulary.user_password_set(job).data == {"job": job}
    assert vocabulary.user_deleted([CC, LC, CC], job).data == {
        "platforms": sorted({encode_id("Platform", CC), encode_id("Platform", LC)}),
        "job": job,
    }


def test_user_changes_keep_password_and_status_out_of_changed() -> None:
    changes = vocabulary.user_changes(
        ["status", "last_name", "password", "attributes"],
        added=[(LC, "tutor")],
        status="DISABLED",
    )
    assert [(e.action, e.data) for e in changes] == [
        ("user.updated", {"changed": ["attributes", "lastName"]}),
        (
            "user.roles_changed",
            {"added": [{"platform": encode_id("Platform", LC), "role": "tutor"}], "removed": []},
        ),
        ("user.password_set", {}),
        ("user.disabled", {}),
    ]
    only_password = vocabulary.user_changes(["password"], status="ACTIVE")
    assert [e.action for e in only_password] == ["user.password_set", "user.enabled"]
    assert vocabulary.user_changes([]) == []


def test_a_user_created_disabled_is_created_then_disabled() -> None:
    made = vocabulary.user_creation(
        {"username": "ana"}, [], password_set=False, welcome_email=True, disabled=True
    )
    assert [e.action for e in made] == [
        "user.created",
        "user.welcome_email_requested",
        "user.disabled",
    ]


def test_platform_and_job_payloads() -> None:
    assert vocabulary.platform_updated(["webhook_url", "name"]).data == {
        "changed": ["name", "webhookUrl"]
    }
    started = vocabulary.import_started(True, {"match_by": "EMAIL", "send_welcome_email": True})
    assert (started.action, started.target_type) == ("import.started", "ImportJob")
    assert started.data == {
        "dryRun": True,
        "options": {"matchBy": "EMAIL", "sendWelcomeEmail": True},
    }
