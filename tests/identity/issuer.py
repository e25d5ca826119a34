"""A stand-in OIDC issuer for tests: keys generated here, a JWKS and a discovery document served over
real HTTP (uvicorn on an ephemeral port), and tokens signed on demand.

``fetches`` counts the requests for the key set, so tests can prove when the gateway fetched it.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.serving import BackgroundServer

AUDIENCE = "deleted-contacts-gateway"


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private: Any
    declare_alg: bool = True

    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        maker = RSAAlgorithm if isinstance(public, rsa.RSAPublicKey) else ECAlgorithm
        jwk: dict[str, Any] = json.loads(maker.to_jwk(public))
        jwk.update(kid=self.kid, use="sig")
        if self.declare_alg:
            jwk["alg"] = self.algorithm
        return jwk

    def public_pem(self) -> bytes:
        return bytes(
            self.private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


def rsa_key(kid: str | None = None, algorithm: str = "RS256") -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey(kid or uuid.uuid4().hex[:8], algorithm, private)


def ec_key(kid: str | None = None) -> SigningKey:
    return SigningKey(kid or uuid.uuid4().hex[:8], "ES256", ec.generate_private_key(ec.SECP256R1()))


@dataclass
class Issuer:
    url: str = ""
    keys: list[SigningKey] = field(default_factory=list)
    fetches: int = 0
    available: bool = True

    @property
    def issuer(self) -> str:
        return self.url

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/jwks"

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "user-1",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "scope": "contacts:read",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(
        self, key: SigningKey | None = None, *, headers: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        key = key or self.keys[0]
        return jwt.encode(
            self.claims(**claims),
            key.private,
            algorithm=key.algorithm,
            headers={"kid": key.kid, **(headers or {})},
        )

    def app(self) -> Starlette:
        async def jwks(request: Request) -> Response:
            self.fetches += 1
            if not self.available:
                return Response("down", status_code=503)
            return JSONResponse({"keys": [key.jwk() for key in self.keys]})

        async def discovery(request: Request) -> Response:
            if not self.available:
                return Response("down", status_code=503)
            return JSONResponse({"issuer": self.issuer, "jwks_uri": self.jwks_url})

        return Starlette(
            routes=[
                Route("/jwks", jwks),
                Route("/.well-known/openid-configuration", discovery),
            ]
        )


@contextmanager
def running_issuer(*keys: SigningKey) -> Iterator[Issuer]:
    issuer = Issuer(keys=list(keys) or [rsa_key()])
    with BackgroundServer(issuer.app()) as server:
        issuer.url = server.url
        yield issuer


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(claims: dict[str, Any], kid: str) -> str:
    """A token with ``alg: none`` and no signature, as an attacker would send it."""
    header = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    return f"{header}.{b64url(json.dumps(claims).encode())}."


def tampered(token: str, **changes: Any) -> str:
    """``token`` with its payload changed and the original signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"


def hmac_with_public_key(claims: dict[str, Any], key: SigningKey) -> str:
    """The algorithm-confusion attack: HS256 with the issuer's public key (PEM) as the shared secret."""
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    import hashlib
    import hmac

    signature = hmac.new(key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"
