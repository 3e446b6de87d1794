import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from icsuite_chassis.auth import TokenVerifier, mint_token
from icsuite_chassis.problems import Unauthorized

pytestmark = pytest.mark.unit
SECRET = "s" * 40


def test_valid_token_gives_principal_with_known_roles_only() -> None:
    principal = TokenVerifier(SECRET).verify(mint_token(SECRET, "a-1", ["agent", "wizard"]))
    assert principal.sub == "a-1" and principal.roles == frozenset({"agent"})


@pytest.mark.parametrize("make", [
    lambda: mint_token(SECRET, "a-1", ["agent"], ttl_s=10, now=time.time() - 100),          # expired
    lambda: jwt.encode({"sub": "a", "roles": ["admin"], "exp": time.time() + 60}, None, algorithm="none"),
    lambda: mint_token("another-secret-of-sufficient-length!!", "a-1", ["admin"]),          # other key
    lambda: jwt.encode({"sub": "a", "roles": ["admin"]}, SECRET, algorithm="HS256"),        # no exp
    lambda: jwt.encode({"sub": "a", "roles": "admin", "exp": time.time() + 60}, SECRET, algorithm="HS256"),
    lambda: jwt.encode({"sub": "a", "roles": ["admin"], "exp": time.time() + 60},
                       rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256"),
    lambda: "not.a.token",
])
def test_bad_tokens_are_refused(make) -> None:
    with pytest.raises(Unauthorized):
        TokenVerifier(SECRET).verify(make())
