from tests.conftest import Api, app_cursor_key, create_user


async def test_created_user_is_listed(admin: Api) -> None:
    user = await create_user(admin, "ana", roles=[{"platform": "lcloud", "role": "student"}])
    data = await admin.data(
        "{ users { totalCount edges { node { id username roles { role } } } } }"
    )
    assert data["users"]["totalCount"] == 1
    assert data["users"]["edges"][0]["node"]["id"] == user["id"]
    assert data["users"]["edges"][0]["node"]["roles"] == [{"role": "student"}]


async def test_malformed_audit_cursor_is_a_clear_error(admin: Api, db_url: str) -> None:
    from resolvers.pagination import encode_cursor

    # Sealed with the app's own key: what is checked is what they hold.
    key = await app_cursor_key(db_url)
    for payload in ({"k": "events"}, {"k": "events", "i": "7"}, {"k": "events", "i": True}):
        body = await admin(
            "query($c: String) { auditEvents(after: $c) { edges { cursor } } }",
            c=encode_cursor(key, payload),
        )
        assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR", body


async def test_a_folder_of_time_zones_is_a_user_error(admin: Api) -> None:
    from tests.conftest import CREATE_USER

    data = await admin.data(
        CREATE_USER,
        input={
            "username": "ann",
            "email": "ann@example.com",
            "firstName": "Ann",
            "lastName": "Lee",
            "timeZone": "Europe",
        },
    )
    assert [e["code"] for e in data["createUser"]["userErrors"]] == ["INVALID_TIME_ZONE"]


LIST = "query($first: Int) { users(first: $first) { edges { node { username roles { role } } } } }"


async def test_a_query_by_get_answers_as_by_post_and_is_not_stored(admin: Api) -> None:
    # The console preloads its first list this way (roster/console.py). The same document twice:
    # the second runs as a prepared document (where the engine is on), the first does not.
    await create_user(admin, "ana", roles=[{"platform": "lcloud", "role": "student"}])
    await create_user(admin, "bob")
    posted = await admin.post(LIST, {"first": 1})
    address = {"query": LIST, "variables": '{"first": 1}'}
    bearer = {"authorization": f"Bearer {admin.token}"}
    for _ in range(2):
        got = await admin.client.get("/graphql", params=address, headers=bearer)
        assert got.status_code == 200, got.text
        assert (
            got.json()
            == posted.json()
            == {
                "data": {
                    "users": {
                        "edges": [{"node": {"username": "ana", "roles": [{"role": "student"}]}}]
                    }
                }
            }
        )
        # A person's data, asked for by GET: neither the browser nor a proxy keeps it.
        assert got.headers["cache-control"] == "no-store"


async def test_a_get_changes_nothing_and_a_bad_one_is_a_clear_error(admin: Api) -> None:
    user = await create_user(admin, "ana")
    bearer = {"authorization": f"Bearer {admin.token}"}
    mutation = f'mutation {{ disableUsers(ids: ["{user["id"]}"]) {{ userErrors {{ code }} }} }}'
    for _ in range(2):  # the second time the document is one seen before
        refused = await admin.client.get("/graphql", params={"query": mutation}, headers=bearer)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["message"] == "mutations are not allowed when using GET"
    status = await admin.data("query($id: ID!) { user(id: $id) { status } }", id=user["id"])
    assert status == {"user": {"status": "ACTIVE"}}
    bad = await admin.client.get(
        "/graphql", params={"query": LIST, "variables": "{first: 1"}, headers=bearer
    )
    assert bad.status_code == 400, bad.text
    nobody = await admin.client.get("/graphql", params={"query": LIST})
    assert nobody.status_code == 401
