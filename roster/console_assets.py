"""The console's files as a browser gets them: read into memory once and compressed once, under
an address that names the version of the whole set (/console/static/<version>/app.js), so that
a browser keeps them for a year without asking again, and asks for new ones when Roster is
upgraded (the page, never cached, names the new version). One version for every file: the
modules import each other by relative paths, which stay within it."""

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

CONSOLE_ASSETS = Path(__file__).parent / "static" / "console"
STATIC_PREFIX = "/console/static/"
# What a versioned address may be kept for: its content never changes.
IMMUTABLE = "public, max-age=31536000, immutable"
# An address without the version (or of another version than this server's) may change.
REVALIDATE = "no-cache"
# Smaller than this, compression saves less than it costs a browser to undo.
MIN_COMPRESSED_BYTES = 1024
VERSION_CHARACTERS = 12


@dataclass(frozen=True)
class Representation:
    body: bytes
    etag: str


@dataclass(frozen=True)
class Asset:
    plain: Representation
    # The same compressed, when that makes it smaller.
    gzipped: Representation | None
    media_type: str


@dataclass(frozen=True)
class Assets:
    version: str
    files: dict[str, Asset]


def _media_type(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    media_type = guessed or "application/octet-stream"
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type


def _asset(path: Path) -> Asset:
    body = path.read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:VERSION_CHARACTERS]
    gzipped = None
    if len(body) >= MIN_COMPRESSED_BYTES:
        packed = gzip.compress(body, 9, mtime=0)
        if len(packed) < len(body):
            # Each representation its own tag: a cache must not answer one for the other.
            gzipped = Representation(packed, f'"{digest}-gzip"')
    return Asset(Representation(body, f'"{digest}"'), gzipped, _media_type(path))


@cache
def console_assets() -> Assets:
    """Every file under CONSOLE_ASSETS but the page, by its path there (read once a process: a
    changed file is served after a restart)."""
    paths = sorted(p for p in CONSOLE_ASSETS.rglob("*") if p.is_file() and p.name != "index.html")
    files = {p.relative_to(CONSOLE_ASSETS).as_posix(): _asset(p) for p in paths}
    whole = hashlib.sha256()
    for name, asset in files.items():
        whole.update(f"{name}\0{asset.plain.etag}\0".encode())
    return Assets(whole.hexdigest()[:VERSION_CHARACTERS], files)


def versioned(page: str) -> str:
    """The page with its files' addresses under this set's version."""
    return page.replace(f'"{STATIC_PREFIX}', f'"{STATIC_PREFIX}{console_assets().version}/')


def _find(assets: Assets, path: str) -> tuple[Asset, str] | None:
    """The file at `path` and how long it may be kept."""
    version, _, rest = path.partition("/")
    if version == assets.version and rest in assets.files:
        return assets.files[rest], IMMUTABLE
    if path in assets.files:
        return assets.files[path], REVALIDATE
    # A page opened before an upgrade asks for a screen's module under its old version: today's
    # file, kept no longer than it stays today's.
    if len(version) == VERSION_CHARACTERS and rest in assets.files:
        return assets.files[rest], REVALIDATE
    return None


async def console_file(request: Request) -> Response:
    """GET /console/static/<version>/<path>, or /console/static/<path>: one of the console's
    files, compressed when the browser takes gzip."""
    found = _find(console_assets(), request.path_params["path"])
    if found is None:
        return Response("Not Found", status_code=404, media_type="text/plain")
    asset, cache_control = found
    chosen = asset.plain
    headers = {"cache-control": cache_control, "vary": "accept-encoding"}
    if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        chosen = asset.gzipped
        headers["content-encoding"] = "gzip"
    headers["etag"] = chosen.etag
    if request.headers.get("if-none-match") == chosen.etag:
        headers.pop("content-encoding", None)
        return Response(status_code=304, headers=headers)
    return Response(chosen.body, media_type=asset.media_type, headers=headers)
