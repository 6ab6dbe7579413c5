"""Every HTTP error Roster answers outside a GraphQL response (401, 403, 404, 405, 413, 415, a
bad option of POST /imports, …) has one JSON shape, whatever refused the request:

    {"error": {"code": "UNAUTHORIZED", "message": "…"}}

so that a client (or a person reading curl's output) handles them all one way."""

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
UNAUTHORIZED = "Send a valid token as `Authorization: Bearer <token>`."


def error_response(
    status: int,
    message: str,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    if status == 401:
        headers = {"www-authenticate": "Bearer", **(headers or {})}
    return JSONResponse(
        {"error": {"code": code or CODES.get(status, "HTTP_ERROR"), "message": message}},
        status_code=status,
        headers=headers,
    )


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, method not allowed) in Roster's shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"Nothing at {request.url.path}."
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("allow", "")
        message = f"{request.method} is not allowed on {request.url.path}; use {allowed}."
    else:
        message = exc.detail
    return error_response(exc.status_code, message, headers=exc.headers)


EXCEPTION_HANDLERS = {HTTPException: http_exception}
