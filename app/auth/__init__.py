"""Ways of signing in (password, CA certificate, LDAP) and the rules around them (policy, lockout).

The security manager (app/security.py) dispatches to these; views/accounts.py renders them.
"""


class LoginRefused(Exception):
    """A sign-in attempt was refused; str() is the user-facing message (already translated), reason
    the code the login log records (app/login_log.py REASONS; None: the sign-in method's own)."""

    def __init__(self, message, reason=None):
        super().__init__(message)
        self.reason = reason
