"""CA certificate login: the certificate bound to an operator, the trusted CAs, and the nonce signature.

The browser signs a one-time server nonce (kept in the ca_login_nonce table) with the private key
that belongs to the bound certificate (views/accounts.py + app/static/js/ca_login.js). Here we
check, in this order, that the certificate is within its validity, that a configured CA issued it,
and that the signature over the nonce verifies with the certificate's public key. Each refusal says which check failed.
"""
import base64
import datetime as dt
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from flask import current_app, session
from flask_babel import format_datetime, gettext as _
from sqlalchemy import delete

from app.extensions import db
from models import CaLoginNonce
from models.base import utcnow

from . import LoginRefused

NONCE_SECONDS = 300


def load_certificate(data: bytes) -> x509.Certificate:
    """A PEM or DER certificate; ValueError with a user-facing message when it is neither."""
    data = data.strip() if data else b""
    try:
        if data.startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise ValueError(_("The file is not an X.509 certificate (PEM or DER)")) from None


def describe(cert: x509.Certificate) -> dict:
    """What the administrator sees when binding: subject, issuer, serial and validity (naive UTC)."""
    return dict(subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
                serial=format(cert.serial_number, "X"),
                not_before=cert.not_valid_before_utc.replace(tzinfo=None),
                not_after=cert.not_valid_after_utc.replace(tzinfo=None))


def trusted_cas() -> list:
    """The CA certificates in REGISTRY_CA_TRUST_FILE (a PEM bundle); none when the file is absent."""
    path = current_app.config.get("REGISTRY_CA_TRUST_FILE")
    if not path or not Path(path).is_file():
        return []
    return x509.load_pem_x509_certificates(Path(path).read_bytes())


def check_certificate(cert: x509.Certificate, now: dt.datetime = None) -> None:
    """Refuse a certificate outside its validity or not issued by one of the trusted CAs."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if now < cert.not_valid_before_utc:
        raise LoginRefused(_("The certificate is not valid before %(when)s",
                             when=format_datetime(cert.not_valid_before_utc)))
    if now > cert.not_valid_after_utc:
        raise LoginRefused(_("The certificate expired on %(when)s; ask your CA for a new one and have it bound again",
                             when=format_datetime(cert.not_valid_after_utc)))
    for ca in trusted_cas():
        if ca.subject != cert.issuer or not ca.not_valid_before_utc <= now <= ca.not_valid_after_utc:
            continue
        try:
            cert.verify_directly_issued_by(ca)
            return
        except (ValueError, TypeError, InvalidSignature):
            continue
    raise LoginRefused(_("The certificate was not issued by a trusted CA (issuer: %(issuer)s)",
                         issuer=cert.issuer.rfc4514_string()))


def verify_signature(cert: x509.Certificate, data: bytes, signature: bytes) -> None:
    """ECDSA P-256/SHA-256 (WebCrypto's raw r||s or DER) or RSA PKCS#1 v1.5/SHA-256."""
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            size = (key.curve.key_size + 7) // 8
            if len(signature) == 2 * size:  # WebCrypto gives IEEE P1363 r||s, cryptography wants DER
                signature = encode_dss_signature(int.from_bytes(signature[:size], "big"),
                                                 int.from_bytes(signature[size:], "big"))
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise LoginRefused(_("This kind of certificate key is not supported"))
    except InvalidSignature:
        raise LoginRefused(_("The signature does not match the bound certificate: "
                             "the key you chose does not belong to this certificate")) from None


def new_nonce() -> str:
    """A fresh nonce for this browser session, replacing any earlier one. The server keeps it (with
    its time) so that it can be used once only; expired ones are cleared as new ones are issued."""
    now = utcnow()
    db.session.execute(delete(CaLoginNonce).where(CaLoginNonce.issued_at < now - dt.timedelta(seconds=NONCE_SECONDS)))
    nonce = secrets.token_urlsafe(32)
    db.session.add(CaLoginNonce(nonce=nonce, issued_at=now))
    db.session.commit()
    session["ca_nonce"] = nonce
    return nonce


def take_nonce() -> str:
    """The session's nonce, usable once and only for NONCE_SECONDS: deleting the server's row is the
    use, so a replay (an old copy of the cookie, a second request at the same time) finds nothing."""
    nonce = session.pop("ca_nonce", None)
    taken = 0
    if isinstance(nonce, str):
        fresh = utcnow() - dt.timedelta(seconds=NONCE_SECONDS)
        taken = db.session.execute(delete(CaLoginNonce).where(
            CaLoginNonce.nonce == nonce, CaLoginNonce.issued_at >= fresh)).rowcount
        db.session.commit()
    if taken != 1:
        raise LoginRefused(_("The login page has expired; please refresh it and sign again"))
    return nonce


def decode_signature(value: str) -> bytes:
    try:
        return base64.b64decode(value or "", validate=True)
    except ValueError:
        raise LoginRefused(_("The signature could not be read; please refresh the page and try again")) from None
