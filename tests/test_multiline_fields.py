"""Line breaks in the fields meant to hold several lines (a location, attribute values): kept,
CR LF and lone CR stored as LF, through the API, a CSV import and an export's round trip; every
single-line field refuses them (issue #20, item 14)."""

from typing import Any

import httpx
import pytest

from tests.conftest import Api
from tests.test_exports import download, export, records
from tests.test_imports import errors_of, finished, sql
from tests.test_users import create, update

ADDRESS = "Calle Mayor 1\nMadrid"
USER = """
query($email: String!) { user(email: $email) { id location attributes } }
"""


def codes(payload: dict[str, Any]) -> list[tuple[list[str], str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def stored(api: Api, email: str) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(USER, email=email))["user"]
    assert found is not None, email
    return found


def ana() -> dict[str, Any]:
    return {"username": "ana", "email": "ana@example.com", "firstName": "Ana", "lastName": "Gil"}


# --- The API -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Calle Mayor 1\r\nMadrid", ADDRESS),
        ("Calle Mayor 1\rMadrid", ADDRESS),
        (ADDRESS, ADDRESS),
        ("Calle Mayor 1\r\n\r\nMadrid\tEspaña\r\n", "Calle Mayor 1\n\nMadrid\tEspaña"),
    ],
)
async def test_a_location_keeps_its_lines_with_lf(admin: Api, typed: str, kept: str) -> None:
    payload = await create(admin, **ana(), location=typed)
    assert payload["userErrors"] == []
    assert payload["user"]["location"] == kept
    assert (await stored(admin, "ana@example.com"))["location"] == kept


async def test_update_keeps_a_locations_lines(admin: Api) -> None:
    made = await create(admin, **ana())
    payload = await update(admin, made["user"]["id"], location="Plaza 2\r\nSevilla")
    assert payload["userErrors"] == []
    assert payload["user"]["location"] == "Plaza 2\nSevilla"


@pytest.mark.parametrize(
    "field",
    ["username", "email", "firstName", "lastName", "officePhone", "mobilePhone", "externalId"],
)
@pytest.mark.parametrize("character", ["\n", "\r\n", "\r", "\t"])
async def test_single_line_fields_refuse_line_breaks_and_tabs(
    admin: Api, db_url: str, field: str, character: str
) -> None:
    value = {
        "username": "ana{}x",
        "email": "ana{}x@example.com",
        "officePhone": "+34 910{}000 000",
        "mobilePhone": "+34 600{}000 000",
    }.get(field, "Ana{}Gil")
    payload = await create(admin, **{**ana(), field: value.format(character)})
    assert codes(payload) == [(["input", field], "INVALID_CHARACTERS")], payload
    assert await sql(db_url, "SELECT 1 FROM users") == []


@pytest.mark.parametrize(
    "value",
    [
        "Calle Mayor 1\x1b[31m\nMadrid",  # an escape sequence
        "Calle Mayor 1\x0bMadrid",  # vertical tab
        "Calle Mayor 1\x0cMadrid",  # form feed
        "Calle Mayor 1\x85Madrid",  # NEL (C1)
        "Calle Mayor 1\u2028Madrid",  # the line separator
        "Calle Mayor 1\u2029Madrid",  # the paragraph separator
        "Calle \u202e1 royaM\nMadrid",  # a direction override
        "Calle Mayor 1\n\u2066Madrid",  # an isolate
        "Calle\x00Mayor",
    ],
)
async def test_a_location_still_refuses_other_controls_and_overrides(
    admin: Api, value: str
) -> None:
    payload = await create(admin, **ana(), location=value)
    assert codes(payload) == [(["input", "location"], "INVALID_CHARACTERS")], payload


async def test_attribute_values_keep_lines_with_lf(admin: Api) -> None:
    attributes = {"address": "Piso 3\r\nPuerta B\rEscalera 2", "note": "\tindented\nline"}
    payload = await create(admin, **ana(), attributes=attributes)
    assert payload["userErrors"] == []
    expected = {"address": "Piso 3\nPuerta B\nEscalera 2", "note": "\tindented\nline"}
    assert payload["user"]["attributes"] == expected
    assert (await stored(admin, "ana@example.com"))["attributes"] == expected


@pytest.mark.parametrize(
    "attributes",
    [
        {"address": "Piso 3\x1b[2J"},
        {"address": "Piso 3\u2028Puerta B"},
        {"address": "Piso \u202e3"},
        {"addr\ness": "Piso 3"},  # a key is a name: one line
        {"addr\tess": "Piso 3"},
        {"addr\u202eess": "Piso 3"},
    ],
)
async def test_attributes_refuse_other_controls_and_multi_line_keys(
    admin: Api, attributes: dict[str, str]
) -> None:
    payload = await create(admin, **ana(), attributes=attributes)
    assert codes(payload) == [(["input", "attributes"], "INVALID_CHARACTERS")], payload


# --- The import and the export ------------------------------------------------------------------


async def test_an_import_takes_quoted_multi_line_addresses(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    body = (
        b"email,first_name,location,attr:address\r\n"
        b'ana@example.com,Ana,"Calle Mayor 1\r\nMadrid","Piso 3\r\nPuerta B"\r\n'
        b'bob@example.com,Bob,"Plaza 2\nSevilla",\r\n'
        b'carla@example.com,"Car\nla","Gran V\xc3\xada 3\rMadrid",\r\n'
    )
    job = await finished(client, admin, db_url, body)
    assert errors_of(job) == [(4, "first_name", "INVALID_CHARACTERS")]
    assert (job["created"], job["failed"]) == (2, 1)
    found = await stored(admin, "ana@example.com")
    assert found["location"] == ADDRESS
    assert found["attributes"] == {"address": "Piso 3\nPuerta B"}
    assert (await stored(admin, "bob@example.com"))["location"] == "Plaza 2\nSevilla"


async def test_an_export_round_trip_keeps_lines_byte_for_byte(
    client: httpx.AsyncClient, admin: Api, other_admin: Api, db_url: str
) -> None:
    locations = {
        "ana": "Calle Mayor 1\r\nMadrid\r\nEspaña",
        "bob": "-1 Sótano\nEdificio\tB",  # neutralised: it starts as a formula would
        "carla": 'Avenida "Sol" 4\n\nValencia',
    }
    for name, location in locations.items():
        fields = {**ana(), "username": name, "email": f"{name}@example.com"}
        payload = await create(admin, **fields, location=location, attributes={"a": "x\r\ny"})
        assert payload["userErrors"] == [], payload
    first = await download(client, await export(admin, db_url), admin.token)
    assert b'"Calle Mayor 1\nMadrid\nEspa\xc3\xb1a"' in first  # quoted, its LFs as they are
    assert b'"\'-1 S\xc3\xb3tano\nEdificio\tB"' in first
    assert [r[9] for r in records(first)[1:]] == [
        "Calle Mayor 1\nMadrid\nEspaña",
        "'-1 Sótano\nEdificio\tB",
        'Avenida "Sol" 4\n\nValencia',
    ]
    job = await finished(client, other_admin, db_url, first, mode="CREATE")
    assert (job["created"], job["failed"]) == (3, 0), errors_of(job)
    query = (
        "SELECT t.slug, u.username, u.location, u.attributes FROM users u"
        " JOIN tenants t ON t.id = u.tenant_id ORDER BY u.username, t.slug"
    )
    rows = [tuple(r) for r in await sql(db_url, query)]
    acme = [r[1:] for r in rows if r[0] == "acme"]
    globex = [r[1:] for r in rows if r[0] == "globex"]
    assert globex == acme
    assert acme[0] == ("ana", "Calle Mayor 1\nMadrid\nEspaña", {"a": "x\ny"})
    again = await download(client, await export(other_admin, db_url), other_admin.token)
    assert again == first
