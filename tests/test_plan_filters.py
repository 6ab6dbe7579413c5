"""A dry run's plan and an import's row errors, narrowed as the console's import screen shows
them: the plan by action, the errors by code, with each code's count."""

import httpx

from tests.conftest import Api, create_user
from tests.test_imports import import_csv

FILE = b"""username,email,first_name,last_name
ana,ana@example.com,Ana,Changed
new1,new1@example.com,New,One
new2,new2@example.com,New,Two
bad1,not-an-email,Bad,One
bad2,also-bad,Bad,Two
bad	user,x7@example.com,X,Y
"""
JOB = """
query($id: ID!, $action: PlanAction, $code: String) { job(id: $id) { ... on ImportJob {
  plan(first: 50, action: $action) { edges { node { row action } } }
  rowErrors(first: 50, code: $code) { edges { node { row code } } }
  rowErrorCodes { code rows } } } }
"""


async def test_the_plan_by_action_and_the_errors_by_code(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    assert admin.token is not None
    await create_user(admin, "ana", email="ana@example.com", firstName="Ana", lastName="Lima")
    dry = await import_csv(client, admin, admin.token, db_url, FILE, dryRun="true")
    assert dry["status"] == "SUCCEEDED", dry

    async def job(**narrowed: str) -> dict[str, list[tuple[int, str]]]:
        found = (await admin.data(JOB, id=dry["id"], **narrowed))["job"]
        return {
            "plan": [(e["node"]["row"], e["node"]["action"]) for e in found["plan"]["edges"]],
            "errors": [(e["node"]["row"], e["node"]["code"]) for e in found["rowErrors"]["edges"]],
            "codes": [(c["code"], c["rows"]) for c in found["rowErrorCodes"]],
        }

    everything = await job()
    assert everything["plan"] == [(2, "UPDATE"), (3, "CREATE"), (4, "CREATE")]
    assert everything["errors"] == [
        (5, "INVALID_EMAIL"),
        (6, "INVALID_EMAIL"),
        (7, "INVALID_CHARACTERS"),
    ]
    assert everything["codes"] == [("INVALID_CHARACTERS", 1), ("INVALID_EMAIL", 2)]
    narrowed = await job(action="CREATE", code="INVALID_CHARACTERS")
    assert narrowed["plan"] == [(3, "CREATE"), (4, "CREATE")]
    assert narrowed["errors"] == [(7, "INVALID_CHARACTERS")]
