"""Every HTTP error Roster answers outside a GraphQL response (401, 403, 404, 405, 413, 415, a
bad option of POST /imports, …) has one JSON shape, whatever refused the request:

    {"error": {"code": "UNAUTHORIZED", "message": "…"}}

so that a client (or a person reading curl's output) handles them all one way, and with the
security headers of every other answer (roster/security_headers.py): set here too, since the
answer to an unexpected exception is sent from outside the app's middleware."""

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from roster.auth import CrossOrigin
from roster.security_headers import CONTENT_SECURITY_POLICY, NOT_STORED, SECURITY_HEADERS

CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    500: "INTERNAL_ERROR",
}
UNAUTHORIZED = "Send a valid token as `Authorization: Bearer <token>`."
_SECURITY = {
    name.decode(): value.decode()
    for name, value in (*SECURITY_HEADERS, CONTENT_SECURITY_POLICY, NOT_STORED)
}


def error_response(
    status: int,
    message: str,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    answer_headers = dict(_SECURITY)
    if status == 401:
        answer_headers["www-authenticate"] = "Bearer"
    answer_headers.update(headers or {})
    return JSONResponse(
        {"error": {"code": code or CODES.get(status, "HTTP_ERROR"), "message": message}},
        status_code=status,
        headers=answer_headers,
    )


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, method not allowed) in Roster's shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"Nothing at {request.url.path}."
    elif exc.status_code == 405:
        # Starlette names the header "Allow": read whatever its case.
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        allowed = headers.get("allow", "")
        message = f"{request.method} is not allowed on {request.url.path}; use {allowed}."
    else:
        message = exc.detail
    return error_response(exc.status_code, message, headers=exc.headers)


async def cross_origin(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CrossOrigin)
    return error_response(403, str(exc), exc.code)


async def server_error(request: Request, exc: Exception) -> Response:
    """An exception nothing else caught, in Roster's shape and without its text (Starlette
    raises it again after this answer, for the server's log)."""
    return error_response(500, "Unexpected error.")


EXCEPTION_HANDLERS = {
    HTTPException: http_exception,
    CrossOrigin: cross_origin,
    Exception: server_error,
}
