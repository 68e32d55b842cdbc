"""Ways of signing in (password, CA certificate, LDAP) and the rules around them (policy, lockout).

The security manager (app/security.py) dispatches to these; views/accounts.py renders them.
"""


class LoginRefused(Exception):
    """A sign-in attempt was refused; str() is the user-facing message (already translated)."""
