"""E-mail: notices to an account's other channel (e.g. "your password was reset").

SmtpMail speaks SMTP (RFC 5321, Python's smtplib) to REGISTRY_SMTP_HOST; OutboxMail, the sandbox stand-in
(REGISTRY_SANDBOX=1, and tests), only records each message in EmailMessage. With neither, adapter() raises
MailUnavailable: the caller decides, and says, what happens without the notice.
"""
import smtplib
from email.message import EmailMessage as MimeMessage

from flask import current_app

from app.extensions import db
from models import EmailMessage


class MailUnavailable(RuntimeError):
    pass


class SmtpMail:
    def send(self, recipient: str, subject: str, body: str, purpose: str) -> None:
        config = current_app.config
        msg = MimeMessage()
        msg["From"], msg["To"], msg["Subject"] = config["REGISTRY_SMTP_FROM"], recipient, subject
        msg.set_content(body)
        with smtplib.SMTP(config["REGISTRY_SMTP_HOST"], config["REGISTRY_SMTP_PORT"], timeout=10) as smtp:
            if config["REGISTRY_SMTP_STARTTLS"]:
                smtp.starttls()
            if config["REGISTRY_SMTP_USER"]:
                smtp.login(config["REGISTRY_SMTP_USER"], config["REGISTRY_SMTP_PASSWORD"])
            smtp.send_message(msg)


class OutboxMail:
    def send(self, recipient: str, subject: str, body: str, purpose: str) -> EmailMessage:
        msg = EmailMessage(recipient=recipient, subject=subject, body=body, purpose=purpose, status="sent")
        db.session.add(msg)
        db.session.flush()
        return msg


def adapter():
    config = current_app.config
    if config.get("REGISTRY_SMTP_HOST"):
        return SmtpMail()
    if config.get("SANDBOX") or config.get("TESTING"):
        return OutboxMail()
    raise MailUnavailable("no mail server: set REGISTRY_SMTP_HOST")
