"""The ASGI app: /graphql, /healthz, /readyz, /set-password, and the clients its lifespan
owns."""

import gc
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TypedDict

from asyncpg import Pool
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute, request_response
from starlette.staticfiles import StaticFiles

from db import secrets
from db.pool import create_pool, ping
from db.tenancy import APP_ROLE
from jobs.addresses import AddressPolicy
from jobs.hashpool import hashing_pool
from jobs.progress import JobRelay
from jobs.queue import HEARTBEAT_KEY, Queue, close_queue, connect_queue
from resolvers.pagination import cursor_key
from roster.body_limit import LimitedBody
from roster.console import (
    MAX_SIGN_IN_BYTES,
    console_page,
    delete_session,
    get_session,
    post_session,
)
from roster.console_assets import console_assets, console_file
from roster.downloads import ExportLinks, download_export, load_signing_key
from roster.error_log import keep_query_strings_out_of_access_log
from roster.graphql_schema import build_schema
from roster.graphql_view import GRAPHIQL_ASSETS, RosterGraphQL
from roster.httperrors import EXCEPTION_HANDLERS
from roster.revocation import OpenSockets
from roster.security_headers import SecurityHeaders
from roster.set_password import MAX_BODY_BYTES, get_set_password, post_set_password
from roster.settings import Settings
from roster.tokencache import TokenCache
from roster.uploads import error_report, post_import


class State(TypedDict):
    settings: Settings
    pool: Pool
    # The job queue's client, a Redis client too: it serves jobs, pub/sub and health.
    redis: Queue
    executor: Executor
    relay: JobRelay
    sockets: OpenSockets
    # Active tokens already seen, forgotten on PostgreSQL's word (roster.tokencache).
    tokens: TokenCache
    cursor_key: bytes
    # Signs and checks export download links (roster.downloads).
    signing_key: bytes
    export_link: Callable[[str, datetime], str | None]
    # Where webhooks may go: a URL is checked when registered (jobs.addresses).
    webhook_addresses: AddressPolicy


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with request.state.pool.acquire(timeout=2) as conn:
            await ping(conn)
        checks["postgres"] = "ok"
    except Exception as e:  # a readiness probe reports every failure, whatever its kind
        checks["postgres"] = f"error: {type(e).__name__}"
    try:
        await request.state.redis.ping()
        checks["redis"] = "ok"
        # Informative only: the API serves without workers, jobs then wait in the queue.
        checks["worker"] = "ok" if await request.state.redis.exists(HEARTBEAT_KEY) else "none seen"
    except Exception as e:
        checks["redis"] = f"error: {type(e).__name__}"
    ready = checks["postgres"] == "ok" and checks["redis"] == "ok"
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status_code=200 if ready else 503
    )


async def load_cursor_key(settings: Settings, pool: Pool) -> bytes:
    """From ROSTER_CURSOR_SECRET, else from the secret the migrations made for the database,
    which every instance reads alike."""
    secret: str | bytes | None = settings.cursor_secret
    if secret is None:
        async with pool.acquire() as conn:
            secret = await secrets.get_secret(conn, "cursor")
        if secret is None:
            raise RuntimeError("The database has no cursor secret: run `roster migrate`.")
    return cursor_key(secret)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    keep_query_strings_out_of_access_log()
    # Read and compressed now rather than by the first browser that asks.
    console_assets()
    graphql = RosterGraphQL(build_schema(settings), settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        pool = await create_pool(
            settings.database_url,
            max_size=settings.db_pool_size,
            custom_plans=True,
            session_state=False,
            # Row-level security holds whatever role DATABASE_URL names (db/tenancy.py).
            role=APP_ROLE,
        )
        try:
            key = await load_cursor_key(settings, pool)
            redis = await connect_queue(settings.redis_url)
            executor = hashing_pool(settings.hash_workers)
            relay = JobRelay(redis)
            await relay.start()
            sockets = OpenSockets(pool)
            await sockets.start()
            token_cache = TokenCache(settings.database_url, on_change=sockets.token_changed)
            await token_cache.start()
            signing_key = await load_signing_key(pool)
            # What the app made to start (the schema, its types, the modules) lives as long as
            # the process: kept out of the garbage collector's full passes, which walked all of
            # it (38 ms each, two in 10,000 requests for one user; GC's share of the CPU went
            # from 2.3% to 1.3%).
            gc.freeze()
            try:
                yield {
                    "settings": settings,
                    "pool": pool,
                    "redis": redis,
                    "executor": executor,
                    "relay": relay,
                    "sockets": sockets,
                    "tokens": token_cache,
                    "cursor_key": key,
                    "signing_key": signing_key,
                    "export_link": ExportLinks(
                        signing_key, settings.public_url, settings.export_link_ttl
                    ),
                    "webhook_addresses": settings.webhook_addresses(),
                }
            finally:
                await token_cache.stop()
                await sockets.stop()
                await relay.stop()
                executor.shutdown(cancel_futures=True)
                await close_queue(redis)
        finally:
            await pool.close()

    return Starlette(
        routes=[
            # First: the router tries each route's pattern in turn, on every request.
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/imports", post_import, methods=["POST"]),
            Route("/jobs/{id}/errors.csv", error_report, methods=["GET"]),
            Route("/set-password", get_set_password, methods=["GET"]),
            # Its form bounded as /graphql bounds a document, and refused alike.
            Route(
                "/set-password",
                LimitedBody(request_response(post_set_password), MAX_BODY_BYTES),
                methods=["POST"],
            ),
            Route("/exports/{id}.csv", download_export, methods=["GET"]),
            WebSocketRoute("/graphql", graphql),
            # The sign-in's body bounded as the set-password form's is: it needs no token.
            Route(
                "/console/session",
                LimitedBody(request_response(post_session), MAX_SIGN_IN_BYTES),
                methods=["POST"],
            ),
            Route("/console/session", get_session, methods=["GET"]),
            Route("/console/session", delete_session, methods=["DELETE"]),
            Route("/console/static/{path:path}", console_file, methods=["GET"]),
            Route("/console", console_page, methods=["GET"]),
            Route("/console/{path:path}", console_page, methods=["GET"]),
            Mount("/static/graphiql", StaticFiles(directory=GRAPHIQL_ASSETS), name="graphiql"),
        ],
        lifespan=lifespan,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[Middleware(SecurityHeaders)],
    )
