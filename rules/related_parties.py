"""Related organisations, against lending on fake orders (刷单).

A supplier that "sells" to a company it controls can manufacture receivables at will; lending
against such orders is how one platform's bad-debt rate reached 8% (issue 11). A buyer and a
supplier are related here when any of these holds:

- they are the same organisation;
- a user belongs to both (the same mailbox once normalised: case and "+tag" aside);
- their unified social credit codes share the organisation-code body (the same legal entity,
  re-registered or registered twice: see ``credit_code_root``);
- their registered addresses are the same once written the same way (full-width digits,
  spaces and punctuation aside).

Each reason is a sentence naming what was shared, for the finance reviewer and the refusal.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from rules.credit_code import LENGTH

_ROOT = slice(8, 17)  # positions 9-17: the GB 11714 organisation code with its check character


@dataclass(frozen=True, slots=True)
class PartyFacts:
    org_id: str
    credit_code: str
    registered_address: str | None
    user_emails: frozenset[str]


def credit_code_root(code: str) -> str:
    """The organisation-code body of a GB 32100-2015 code: characters 9-17 ([8:17]).

    The first eight characters say who registered the entity and where (authority, category,
    administrative division: rules/credit_code.py), and change when it moves or re-registers
    with another authority; the organisation code (主体标识码, GB 11714) is issued once to the
    legal entity and carried across, so two codes with the same body are the same entity.
    """
    normalised = code.strip().upper()
    if len(normalised) != LENGTH:
        raise ValueError(f"a credit code has {LENGTH} characters, got {len(normalised)}")
    return normalised[_ROOT]


def _dropped(char: str) -> bool:
    # P*: punctuation, ASCII and CJK alike (the ideographic comma and full stop, full-width
    # brackets, the middle dot); Z*: spaces; C*: controls.
    return char.isspace() or unicodedata.category(char)[0] in "PZC"


def normalise_address(text: str) -> str:
    """An address written one way: NFKC (full-width to ASCII), case-folded, without spaces
    or punctuation, so 上海市 浦东新区 世纪大道100号 == 上海市浦东新区世纪大道１００号."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in folded if not _dropped(char))


def normalise_email(email: str) -> str:
    """A mailbox written one way: case-folded, without a "+tag" in the local part."""
    local, at, domain = email.strip().casefold().rpartition("@")
    if not at:
        return domain  # no "@": nothing to split, compared as written
    return f"{local.split('+', 1)[0]}@{domain}"


def _mailboxes(emails: frozenset[str]) -> set[str]:
    # A blank or malformed address names nobody, so it cannot make two organisations related.
    normalised = (normalise_email(e) for e in emails)
    return {e for e in normalised if "@" in e and not e.startswith("@")}


def _root_or_none(code: str) -> str | None:
    try:
        return credit_code_root(code)
    except ValueError:
        return None


def related_party_reasons(a: PartyFacts, b: PartyFacts) -> tuple[str, ...]:
    """Why ``a`` and ``b`` are related (module docstring); empty when they are not."""
    reasons: list[str] = []
    if a.org_id == b.org_id:
        reasons.append(f"both are organisation {a.org_id}")
    shared = _mailboxes(a.user_emails) & _mailboxes(b.user_emails)
    if shared:
        reasons.append(f"users in both organisations: {', '.join(sorted(shared))}")
    root = _root_or_none(a.credit_code)
    if root is not None and root == _root_or_none(b.credit_code):
        reasons.append(
            f"credit codes {a.credit_code} and {b.credit_code} share the organisation code {root}"
        )
    address_a = normalise_address(a.registered_address or "")
    if address_a and address_a == normalise_address(b.registered_address or ""):
        reasons.append(f"the same registered address: {a.registered_address}")
    return tuple(reasons)
