"""The audit log narrowed as the console's audit screen narrows it: by user, by action and by
time; and the actions it may be narrowed to are the vocabulary's, every one documented."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from rules import events as vocabulary
from tests.conftest import Api, create_user

EVENTS = """
query($actions: [String!], $since: DateTime, $until: DateTime, $user: ID) {
  auditEvents(first: 50, actions: $actions, since: $since, until: $until, userId: $user) {
    edges { node { action targetId } } } }
"""
DISABLE = "mutation($ids: [ID!]!) { disableUsers(ids: $ids) { userErrors { code } } }"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "events.md"


def actions_of(data: dict[str, object]) -> list[str]:
    edges = data["auditEvents"]["edges"]  # type: ignore[index]
    return [edge["node"]["action"] for edge in edges]


async def test_audit_events_narrowed_by_action_user_and_time(admin: Api) -> None:
    ana = await create_user(admin, "ana")
    bob = await create_user(admin, "bob")
    await admin.data(DISABLE, ids=[ana["id"]])
    everything = actions_of(await admin.data(EVENTS))
    assert everything == ["user.disabled", "user.created", "user.created"]
    assert actions_of(await admin.data(EVENTS, actions=["user.disabled"])) == ["user.disabled"]
    mine = actions_of(await admin.data(EVENTS, user=bob["id"], actions=["user.created"]))
    assert mine == ["user.created"]
    now = datetime.now(UTC)
    future = (now + timedelta(minutes=1)).isoformat()
    past = (now - timedelta(minutes=5)).isoformat()
    assert actions_of(await admin.data(EVENTS, since=future)) == []
    assert actions_of(await admin.data(EVENTS, until=past)) == []
    assert len(actions_of(await admin.data(EVENTS, since=past, until=future))) == 3


async def test_an_unknown_action_or_moment_is_a_clear_error(admin: Api) -> None:
    unknown = await admin(EVENTS, actions=["user.exploded"])
    assert unknown["errors"][0]["extensions"]["code"] == "UNKNOWN_ACTION"
    assert "auditActions" in unknown["errors"][0]["message"]
    early = await admin(EVENTS, since="0001-01-01T00:00:00+14:00")
    assert early["errors"][0]["extensions"]["code"] == "INVALID_DATE"


async def test_the_actions_are_the_vocabularys_and_documented(admin: Api) -> None:
    listed = (await admin.data("{ auditActions }"))["auditActions"]
    constants = {
        value
        for name, value in vars(vocabulary).items()
        if name.isupper() and isinstance(value, str) and "." in value
    }
    assert sorted(listed) == sorted(constants)
    documented = DOCS.read_text()
    assert [a for a in listed if f"`{a}`" not in documented] == []
