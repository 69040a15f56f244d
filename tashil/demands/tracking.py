"""Tracking codes and public ids as people type, print and send them.

A tracking code ("ACDE-3479") is the resident's key to their demand; a public
id ("PACDE34797") is what Open311 and the agency side call it. Both come in
with dashes, spaces, lower case and Persian or Arabic-Indic digits; this is
the one place that reads them."""

import re
import secrets

from tashil.core.text import to_ascii_digits

# Letters and digits that cannot be mistaken for each other on a phone screen
# or when read out over the phone (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G).
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
CODE_LENGTH = 8


def new_tracking_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# The public id is what Open311 and every other public or agency-facing
# surface call a demand. It is random like the tracking code, from the same
# alphabet, but longer and with its own prefix, so neither can be mistaken
# for the other, and knowing one tells nothing about the other. The tracking
# code stays a secret between the office and the resident.
PUBLIC_ID_PREFIX = "P"
PUBLIC_ID_LENGTH = 10  # prefix included


def new_public_id() -> str:
    return PUBLIC_ID_PREFIX + "".join(
        secrets.choice(CODE_ALPHABET) for _ in range(PUBLIC_ID_LENGTH - len(PUBLIC_ID_PREFIX))
    )


_ALPHABET = frozenset(CODE_ALPHABET)
# A typed code forgives any separator; a search query only spaces and dashes,
# since anything else means the query is text, not a code.
_SEPARATORS = re.compile(r"[^0-9A-Z]")
_SEARCH_SEPARATORS = re.compile(r"[\s\-]")
SEARCH_PREFIX_LENGTHS = (4, 12)


def _compact(raw, separators=_SEPARATORS) -> str:
    return separators.sub("", to_ascii_digits(raw or "").upper())


def parse_code(raw: str | None) -> str | None:
    """'acde-3479', 'ACDE 3479', Persian digits… → 'ACDE3479'; None when it
    cannot be a tracking code."""
    code = _compact(raw)
    if len(code) != CODE_LENGTH or not set(code) <= _ALPHABET:
        return None
    return code


def parse_public_id(raw: str | None) -> str | None:
    """A public id as a client may send it (any case, digits or dashes);
    None when it cannot be one."""
    public_id = _compact(raw)
    if (
        len(public_id) != PUBLIC_ID_LENGTH
        or not public_id.startswith(PUBLIC_ID_PREFIX)
        or not set(public_id) <= _ALPHABET
    ):
        return None
    return public_id


def search_prefix(query: str | None) -> str | None:
    """The start of a tracking code or public id a search query looks like."""
    candidate = _compact(query, _SEARCH_SEPARATORS)
    low, high = SEARCH_PREFIX_LENGTHS
    if low <= len(candidate) <= high and set(candidate) <= _ALPHABET:
        return candidate
    return None


def display_code(code: str) -> str:
    """'ACDE3479' → 'ACDE-3479', the form printed on receipts and pages."""
    half = CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"
