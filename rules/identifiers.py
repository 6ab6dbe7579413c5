"""Text as people read it: NFC, usernames by PRECIS (RFC 8265), the characters no single-line
field may hold and those no multi-line one may, e-mail domains that imitate others, and
confusable skeletons (Unicode TS #39), which are equal for two identifiers that look alike."""

import gzip
import re
import unicodedata
from functools import cache, lru_cache
from importlib import resources

from precis_i18n import get_profile
from precis_i18n.profile import Profile

# Controls (category Cc: C0, DEL, C1), the line and paragraph separators, and the bidi
# embeddings, overrides and isolates (U+202A-202E, U+2066-2069), which make a name read
# backwards in an admin screen or a terminal (CVE-2021-42574 "Trojan Source").
REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# The same but for LF and tab, in text of several lines (an address): its lines end in LF
# (`with_lf` makes CR LF and CR one), and a tab there is as harmless as a space. U+2028/2029
# stay out: some screens break a line there and others do not, so the text reads two ways.
REFUSED_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

# Usernames are stored case-mapped (lower case), as RFC 8265 compares them: what a screen shows
# is then what is compared, and "Ian" cannot pass for "lan". E-mail addresses keep their case
# (some servers tell local parts apart by it) and get the rest of the rules.
_USERNAME = get_profile("UsernameCaseMapped")
_EMAIL = get_profile("UsernameCasePreserved")

# Scripts that write one language together (UTS #39 "Highly Restrictive"): Japanese, Chinese
# with Bopomofo, Korean, each also beside Latin.
_SCRIPT_SETS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_SCRIPT_OF_NAME = {"CJK": "HAN", "KATAKANA-HIRAGANA": "KATAKANA"}


def has_refused(text: str) -> bool:
    """Whether `text` holds a character refused in every single-line field."""
    return REFUSED.search(text) is not None


def has_refused_in_lines(text: str) -> bool:
    """Whether `text` (its line ends made LF by `with_lf`) holds a character refused in every
    multi-line field."""
    return REFUSED_IN_LINES.search(text) is not None


def with_lf(text: str) -> str:
    """`text` with each line ending in LF: CR LF (Windows, HTTP forms) and a lone CR (old Macs)
    are stored as one LF, so that the text, its exports and their imports agree byte for byte."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def nfc(text: str) -> str:
    # is_normalized answers most text (ASCII among it) without building a copy.
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def username_form(text: str) -> str | None:
    """The username as stored (RFC 8265 UsernameCaseMapped: fullwidth and halfwidth forms
    mapped to their usual width, lower case, NFC; letters, digits and ASCII punctuation only,
    no spaces or compatibility characters such as ﬁ), or None when it cannot be one."""
    form = _enforced(_USERNAME, text)
    return form.lower() if form is not None and form.isascii() else form


def _enforced(profile: Profile, text: str) -> str | None:
    if text.isascii():
        # The profiles keep printable ASCII as it is, but for the space (and case, mapped by
        # the caller): the shortcut a million-row import takes.
        return None if " " in text or has_refused(text) else text
    try:
        return profile.enforce(text)
    except UnicodeError:
        return None


def email_form(text: str) -> str | None:
    """The e-mail as stored: the username rules but for case (RFC 8265 UsernameCasePreserved)
    for the whole address, the domain in lower case; None when it cannot be one, or when its
    domain imitates another (see `imitating_domain`)."""
    form = _enforced(_EMAIL, text)
    if form is None:
        return None
    local, at, domain = form.rpartition("@")
    if not at:
        return form  # not an address at all: the e-mail pattern says so
    domain = domain.lower()
    if (not domain.isascii() or "xn--" in domain) and imitating_domain(domain):
        return None
    return f"{local}@{domain}"


def imitating_domain(domain: str) -> bool:
    """Whether a domain name imitates another: a label mixing scripts (gmаil with a Cyrillic
    а) or one of another script that reads as ASCII (аррӏе, all Cyrillic, reads as apple).
    A label in one script, such as пример.рф or 例え.jp, is a real name. Labels in their
    ASCII form (xn--…, RFC 3492) are read as what they encode."""
    for label in domain.split("."):
        if label.startswith("xn--"):
            try:
                label = label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                return True  # not a name a resolver would look up
        if label.isascii():
            continue
        scripts = {_script(c) for c in label if c.isalpha()}
        if len(scripts) > 1 and not any(scripts <= allowed for allowed in _SCRIPT_SETS):
            return True
        if skeleton(label).isascii():
            return True
    return False


def _script(letter: str) -> str:
    # The standard library has no Script property; a letter's name starts with its script
    # (LATIN SMALL LETTER A, CYRILLIC SMALL LETTER A, CJK UNIFIED IDEOGRAPH-4E00, ...).
    word = unicodedata.name(letter, "UNKNOWN").split(" ", 1)[0]
    return _SCRIPT_OF_NAME.get(word, word)


# An import asks for a row's skeletons at each step of its chunk (claims, look-up, plan, the
# waits between chunks): each is computed once for the chunks being read and written.
@lru_cache(maxsize=1 << 15)
def skeleton(text: str) -> str:
    """The confusable skeleton of `text` case-folded (UTS #39 section 4: NFD, each character
    mapped by confusables.txt, NFD again; folded before, as identifiers here ignore case, and
    after, as some prototypes are capitals): equal for two strings that look alike ("аdmin"
    with a Cyrillic а, "adrnin" and "admin")."""
    folded = text.casefold()
    if folded.isascii():
        # NFD leaves ASCII as it is, and so it does what the ASCII rows map to.
        return folded.translate(_table()).casefold()
    mapped = unicodedata.normalize("NFD", folded).translate(_table())
    return unicodedata.normalize("NFD", mapped).casefold()


@cache
def _table() -> dict[int, str]:
    """confusables.txt as a str.translate table: every source there is one code point (its
    targets may be several), so one pass of translate maps a whole string."""
    data = (resources.files("rules") / "data" / "confusables.txt.gz").read_bytes()
    table = {}
    for line in gzip.decompress(data).decode("ascii").splitlines():
        source, *target = line.split()
        table[int(source, 16)] = "".join(chr(int(t, 16)) for t in target)
    return table
