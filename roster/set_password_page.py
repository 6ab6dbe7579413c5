"""The set-password page's HTML, in English and Spanish: one small self-contained document (no
scripts, no external assets) for the form, the success and every refusal."""

import html

# A form the page cannot read (not UTF-8): nothing was tried, the link still works.
FORM_INVALID = "FORM_INVALID"

_STYLE = """
body { font-family: system-ui, sans-serif; line-height: 1.5; color: #1a1a1a; background: #f5f6f8;
       margin: 0; }
main { max-width: 28rem; margin: 3rem auto; padding: 2rem; background: #fff; border-radius: 8px;
       box-shadow: 0 1px 4px rgba(0, 0, 0, .12); }
h1 { font-size: 1.5rem; margin-top: 0; }
label { display: block; font-weight: 600; margin-top: 1rem; }
input[type=password] { box-sizing: border-box; width: 100%; font-size: 1rem; padding: .5rem;
       border: 1px solid #767676; border-radius: 4px; }
input:focus, button:focus { outline: 3px solid #1f4fbf; outline-offset: 2px; }
button { margin-top: 1.5rem; font-size: 1rem; padding: .6rem 1.2rem; border: 0; border-radius: 4px;
       background: #1f4fbf; color: #fff; cursor: pointer; }
.hint { color: #4a4a4a; font-size: .9rem; margin: .25rem 0 0; }
.error { color: #a30000; background: #fdecec; border-left: 4px solid #a30000;
         padding: .5rem .75rem; }
.done { color: #0b5b1e; background: #e8f5ec; border-left: 4px solid #0b5b1e;
        padding: .5rem .75rem; }
"""

TEXTS = {
    "en": {
        "title": "Choose your password",
        "account": "For the account <strong>{username}</strong>.",
        "password": "New password",
        "hint": "At least {min} characters. A few unrelated words make a good one.",
        "confirm": "Repeat the new password",
        "submit": "Set my password",
        "done_title": "Your password is set",
        "done": "Your password has been set. You can now sign in with it on your organisation's "
        "platforms. This link no longer works.",
        "bad_title": "This link does not work",
        "LINK_UNKNOWN": "This link is not valid: it may be incomplete, or a newer welcome e-mail "
        "has replaced it. Use the link of your latest welcome e-mail, or ask your administrator "
        "for a new one.",
        "LINK_EXPIRED": "This link has expired. Ask your administrator for a new welcome e-mail.",
        "LINK_USED": "This link has been used already: a password was set with it. If that was "
        "not you, tell your administrator.",
        "USER_DISABLED": "This account is disabled. Ask your administrator.",
        "RATE_LIMITED": "Too many attempts. Wait a few minutes and try again.",
        "PASSWORDS_DIFFER": "The two passwords are not the same.",
        "form_title": "The form could not be read",
        "FORM_INVALID": "Your browser sent the form in a way this page cannot read (not as "
        "UTF-8). Nothing has changed: open the link from your e-mail again and retry.",
    },
    "es": {
        "title": "Elige tu contraseña",
        "account": "Para la cuenta <strong>{username}</strong>.",
        "password": "Contraseña nueva",
        "hint": "Al menos {min} caracteres. Unas cuantas palabras sin relación entre sí son una "
        "buena contraseña.",
        "confirm": "Repite la contraseña nueva",
        "submit": "Guardar mi contraseña",
        "done_title": "Tu contraseña está guardada",
        "done": "Se ha guardado tu contraseña. Ya puedes usarla para entrar en las plataformas "
        "de tu organización. Este enlace ya no sirve.",
        "bad_title": "Este enlace no sirve",
        "LINK_UNKNOWN": "Este enlace no es válido: puede estar incompleto, o un correo de "
        "bienvenida más reciente lo ha sustituido. Usa el enlace de tu último correo de "
        "bienvenida o pide uno nuevo a tu administrador.",
        "LINK_EXPIRED": "Este enlace ha caducado. Pide a tu administrador un nuevo correo de "
        "bienvenida.",
        "LINK_USED": "Este enlace ya se ha usado para elegir una contraseña. Si no fuiste tú, "
        "avisa a tu administrador.",
        "USER_DISABLED": "Esta cuenta está desactivada. Consulta a tu administrador.",
        "RATE_LIMITED": "Demasiados intentos. Espera unos minutos y vuelve a probar.",
        "PASSWORDS_DIFFER": "Las dos contraseñas no coinciden.",
        "form_title": "No se ha podido leer el formulario",
        "FORM_INVALID": "Tu navegador ha enviado el formulario de una forma que esta página no "
        "puede leer (no en UTF-8). No ha cambiado nada: vuelve a abrir el enlace de tu correo "
        "e inténtalo de nuevo.",
        # The password policy's refusals (rules/passwords.py), by code.
        "PASSWORD_TOO_SHORT": "La contraseña debe tener al menos {min} caracteres.",
        "PASSWORD_TOO_LONG": "La contraseña debe tener como máximo 256 caracteres.",
        "PASSWORD_TOO_COMMON": "Esta contraseña es demasiado común; elige otra.",
        "PASSWORD_CONTAINS_IDENTIFIER": "La contraseña no debe contener el nombre de usuario "
        "ni la dirección de correo.",
        "PASSWORD_TOO_WEAK": "Esta contraseña es demasiado fácil de adivinar: evita secuencias, "
        "repeticiones, recorridos del teclado y palabras comunes con números.",
    },
}


def _document(language: str, title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n<h1>{html.escape(title)}</h1>\n{body}</main>\n</body>\n</html>\n"
    )


def message(language: str, code: str, *, fallback: str | None = None, min_length: int = 0) -> str:
    """The page's words for a refusal `code`; the policy's own (English) message where this
    language has none."""
    text = TEXTS[language].get(code) or fallback or TEXTS["en"].get(code) or code
    return text.format(min=min_length)


def form_page(
    language: str,
    *,
    action: str,
    token: str,
    username: str,
    min_length: int,
    error: str | None = None,
) -> str:
    t = TEXTS[language]
    described = "password-hint error" if error else "password-hint"
    invalid = ' aria-invalid="true"' if error else ""
    alert = f'<p class="error" id="error" role="alert">{html.escape(error)}</p>\n' if error else ""
    body = (
        f"<p>{t['account'].format(username=html.escape(username))}</p>\n{alert}"
        f'<form method="post" action="{html.escape(action, quote=True)}">\n'
        f'<input type="hidden" name="token" value="{html.escape(token, quote=True)}">\n'
        # For password managers, which file the new password under this username.
        f'<input type="text" name="username" value="{html.escape(username, quote=True)}" '
        'autocomplete="username" hidden readonly>\n'
        f'<label for="password">{t["password"]}</label>\n'
        '<input type="password" id="password" name="password" autocomplete="new-password" '
        f'required minlength="{min_length}" maxlength="256" '
        f'aria-describedby="{described}"{invalid}>\n'
        f'<p class="hint" id="password-hint">{t["hint"].format(min=min_length)}</p>\n'
        f'<label for="confirm">{t["confirm"]}</label>\n'
        '<input type="password" id="confirm" name="confirm" autocomplete="new-password" '
        f'required maxlength="256"{invalid}>\n'
        f'<button type="submit">{t["submit"]}</button>\n</form>\n'
    )
    return _document(language, t["title"], body)


def done_page(language: str) -> str:
    t = TEXTS[language]
    return _document(language, t["done_title"], f'<p class="done" role="status">{t["done"]}</p>\n')


def refused_page(language: str, code: str) -> str:
    t = TEXTS[language]
    title = t["form_title"] if code == FORM_INVALID else t["bad_title"]
    return _document(
        language, title, f'<p class="error" role="alert">{message(language, code)}</p>\n'
    )
