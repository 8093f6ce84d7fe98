"""The dashboard's session cookie and CSRF tokens.

The cookie is the session itself, signed with HMAC-SHA256 under a per-server key
(`WebSettings.session_secret`, `JOBGLASS_SESSION_SECRET`, or a random key made when
the server starts, which logs everyone out on a restart):

    jobglass_session = base64url(json payload) "." base64url(hmac)

The payload holds a random session id, and after a login the token's SHA-256 hash,
its name and scope, and when the session expires. The token itself is never in the
cookie, and the hash is looked up on every request, so a revoked token ends its
sessions at once. The cookie is HttpOnly and SameSite=Lax (Secure over HTTPS).

Every form carries `csrf`, an HMAC of the session id; every POST must send it back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "jobglass_session"
CSRF_FIELD = "csrf"
LIFETIME = 12 * 3600.0  # seconds a login lasts


@dataclass(frozen=True, slots=True)
class Session:
    sid: str
    token_hash: str | None = None
    name: str | None = None
    scope: str | None = None
    expires: float = 0.0

    @property
    def logged_in(self) -> bool:
        return self.token_hash is not None

    def payload(self) -> dict[str, object]:
        return {"sid": self.sid, "th": self.token_hash, "n": self.name, "s": self.scope,
                "exp": self.expires}


def new_session(*, token_hash: str | None = None, name: str | None = None,
                scope: str | None = None, now: float | None = None) -> Session:
    """A fresh session (a new id every time: a login never keeps the id it came with)."""
    return Session(sid=secrets.token_urlsafe(18), token_hash=token_hash, name=name,
                   scope=scope, expires=(now or time.time()) + LIFETIME)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    """Signs and checks session cookies and CSRF tokens with one key."""

    def __init__(self, secret: str | None) -> None:
        self._key = (secret or secrets.token_hex(32)).encode("utf-8")

    def _mac(self, label: bytes, data: bytes) -> bytes:
        return hmac.new(self._key, label + b"\0" + data, hashlib.sha256).digest()

    def encode(self, session: Session) -> str:
        body = json.dumps(session.payload(), separators=(",", ":")).encode("utf-8")
        return f"{_b64(body)}.{_b64(self._mac(b'session', body))}"

    def decode(self, cookie: str | None, *, now: float | None = None) -> Session | None:
        """The session in a cookie; None when absent, forged, malformed or expired."""
        if not cookie or len(cookie) > 4096 or cookie.count(".") != 1:
            return None
        body_text, mac_text = cookie.split(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
        except ValueError:
            return None
        if not hmac.compare_digest(mac, self._mac(b"session", body)):
            return None
        try:
            data = json.loads(body)
            session = Session(sid=str(data["sid"]), token_hash=data.get("th"),
                              name=data.get("n"), scope=data.get("s"),
                              expires=float(data["exp"]))
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires < (now or time.time()):
            return None
        return session

    def csrf(self, session: Session) -> str:
        return _b64(self._mac(b"csrf", session.sid.encode("utf-8")))

    def csrf_ok(self, session: Session | None, sent: str | None) -> bool:
        if session is None or not sent:
            return False
        return hmac.compare_digest(sent.encode("utf-8"), self.csrf(session).encode("utf-8"))

    def set_cookie(self, request: Request, response: Response, session: Session) -> None:
        response.set_cookie(COOKIE, self.encode(session), max_age=int(LIFETIME), path="/",
                            httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
