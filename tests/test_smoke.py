from tests.conftest import Api, create_user


async def test_created_user_is_listed(admin: Api) -> None:
    user = await create_user(admin, "ana", roles=[{"platform": "lcloud", "role": "student"}])
    data = await admin.data(
        "{ users { totalCount edges { node { id username roles { role } } } } }"
    )
    assert data["users"]["totalCount"] == 1
    assert data["users"]["edges"][0]["node"]["id"] == user["id"]
    assert data["users"]["edges"][0]["node"]["roles"] == [{"role": "student"}]
