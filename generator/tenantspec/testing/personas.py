"""Who the policy tests act as, derived from the project's levels.

Two workspaces, A and B. For every membership role the levels name: a member of A and a
member of B; for every ordered pair of roles, a user who holds the first in A and the second
in B; a signed-in user with no membership; anon; service_role; and signed-in users whose
token claims ``service_role`` (which must gain them nothing). Ids are fixed (uuid5 of a
name), so a failure names the same users on every run.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from itertools import product

from tenantspec.testing.values import fixed_id

WORKSPACES = ("A", "B")
_IAT, _EXP = 1_780_000_000, 4_102_444_800


@dataclass(frozen=True)
class Persona:
    """Who makes a request: a database role and, when signed in, a user and its memberships."""

    name: str
    user_id: uuid.UUID | None = None
    email: str | None = None
    memberships: tuple[tuple[str, str], ...] = ()  # (workspace, role)
    db_role: str = "authenticated"  # anon | authenticated | service_role
    claimed_role: str | None = None  # the token's role claim, when it says something else
    token: tuple[tuple[str, object], ...] = ()  # more claims (dotted keys): the membership the token carries

    def claims(self) -> dict:
        """The JWT claims PostgREST would put in request.jwt.claims."""
        if self.user_id is None:
            return {"iss": "supabase", "role": self.db_role, "iat": _IAT, "exp": _EXP}
        role = self.claimed_role or self.db_role
        claims = {
            "aud": "authenticated",
            "sub": str(self.user_id),
            "role": role,
            "email": self.email,
            "phone": "",
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {},
            "aal": "aal1",
            "is_anonymous": False,
            "iat": _IAT,
            "exp": _EXP,
        }
        if self.claimed_role:
            claims["app_metadata"] = {**claims["app_metadata"], "role": self.claimed_role}
        for path, value in self.token:
            *parents, last = path.split(".")
            place = claims
            for key in parents:
                place[key] = dict(place.get(key) or {})
                place = place[key]
            place[last] = value
        return claims

    def role_in(self, workspace: str) -> str | None:
        return dict(self.memberships).get(workspace)

    def kind_in(self, workspace: str) -> str:
        """The column of the intent that speaks for this persona on ``workspace``'s rows."""
        if self.db_role != "authenticated":
            return self.db_role
        return self.role_in(workspace) or ("other_member" if self.memberships else "outsider")


def _user(name: str, memberships: tuple[tuple[str, str], ...] = (), token=None) -> Persona:
    return Persona(name=name, user_id=fixed_id(f"user:{name}"), email=f"{name.lower()}@example.test",
                   memberships=memberships, token=token(memberships) if token and memberships else ())


def build_personas(roles: tuple[str, ...], levels: dict[str, tuple[str, ...]],
                   one_per_user: bool = False, token=None, sole: Collection[str] = ()) -> dict[str, Persona]:
    """Every persona the tests act as, by name (``one_per_user``: none of two workspaces).
    ``token``: the claims a user's memberships put in its token, where the token carries them;
    ``sole``: the roles one user at most holds in a workspace (its owner column's, a role a
    unique index allows one member), which no user of two workspaces holds."""
    personas: list[Persona] = []
    for ws in WORKSPACES:
        personas += [_user(f"{role}_{ws}", ((ws, role),), token) for role in roles]
    a, b = WORKSPACES
    paired = [role for role in roles if role not in sole]
    personas += [_user(f"{first}_{a}_{second}_{b}", ((a, first), (b, second)), token)
                 for first, second in product(paired, paired) if not one_per_user]
    outsider = _user("outsider")
    personas += [outsider, Persona("anon", db_role="anon"), Persona("service_role", db_role="service_role")]
    # Signed-in users whose token says service_role: the database role stays authenticated.
    weakest = least_privileged(roles, levels)
    for user in (outsider, next(p for p in personas if p.memberships == ((a, weakest),))):
        personas.append(Persona(name=f"{user.name}_claiming_service_role", user_id=user.user_id,
                                email=user.email, memberships=user.memberships,
                                claimed_role="service_role", token=user.token))
    return {p.name: p for p in personas}


def least_privileged(roles: tuple[str, ...], levels: dict[str, tuple[str, ...]]) -> str:
    """The role that the fewest levels admit (the last such in role order)."""
    return min(reversed(roles), key=lambda r: sum(r in admitted for admitted in levels.values()))


def most_privileged(roles: tuple[str, ...], levels: dict[str, tuple[str, ...]]) -> str:
    """The role that the most levels admit (the first such in role order)."""
    return max(roles, key=lambda r: (sum(r in admitted for admitted in levels.values()), -roles.index(r)))
