"""The roles every permission test walks through, in one place.

`ROLES` are the keys of the `network` fixture's `users` (tests/conftest.py):
one user per role, plus a signed-in user with no role at all. Matrices that
also try the anonymous visitor use `ROLES_AND_ANONYMOUS`."""

ROLES = [
    "national_admin",
    "province_manager",
    "office_manager",
    "facilitator",
    "agency_liaison",
    "analyst",
    "no_role",
]
ROLES_AND_ANONYMOUS = [*ROLES, "anonymous"]
