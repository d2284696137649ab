"""SIP digest authentication, client side (RFC 3261 section 22.4, RFC 2617, RFC 7616 / 8760).

pyVoIP 1.6.8 answers a challenge with MD5 only, without qop, cnonce, nc or opaque, and with a
digest URI that is not its Request-URI; Asterisk PJSIP, Yeastar and FreePBX challenge with
``qop="auth"`` (and may offer SHA-256 first). This answers MD5, MD5-sess, SHA-256 and
SHA-256-sess, with or without qop.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
# Strongest first: when a registrar offers several challenges we answer the first we prefer.
_PREFERENCE = ("SHA-256", "SHA-256-SESS", "MD5", "MD5-SESS")
_PARAM = re.compile(r'([\w-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]+)')


def parse_challenges(values: list[str]) -> list[dict[str, str]]:
    """The Digest challenges in WWW-Authenticate / Proxy-Authenticate values (names lower-case,
    quotes removed; several challenges in one value are split)."""
    challenges: list[dict[str, str]] = []
    for value in values:
        for part in re.split(r"(?i)(?:^|,)\s*Digest\s+", value)[1:]:
            params = {k.lower(): v.strip('"') for k, v in _PARAM.findall(part)}
            if "nonce" in params and "realm" in params:
                challenges.append(params)
    return challenges


def choose(challenges: list[dict[str, str]]) -> dict[str, str] | None:
    """The challenge we can answer best, or None."""
    usable = [c for c in challenges if c.get("algorithm", "MD5").upper() in _PREFERENCE]
    usable.sort(key=lambda c: _PREFERENCE.index(c.get("algorithm", "MD5").upper()))
    return usable[0] if usable else None


def _qop(challenge: dict[str, str]) -> str | None:
    offered = [q.strip().lower() for q in challenge.get("qop", "").split(",") if q.strip()]
    if "auth" in offered:
        return "auth"
    return "auth-int" if "auth-int" in offered else None


@dataclass
class DigestAnswerer:
    """Answers challenges for one account; counts uses of each nonce (``nc``)."""

    username: str
    password: str
    _counts: dict[str, int] = field(default_factory=dict)

    def authorization(self, challenge: dict[str, str], method: str, uri: str,
                      body: bytes = b"", cnonce: str | None = None) -> str:
        """The credentials (the value of Authorization / Proxy-Authorization)."""
        algorithm = challenge.get("algorithm", "MD5")
        base = algorithm.upper().removesuffix("-SESS")
        digest = _HASHES[base]

        def h(text: str | bytes) -> str:
            return digest(text.encode() if isinstance(text, str) else text).hexdigest()

        realm, nonce = challenge["realm"], challenge["nonce"]
        qop = _qop(challenge)
        cnonce = cnonce or secrets.token_hex(8)
        self._counts[nonce] = self._counts.get(nonce, 0) + 1
        nc = f"{self._counts[nonce]:08x}"
        ha1 = h(f"{self.username}:{realm}:{self.password}")
        if algorithm.upper().endswith("-SESS"):
            ha1 = h(f"{ha1}:{nonce}:{cnonce}")
        ha2 = h(f"{method}:{uri}:{h(body)}" if qop == "auth-int" else f"{method}:{uri}")
        if qop:
            response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        else:
            response = h(f"{ha1}:{nonce}:{ha2}")
        parts = [f'username="{self.username}"', f'realm="{realm}"', f'nonce="{nonce}"',
                 f'uri="{uri}"', f'response="{response}"', f"algorithm={algorithm}"]
        if qop:
            parts += [f'cnonce="{cnonce}"', f"qop={qop}", f"nc={nc}"]
        if "opaque" in challenge:
            parts.append(f'opaque="{challenge["opaque"]}"')
        return "Digest " + ", ".join(parts)


# The header of a challenge and of its answer, by response code.
CHALLENGES = {401: ("WWW-Authenticate", "Authorization"),
              407: ("Proxy-Authenticate", "Proxy-Authorization")}
MAX_ROUNDS = 3  # answers per request: a proxy's 407, then the registrar's or gateway's 401


def next_credentials(answerer: DigestAnswerer, code: int, values: Callable[[str], list[str]],
                     credentials: dict[str, str], rounds: int, method: str,
                     uri: str) -> dict[str, str] | None:
    """The credentials for the next try of a request answered ``code`` (``values(name)``: the
    response's header values), or None when it is not a challenge to answer: not 401/407, no
    digest challenge we can answer, too many rounds, or one we answered already coming back
    (wrong account or password; a ``stale=true`` nonce is answered again)."""
    if code not in CHALLENGES or rounds >= MAX_ROUNDS:
        return None
    header, answer_header = CHALLENGES[code]
    challenge = choose(parse_challenges(values(header)))
    if challenge is None:
        return None
    if answer_header in credentials and challenge.get("stale", "").lower() != "true":
        return None
    return {**credentials, answer_header: answerer.authorization(challenge, method, uri)}
