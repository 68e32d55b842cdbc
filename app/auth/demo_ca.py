"""`flask --app run demo-ca`: a demo CA for trying the CA login by hand (never for production).

Writes the CA to REGISTRY_CA_TRUST_FILE (unless one exists), issues a certificate for each
institution operator named on the command line (default: bank_a_op), binds it, and writes the
private key to instance/demo-keys/<username>.key: choose that file on the CA login tab.
"""
import datetime as dt
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from . import ca


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, issuer, public_key, signing_key, days, is_ca):
    now = dt.datetime.now(dt.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
            .sign(signing_key, hashes.SHA256()))


@click.command("demo-ca")
@click.argument("usernames", nargs=-1)
@with_appcontext
def demo_ca(usernames):
    from app.extensions import db
    from models import Operator, OperatorCertificate
    trust_file = Path(current_app.config["REGISTRY_CA_TRUST_FILE"])
    key_dir = Path(current_app.instance_path) / "demo-keys"
    key_dir.mkdir(parents=True, exist_ok=True)
    ca_key_file = key_dir / "demo-ca.key"
    if ca_key_file.exists() and trust_file.exists():
        ca_key = serialization.load_pem_private_key(ca_key_file.read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificates(trust_file.read_bytes())[0]
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _cert(_name("演示CA"), _name("演示CA"), ca_key.public_key(), ca_key, 3650, True)
        trust_file.parent.mkdir(parents=True, exist_ok=True)
        trust_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        ca_key_file.write_bytes(ca_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
    for username in usernames or ("bank_a_op",):
        op = db.session.scalar(select(Operator).where(Operator.username == username))
        if op is None or op.institution_id is None:
            raise click.ClickException(f"{username}: no such institution operator")
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(_name(f"{op.get_full_name()} {username}"), ca_cert.subject, key.public_key(), ca_key,
                     365, False)
        old = db.session.scalar(select(OperatorCertificate).where(OperatorCertificate.operator_id == op.id))
        if old is not None:
            db.session.delete(old)
            db.session.flush()
        db.session.add(OperatorCertificate(operator_id=op.id, institution_id=op.institution_id,
                                           pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
                                           **ca.describe(cert)))
        (key_dir / f"{username}.key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        click.echo(f"{username}: certificate bound; key in {key_dir / (username + '.key')}")
    db.session.commit()
    click.echo(f"trusted CA: {trust_file}")
