"""Signing in to the console without pasting a token: `roster console-link` makes a link whose
secret is good once, for 15 minutes; opening it trades the secret for a console session, a token
of its own kind sent by the browser as a cookie (roster.console).

The secret travels in the link's fragment (`/console/sign-in#…`): a browser sends no fragment
to any server, so it reaches no access log, proxy or Referer; the page's script reads it, takes
it out of the address bar and posts it. A preview bot that fetches the link spends nothing."""

import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from db import console, tenants
from db.events import Actor, record_events
from db.pool import Conn
from db.tenancy import switch_tenant
from roster.auth import new_token, token_hash
from rules import events as vocabulary

LINK_TTL = 15 * 60
SESSION_TTL = 7 * 24 * 3600
SIGN_IN_PATH = "/console/sign-in"


class UnknownTenant(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Session:
    """A console session just opened: its token (the cookie's value, never stored) and when it
    ends at the latest."""

    token: str
    token_id: UUID
    tenant_id: UUID
    scope: str
    expires_at: datetime


async def create_link(
    conn: Conn, public_url: str, tenant_slug: str, scope: str, actor: Actor
) -> tuple[str, datetime]:
    """A sign-in link to the tenant's console with `scope`, and when it expires."""
    tenant = await tenants.get_tenant_by_slug(conn, tenant_slug)
    if tenant is None:
        raise UnknownTenant(tenant_slug)
    secret = secrets.token_urlsafe(32)
    async with conn.transaction():
        expires_at = await console.insert_link(
            conn, token_hash(secret), tenant["id"], scope, LINK_TTL
        )
        await record_events(
            conn, tenant["id"], actor, [(None, vocabulary.console_link_created(scope))]
        )
    return f"{public_url.rstrip('/')}{SIGN_IN_PATH}#{secret}", expires_at


async def open_session(conn: Conn, secret: str) -> Session | console.LinkRefusal:
    """A session for the link's secret, the link spent; else why the link cannot sign in. The
    link names its organisation, which the rest of the transaction works for."""
    async with conn.transaction():
        link = await console.use_link(conn, token_hash(secret))
        if isinstance(link, str):
            return link
        await switch_tenant(conn, link["tenant_id"])
        token = new_token()
        row = await console.insert_session(
            conn, link["tenant_id"], link["scope"], token_hash(token), SESSION_TTL
        )
        await record_events(
            conn,
            link["tenant_id"],
            Actor(token_id=row["token_id"], name="console"),
            [(row["token_id"], vocabulary.console_signed_in(link["scope"]))],
        )
    return Session(token, row["token_id"], link["tenant_id"], link["scope"], row["expires_at"])
