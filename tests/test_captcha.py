"""The image captcha: a PNG per purpose, the answer checked once, never stored in clear."""
from flask import session

from app import captcha


def test_captcha_image_and_one_shot_check(app):
    with app.test_request_context("/"):
        code = captcha.new_code("login")
        assert code not in str(dict(session))  # only a hash is kept
        assert captcha.check("login", code.lower())  # case does not matter
        assert not captcha.check("login", code)  # spent: no replay
        other = captcha.new_code("progress")
        assert not captcha.check("progress", "WRONG")
        assert not captcha.check("progress", other)  # a miss spends it too


def test_captcha_route(client):
    response = client.get("/captcha/login.png")
    assert response.status_code == 200
    assert response.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/captcha/Bad%20Name.png").status_code == 404
