"""What each row of an import does (jobs/import_plan.py), without a database: rows read from
real CSV files, stored users as the look-up would give them."""

import uuid
from pathlib import Path
from typing import Any

import pytest

from jobs.csvrows import ImportRow, read_rows
from jobs.csvsniff import inspect_file, read_header
from jobs.import_plan import (
    ErrorColumns,
    Existing,
    KeyClaims,
    Options,
    Planned,
    RowProblems,
    freed,
    keys,
    plan_rows,
    valid_rows,
)
from rules.csvcolumns import PlatformInfo, map_header
from rules.identifiers import skeleton
from rules.userfields import skeletons

LEARNING, CONTENT = uuid.uuid4(), uuid.uuid4()
PLATFORMS = [
    PlatformInfo("learningcloud", ("lcloud",), ("student", "teacher")),
    PlatformInfo("contentcloud", (), ("author", "editor")),
]
PLATFORM_IDS = {"learningcloud": LEARNING, "contentcloud": CONTENT}


def read(tmp_path: Path, text: str) -> tuple[list[ImportRow], ErrorColumns]:
    path = tmp_path / "users.csv"
    path.write_text(text, encoding="utf-8")
    shape = inspect_file(str(path))
    columns = map_header(read_header(str(path), shape), PLATFORMS)
    rows = list(read_rows(str(path), shape, columns, PLATFORMS, min_password_length=8))
    return rows, ErrorColumns.of(columns)


def stored(username: str, **fields: Any) -> dict[str, Any]:
    """A user as the look-up reads it."""
    user = {
        "id": uuid.uuid4(),
        "username": username,
        "email": f"{username}@example.com",
        "first_name": username.title(),
        "last_name": "Tester",
        "language": None,
        "time_zone": None,
        "office_phone": None,
        "mobile_phone": None,
        "location": None,
        "external_id": None,
        "status": "ACTIVE",
        "attributes": {},
        **fields,
    }
    return {**user, **skeletons(user)}


def role(user: dict[str, Any], platform: uuid.UUID, name: str) -> dict[str, Any]:
    return {"user_id": user["id"], "platform_id": platform, "role": name}


class Outcome:
    """What planning a file did: the plans by row, and the row errors."""

    def __init__(self, plans: list[Planned], problems: RowProblems) -> None:
        self.plans = {p.row.number: p for p in plans}
        self.errors = [(row, column, code) for row, _, column, code, _, _ in problems.errors]

    def actions(self) -> dict[int, str]:
        return {number: p.action for number, p in self.plans.items()}


def plan(
    tmp_path: Path,
    text: str,
    users: list[dict[str, Any]] | None = None,
    roles: list[dict[str, Any]] | None = None,
    **options: Any,
) -> Outcome:
    rows, columns = read(tmp_path, text)
    problems = RowProblems(columns)
    valid = valid_rows(rows, KeyClaims(rows).duplicates_given({}), problems)
    existing = Existing.of(users or [], roles or [])
    return Outcome(plan_rows(valid, existing, Options(**options), PLATFORM_IDS, problems), problems)


# --- Modes -------------------------------------------------------------------------------------


def test_create_mode_creates_new_users_and_refuses_existing_ones(tmp_path: Path) -> None:
    ana = stored("ana")
    done = plan(
        tmp_path, "email,first_name\nana@example.com,Ana\nbob@example.com,\n", [ana], mode="CREATE"
    )
    assert done.errors == [(2, None, "USER_EXISTS")]
    assert done.actions() == {3: "CREATE"}
    bob = done.plans[3]
    assert bob.user is None
    assert (bob.values["username"], bob.values["email"]) == ("bob@example.com", "bob@example.com")
    # What a file leaves blank gets the defaults of a new user.
    assert (bob.values["first_name"], bob.values["last_name"], bob.values["status"]) == (
        "",
        "",
        "ACTIVE",
    )
    assert bob.roles == []


def test_update_mode_changes_what_differs_and_creates_nobody(tmp_path: Path) -> None:
    ana = stored("ana", language="es")
    done = plan(
        tmp_path,
        "email,first_name,language\nana@example.com,Anabel,es\nnew@example.com,New,\n",
        [ana],
        mode="UPDATE",
    )
    assert done.errors == [(3, None, "NOT_FOUND")]
    assert done.actions() == {2: "UPDATE"}
    update = done.plans[2]
    assert update.user is ana
    assert (update.changed, update.values) == (["first_name"], {"first_name": "Anabel"})


def test_upsert_creates_updates_and_skips_rows_that_change_nothing(tmp_path: Path) -> None:
    ana, bob = stored("ana"), stored("bob")
    done = plan(
        tmp_path,
        "email,first_name\nana@example.com,Ana\nbob@example.com,Robert\ncy@example.com,Cy\n",
        [ana, bob],
        mode="UPSERT",
    )
    assert done.errors == []
    assert done.actions() == {2: "NOOP", 3: "UPDATE", 4: "CREATE"}
    assert done.plans[3].changed == ["first_name"]


def test_the_operation_column_wins_over_the_mode(tmp_path: Path) -> None:
    users = [stored("ana"), stored("gone", status="DISABLED")]
    done = plan(
        tmp_path,
        "operation,email,first_name\n"
        "U,ana@example.com,Anabel\n"
        "C,new@example.com,New\n"
        "D,gone@example.com,\n",
        users,
        mode="UPDATE",
    )
    assert done.actions() == {2: "UPDATE", 3: "CREATE", 4: "DELETE"}


def test_a_new_password_is_a_change(tmp_path: Path) -> None:
    ana = stored("ana")
    done = plan(tmp_path, "email,password\nana@example.com,tangerine koala violin 47\n", [ana])
    update = done.plans[2]
    assert (update.action, update.changed) == ("UPDATE", ["password"])
    assert update.values == {"password": "tangerine koala violin 47"}


def test_attributes_change_a_user_only_when_they_add_or_alter_one(tmp_path: Path) -> None:
    ana = stored("ana", attributes={"team": "red", "desk": "4"})
    text = "email,attr:team\nana@example.com,red\nbob@example.com,blue\n"
    bob = stored("bob", attributes={"team": "red"})
    done = plan(tmp_path, text, [ana, bob])
    assert done.actions() == {2: "NOOP", 3: "UPDATE"}
    assert done.plans[3].values == {"attributes": {"team": "blue"}}


# --- Matching ----------------------------------------------------------------------------------


def test_match_by_username_lets_a_row_change_the_email(tmp_path: Path) -> None:
    ana = stored("ana")
    text = "username,email\nANA,ana.new@example.com\n"
    by_username = plan(tmp_path, text, [ana], match_by="USERNAME")
    assert by_username.actions() == {2: "UPDATE"}
    assert by_username.plans[2].user is ana
    # ANA is ana (usernames are case-mapped): only the e-mail (and its skeleton) changes.
    assert by_username.plans[2].values == {
        "email": "ana.new@example.com",
        "email_skeleton": skeleton("ana.new@example.com"),
    }
    # By e-mail the same row is a new user whose username is taken.
    by_email = plan(tmp_path, text, [ana], match_by="EMAIL")
    assert by_email.errors == [(2, "username", "USERNAME_TAKEN")]
    assert by_email.plans == {}


def test_match_by_external_id_needs_one_in_every_row(tmp_path: Path) -> None:
    ana = stored("ana", external_id="EXT-1")
    done = plan(
        tmp_path,
        "external_id,email,first_name\n"
        "EXT-1,ana.ext@example.com,Anita\n"
        ",nobody@example.com,No\n"
        "EXT-2,bob@example.com,Bob\n",
        [ana],
        match_by="EXTERNAL_ID",
        mode="UPDATE",
    )
    assert done.errors == [(3, "external_id", "REQUIRED"), (4, None, "NOT_FOUND")]
    assert done.actions() == {2: "UPDATE"}
    assert done.plans[2].changed == ["email", "first_name"]


def test_a_file_without_a_username_column_keeps_stored_usernames(tmp_path: Path) -> None:
    ana = stored("ana")
    done = plan(tmp_path, "email,first_name\nana@example.com,Anabel\n", [ana])
    update = done.plans[2]
    assert (update.changed, update.values) == (["first_name"], {"first_name": "Anabel"})


# --- Identifiers of other users ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("username,email\nbob,new@example.com\n", (2, "username", "USERNAME_TAKEN")),
        ("username,email\nnew,BOB@example.com\n", None),  # matched by e-mail: bob's own row
        (
            "username,email,external_id\nnew,new@example.com,HR-7\n",
            (2, "external_id", "EXTERNAL_ID_TAKEN"),
        ),
        ("username,email\nbob,ana@example.com\n", (2, "username", "USERNAME_TAKEN")),
        ("username,email\nana,ana@example.com\n", None),
    ],
    ids=["create-username", "own-row", "create-external-id", "rename-to-taken", "own-username"],
)
def test_identifiers_of_another_user_are_refused(
    tmp_path: Path, text: str, error: tuple[int, str, str] | None
) -> None:
    users = [stored("ana"), stored("bob", external_id="HR-7")]
    done = plan(tmp_path, text, users)
    assert done.errors == ([error] if error else [])
    assert len(done.plans) == (0 if error else 1)


def test_an_email_of_another_user_is_refused_when_matching_by_username(tmp_path: Path) -> None:
    users = [stored("ana"), stored("bob")]
    done = plan(tmp_path, "username,email\nana,bob@example.com\n", users, match_by="USERNAME")
    assert done.errors == [(2, "email", "EMAIL_TAKEN")]


# --- Roles -------------------------------------------------------------------------------------


def test_roles_merge_adds_and_replace_also_removes(tmp_path: Path) -> None:
    ana = stored("ana")
    current = [role(ana, LEARNING, "student")]
    text = "email,roles\nana@example.com,contentcloud:author|learningcloud:student\n"

    merged = plan(tmp_path, text, [ana], current, roles_mode="MERGE").plans[2]
    assert merged.action == "UPDATE"
    assert (merged.roles_added, merged.roles_removed) == ([(CONTENT, "author")], [])

    text = "email,roles\nana@example.com,contentcloud:author\n"
    replaced = plan(tmp_path, text, [ana], current, roles_mode="REPLACE").plans[2]
    assert replaced.action == "UPDATE"
    assert replaced.roles_added == [(CONTENT, "author")]
    assert replaced.roles_removed == [(LEARNING, "student")]
    assert replaced.roles == [(CONTENT, "author")]


def test_the_roles_a_user_has_already_change_nothing(tmp_path: Path) -> None:
    ana = stored("ana")
    current = [role(ana, LEARNING, "student"), role(ana, CONTENT, "author")]
    text = "email,roles\nana@example.com,lcloud:student|contentcloud:author\n"
    for mode in ("MERGE", "REPLACE"):
        done = plan(tmp_path, text, [ana], current, roles_mode=mode)
        assert done.actions() == {2: "NOOP"}, mode
        assert done.plans[2].roles is None
    # Without a roles cell a row leaves the roles alone, even when replacing.
    done = plan(tmp_path, "email,roles\nana@example.com,\n", [ana], current, roles_mode="REPLACE")
    assert done.actions() == {2: "NOOP"}


def test_a_new_user_gets_the_roles_of_its_row(tmp_path: Path) -> None:
    done = plan(tmp_path, "email,learningcloud\nnew@example.com,student|teacher\n")
    assert done.plans[2].roles == [(LEARNING, "student"), (LEARNING, "teacher")]


# --- Delete ------------------------------------------------------------------------------------


def test_delete_only_disabled_users(tmp_path: Path) -> None:
    users = [stored("olga"), stored("gone", status="DISABLED")]
    done = plan(
        tmp_path,
        "operation,email,active\nD,olga@example.com,\nD,gone@example.com,\nD,nobody@example.com,\n",
        users,
    )
    assert done.errors == [(2, "active", "USER_ACTIVE"), (4, None, "NOT_FOUND")]
    assert done.actions() == {3: "DELETE"}
    assert done.plans[3].user is users[1]


# --- Keys --------------------------------------------------------------------------------------


def test_keys_of_a_row_are_its_identifiers(tmp_path: Path) -> None:
    rows, _ = read(tmp_path, "username,email,external_id\nAna,ANA@Example.com,HR-1\nbob,b@x.es,\n")
    assert keys(rows[0]) == [
        ("e", "ana@example.com"),
        ("u", "ana"),
        ("x", "hr-1"),
        ("se", skeleton("ana@example.com")),
        ("su", skeleton("ana")),
    ]
    assert keys(rows[1])[:2] == [("e", "b@x.es"), ("u", "bob")]


def test_plans_free_what_they_take_from_users(tmp_path: Path) -> None:
    olga = stored("Olga", email="olga@example.com", external_id="HR-1")
    gone = stored("gone", status="DISABLED", external_id="HR-2")
    same = stored("same")
    done = plan(
        tmp_path,
        "operation,username,email,first_name\n"
        ",olga.new,olga@example.com,Olga\n"  # renames olga
        "D,,gone@example.com,\n"  # deletes gone
        ",same,same@example.com,Other\n"  # changes a name only
        ",new,new@example.com,New\n",  # creates
        [olga, gone, same],
    )
    assert done.actions() == {2: "UPDATE", 3: "DELETE", 4: "UPDATE", 5: "CREATE"}
    assert freed(done.plans.values()) == {
        ("u", "olga"),
        ("su", skeleton("olga")),
        ("u", "gone"),
        ("su", skeleton("gone")),
        ("e", "gone@example.com"),
        ("se", skeleton("gone@example.com")),
        ("x", "hr-2"),
    }


def test_key_claims_name_the_first_row_of_each_key(tmp_path: Path) -> None:
    rows, _ = read(
        tmp_path,
        "username,email,external_id\n"
        "a,a@example.com,\n"  # 2
        "b,A@EXAMPLE.com,\n"  # 3: e-mail of row 2
        "c,c@example.com,HR-1\n"  # 4
        "d,d@example.com,HR-1\n"  # 5: external id of row 4
        "e,e@example.com,\n"  # 6: claimed by an earlier chunk's row
        "f,f@example.com,\n"  # 7: claimed by itself (the chunk read again after a crash)
        "bad,not-an-email,\n",  # 8: a problem of its own, claims nothing
    )
    claims = KeyClaims(rows)
    claimed = {(kind, key): (row, exact) for kind, key, row, exact in claims.claimed()}
    # An e-mail or username by its skeleton, the exact value beside it; an external id as is.
    assert claimed[("se", skeleton("a@example.com"))] == (2, "a@example.com")
    assert claimed[("su", skeleton("c"))] == (4, "c")
    assert claimed[("x", "hr-1")] == (4, None)
    assert len(claimed) == 2 * 4 + 1
    assert {row for row, _ in claimed.values()} == {2, 4, 6, 7}
    earlier = {
        ("su", skeleton("e")): (1000, "e"),
        ("se", skeleton("f@example.com")): (7, "f@example.com"),
    }
    assert claims.duplicates_given(earlier) == {
        3: (2, "email"),
        5: (4, "external_id"),
        6: (1000, "username"),
    }


def test_a_claim_of_an_earlier_chunk_tells_a_repeat_from_a_look_alike(tmp_path: Path) -> None:
    rows, _ = read(
        tmp_path,
        "username,email\n"
        "ann,ANN@example.com\n"  # 2: the e-mail an earlier chunk's row claimed
        "bob,b\u043eb@example.com\n"  # 3: looks like that row's e-mail (Cyrillic o)
        "carl,carl@example.com\n",  # 4: looks like no one's
    )
    earlier = {
        ("se", skeleton("ann@example.com")): (10, "ann@example.com"),
        ("se", skeleton("bob@example.com")): (11, "bob@example.com"),
    }
    claims = KeyClaims(rows)
    assert claims.duplicates_given(earlier) == {2: (10, "email"), 3: (11, "email")}
    assert claims.look_alikes == {3: "email"}


def test_a_duplicate_names_the_repeated_field_on_its_column(tmp_path: Path) -> None:
    rows, columns = read(
        tmp_path,
        "Name,E-mail,external_id,User\n"
        "Ana,ana@example.com,HR-1,ana\n"  # 2
        "Bea,bea@example.com,,ANA\n"  # 3: username of row 2
        "Cai,cai@example.com,HR-1,cai\n"  # 4: external id of row 2
        "Dan,ANA@example.com,,dan\n",  # 5: e-mail of row 2
    )
    problems = RowProblems(columns)
    valid_rows(rows, KeyClaims(rows).duplicates_given({}), problems)
    assert [(row, column, message) for row, _, column, _, message, _ in problems.errors] == [
        (3, "User", "Row 2 has the same username; only the first one is imported."),
        (4, "external_id", "Row 2 has the same external id; only the first one is imported."),
        (5, "E-mail", "Row 2 has the same e-mail; only the first one is imported."),
    ]


def test_rows_with_problems_or_repeating_another_are_not_planned(tmp_path: Path) -> None:
    rows, columns = read(
        tmp_path,
        "email,password,first_name\n"
        "ana@example.com,tangerine koala violin 47,Ana\n"
        "not-an-email,secret fig violin 12,Bad\n"
        "ANA@example.com,,Again\n",
    )
    problems = RowProblems(columns)
    valid = valid_rows(rows, KeyClaims(rows).duplicates_given({}), problems)
    assert [r.number for r in valid] == [2]
    assert [(row, column, code) for row, _, column, code, _, _ in problems.errors] == [
        (3, "email", "INVALID_EMAIL"),
        (4, "email", "DUPLICATE_IN_FILE"),
    ]
    assert problems.errors[1][4] == "Row 2 has the same e-mail; only the first one is imported."
    # A row's cells go with its first problem, never its password.
    assert problems.errors[0][5] == ["not-an-email", "", "Bad"]
    assert problems.rows == {3: 1, 4: 1}
