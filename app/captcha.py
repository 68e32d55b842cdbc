"""Image captchas drawn here (the `captcha` package, no outside service), for forms an outsider may
repeat: the login after N failures, the public progress query after 3 misses.

A form names its purpose ("login", "progress"...). GET /captcha/<purpose>.png draws a fresh code and keeps
only its hash in the session; check() compares one answer, once (the code is spent either way), so a
captcha cannot be replayed. Codes avoid look-alike characters (0/O, 1/I/L)."""
import hashlib
import hmac
import secrets

from captcha.image import ImageCaptcha
from flask import Blueprint, abort, current_app, make_response, session

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 4
PURPOSE_CHARS = set("abcdefghijklmnopqrstuvwxyz_")

bp = Blueprint("captcha", __name__)
_image = ImageCaptcha(width=120, height=44, font_sizes=(30, 34, 36))


def _key(purpose):
    return f"captcha:{purpose}"


def _digest(code):
    return hmac.new(current_app.config["SECRET_KEY"].encode(), code.upper().encode(), hashlib.sha256).hexdigest()


def new_code(purpose) -> str:
    """A fresh code for purpose, remembered (hashed) in the session; returns the code to draw."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    session[_key(purpose)] = _digest(code)
    return code


def check(purpose, answer) -> bool:
    """True when answer matches the last code drawn for purpose; the code is spent either way."""
    expected = session.pop(_key(purpose), None)
    answer = (answer or "").strip()
    return bool(expected and answer) and hmac.compare_digest(expected, _digest(answer))


@bp.get("/captcha/<purpose>.png")
def image(purpose):
    if not purpose or set(purpose) - PURPOSE_CHARS or len(purpose) > 32:
        abort(404)
    response = make_response(_image.generate(new_code(purpose)).getvalue())
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "no-store"
    return response
