"""The welcome e-mail: its language, its link and its text (plain and HTML), in English and
Spanish. No I/O: the e-mail job sends what this builds."""

import hashlib
import html
import secrets
from dataclasses import dataclass
from urllib.parse import quote

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
# 32 random bytes: 256 bits, far above the 128 a link that opens an account needs.
TOKEN_BYTES = 32


def language_of(tag: str | None) -> str:
    """The supported language for a user's language tag: `es-MX` and `ES_es` are Spanish;
    English when the tag is missing or names a language without templates."""
    primary = (tag or "").strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> bytes:
    """What is stored of a link's token. A fast hash suffices: the token is random, not a
    password someone chose."""
    return hashlib.sha256(token.encode()).digest()


def set_password_link(public_url: str, token: str) -> str:
    """Built from PUBLIC_URL only, never from a request's Host header."""
    return f"{public_url.rstrip('/')}/set-password?token={quote(token, safe='')}"


@dataclass(frozen=True, slots=True)
class Welcome:
    subject: str
    text: str
    html: str


_TEXTS = {
    "en": {
        "subject": "Welcome to {org}: set your password",
        "greeting": "Hello {name},",
        "body": "An account has been created for you at {org}, with the username {username}.",
        "action": "Choose your password here:",
        "button": "Set my password",
        "expiry": "The link works once and expires in {hours} hours. If it has expired, ask "
        "your administrator for a new welcome e-mail.",
        "ignore": "If you did not expect this e-mail, you can ignore it.",
    },
    "es": {
        "subject": "Te damos la bienvenida a {org}: elige tu contraseña",
        "greeting": "Hola, {name}:",
        "body": "Se ha creado una cuenta para ti en {org}, con el nombre de usuario {username}.",
        "action": "Elige tu contraseña aquí:",
        "button": "Elegir mi contraseña",
        "expiry": "El enlace sirve una sola vez y caduca en {hours} horas. Si ha caducado, pide "
        "a tu administrador un nuevo correo de bienvenida.",
        "ignore": "Si no esperabas este correo, puedes ignorarlo.",
    },
}


def welcome(
    *, language: str, first_name: str, username: str, organisation: str, link: str, hours: int
) -> Welcome:
    """The welcome e-mail in `language` (one of LANGUAGES)."""
    t = _TEXTS[language]
    values = {"org": organisation, "name": first_name, "username": username, "hours": hours}
    said = {key: text.format(**values) for key, text in t.items()}
    plain = "\n\n".join(
        [
            said["greeting"],
            said["body"],
            f"{said['action']}\n{link}",
            said["expiry"],
            said["ignore"],
        ]
    )
    escaped = {
        key: text.format(**{k: html.escape(str(v)) for k, v in values.items()})
        for key, text in t.items()
    }
    href = html.escape(link, quote=True)
    page = (
        f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{escaped['subject']}</title></head>\n"
        '<body style="font-family: sans-serif; line-height: 1.5; color: #1a1a1a">\n'
        f"<p>{escaped['greeting']}</p>\n<p>{escaped['body']}</p>\n"
        f'<p><a href="{href}" style="display: inline-block; padding: 0.6em 1.2em; '
        f'background: #1f4fbf; color: #ffffff; text-decoration: none; border-radius: 4px">'
        f"{escaped['button']}</a></p>\n"
        f'<p>{escaped["action"]}<br><a href="{href}">{html.escape(link)}</a></p>\n'
        f"<p>{escaped['expiry']}</p>\n<p>{escaped['ignore']}</p>\n</body></html>\n"
    )
    return Welcome(subject=said["subject"], text=plain + "\n", html=page)
