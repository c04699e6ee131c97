"""Who may do what in a workspace, and how a caller is known.

Roles are kept in the workspace (`members`): a *reviewer* decides and may revise or retract their own
decisions; a *lead* may also replace or retract another reviewer's decision and approve or reject
proposed codes; an *admin* may also add members and point the workspace at another catalogue.
The workspace issues each member a token (shown once, stored only as its SHA-256); a server off
loopback knows its caller by that token (`X-Indicode-Token`) and checks the role. On the machine
itself (the command line, a server on loopback) the caller is the local user, who could open the
file anyway: every right is granted, and only the explicit-replace rule applies.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    REVIEWER = "reviewer"
    LEAD = "lead"
    ADMIN = "admin"


class Right(StrEnum):
    DECIDE = "decide"
    REPLACE = "replace"  # replace or retract another reviewer's decision
    APPROVE = "approve"  # approve or reject proposed codes
    MANAGE = "manage"  # members and the catalogue


RIGHTS: dict[Role, frozenset[Right]] = {
    Role.REVIEWER: frozenset({Right.DECIDE}),
    Role.LEAD: frozenset({Right.DECIDE, Right.REPLACE, Right.APPROVE}),
    Role.ADMIN: frozenset(Right),
}


@dataclass(frozen=True)
class Caller:
    """Who is asking: a member (by token) or the local user (`LOCAL`, every right)."""

    name: str
    role: Role

    def may(self, right: Right) -> bool:
        return right in RIGHTS[self.role]


LOCAL = Caller("", Role.ADMIN)


@dataclass(frozen=True)
class Member:
    name: str
    role: Role
    at: str


def new_token() -> str:
    return "ix_" + secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
