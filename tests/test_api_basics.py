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
