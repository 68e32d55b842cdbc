"""Helpers shared by the account tests: throwaway accounts (never the demo ones other tests use)."""
import contextlib
import itertools
import re

from sqlalchemy import select

from models import AuditLog, Operator, SmsMessage

PASSWORD = "Secret2026x"
_seq = itertools.count(1)


def new_account(db, role="InstitutionOperator", institution=None, password=PASSWORD, **values):
    """A fresh account with its own name and mobile number."""
    from app.extensions import appbuilder
    n = next(_seq)
    import os
    tag = f"{os.getpid() % 1000:03d}{n:03d}"
    username = values.pop("username", f"acct{tag}")
    user = appbuilder.sm.add_user(username, "测", "试", f"{username}@test.invalid", [appbuilder.sm.find_role(role)],
                                  password=password)
    user.institution_id = institution.id if institution else None
    user.phone = values.pop("phone", f"1590000{tag[-4:]}")
    for k, v in values.items():
        setattr(user, k, v)
    db.session.commit()
    return user


def reload(db, user):
    db.session.expire_all()
    return db.session.get(Operator, user.id)


def last_code(db, phone):
    """The code of the last SMS to this phone, as only the sandbox can unseal it (the body masks it)."""
    from app.services import verification
    msg = db.session.scalar(select(SmsMessage).where(SmsMessage.phone == phone).order_by(SmsMessage.id.desc()))
    assert not re.search(r"\d{6}", msg.body), "the outbox keeps the code masked"
    return verification.reveal(msg)


def audit_actions(db, username):
    db.session.expire_all()
    return [a.action for a in db.session.scalars(
        select(AuditLog).where(AuditLog.username == username).order_by(AuditLog.id))]


# --- a throwaway CA ----------------------------------------------------------------------------
def make_ca(name="测试CA"):
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def issue(ca_key, ca_cert, common_name, days=(-1, 365), kind="ec"):
    """A user certificate and its private key; days=(start, end) relative to now."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1()) if kind == "ec" else rsa.generate_private_key(65537, 2048)
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now + dt.timedelta(days=days[0])).not_valid_after(now + dt.timedelta(days=days[1]))
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def pem(obj):
    from cryptography.hazmat.primitives import serialization
    if hasattr(obj, "public_bytes") and not hasattr(obj, "private_bytes"):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def sign(key, data: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def trust(app, *ca_certs, path):
    """Point the app's CA trust store at a bundle of these CA certificates."""
    path.write_bytes(b"".join(pem(c) for c in ca_certs))
    app.config["REGISTRY_CA_TRUST_FILE"] = str(path)


@contextlib.contextmanager
def trusting(app, *ca_certs, path):
    """trust() for the duration of a block, then the previous trust store again."""
    before = app.config["REGISTRY_CA_TRUST_FILE"]
    trust(app, *ca_certs, path=path)
    try:
        yield
    finally:
        app.config["REGISTRY_CA_TRUST_FILE"] = before


def forget_request_globals(app):
    """The `db` fixture's app context is shared by every test request, and so is `g`: drop the
    signed-in user and the institution scope a request left there, as a real request would start
    and end without them. Returns the disconnect function."""
    from flask import g, request_finished, request_started

    def clear(sender, **extra):
        for key in ("_login_user", "institution_scope", "user"):
            g.pop(key, None)

    request_started.connect(clear, app)
    request_finished.connect(clear, app)

    def disconnect():
        request_started.disconnect(clear, app)
        request_finished.disconnect(clear, app)
    return disconnect
