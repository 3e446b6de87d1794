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


def test_skills_and_languages_come_from_their_claims() -> None:
    token = mint_token(SECRET, "a-1", ["agent"], skills=["billing", "moves"], languages=["de", "en"])
    principal = TokenVerifier(SECRET).verify(token)
    assert principal.skills == {"billing", "moves"} and principal.languages == {"de", "en"}


def test_a_token_without_skills_or_languages_claims_has_none() -> None:
    """No claim means no skills (not "every skill"): routing offers such an agent only unrestricted work."""
    principal = TokenVerifier(SECRET).verify(mint_token(SECRET, "a-1", ["agent"]))
    assert principal.skills == frozenset() and principal.languages == frozenset()


@pytest.mark.parametrize("claim", [
    {"skills": "billing"}, {"skills": [1]}, {"skills": [""]}, {"languages": {"de": True}},
    {"skills": ["x" * 65]}, {"skills": [f"s{i}" for i in range(101)]},
])
def test_malformed_skills_or_languages_claims_are_refused(claim) -> None:
    token = jwt.encode({"sub": "a-1", "roles": ["agent"], "exp": time.time() + 60, **claim}, SECRET,
                       algorithm="HS256")
    with pytest.raises(Unauthorized):
        TokenVerifier(SECRET).verify(token)


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


ISSUER, AUDIENCE = "https://login.example/", "icsuite"


def _strict(**options) -> TokenVerifier:
    return TokenVerifier(SECRET, audience=AUDIENCE, issuer=ISSUER, leeway_s=30, max_lifetime_s=3600, **options)


def _claims(**overrides) -> str:
    now = int(time.time())
    claims = {"sub": "a-1", "roles": ["agent"], "iat": now, "exp": now + 600, "iss": ISSUER, "aud": AUDIENCE}
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, SECRET, algorithm="HS256")


def test_a_token_with_issuer_audience_and_a_short_life_is_accepted_with_its_expiry() -> None:
    now = int(time.time())
    principal = _strict().verify(_claims(iat=now, exp=now + 600))
    assert principal.sub == "a-1" and principal.expires_at is not None
    assert int(principal.expires_at.timestamp()) == now + 600
    assert 500 < principal.seconds_left() <= 600


NOW_PLUS = "now+"  # times relative to when the test runs, not to when the module was collected


@pytest.mark.parametrize("overrides", [
    {"iss": None}, {"iss": "https://elsewhere.example/"}, {"aud": None}, {"aud": "other"},
    {"iat": None},                                                       # no iat with a maximum lifetime
    {"exp": NOW_PLUS + "7200"},                                          # lives 2 h, the maximum is 1 h
    {"iat": NOW_PLUS + "-2592000", "exp": NOW_PLUS + "600"},             # issued a month ago
    {"iat": NOW_PLUS + "600", "exp": NOW_PLUS + "900"},                  # issued in the future
    {"exp": 2**70},                                                      # beyond any clock
    {"exp": "tomorrow"},
])
def test_production_checks_refuse(overrides) -> None:
    now = int(time.time())
    claims = {name: now + int(value[len(NOW_PLUS):]) if isinstance(value, str) and value.startswith(NOW_PLUS)
              else value for name, value in overrides.items()}
    with pytest.raises(Unauthorized):
        _strict().verify(_claims(**claims))


def test_the_leeway_accepts_a_token_expired_a_few_seconds_ago() -> None:
    now = int(time.time())
    token = _claims(iat=now - 300, exp=now - 10)
    assert _strict().verify(token).seconds_left() == 0
    with pytest.raises(Unauthorized):
        TokenVerifier(SECRET, audience=AUDIENCE, issuer=ISSUER, leeway_s=0).verify(token)


def test_a_verifier_is_built_from_the_settings() -> None:
    from icsuite_chassis.settings import ServiceSettings

    settings = ServiceSettings(jwt_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_max_lifetime_s=3600)
    verifier = TokenVerifier.from_settings(settings)
    assert verifier.verify(mint_token(SECRET, "a-1", ["agent"], ttl_s=600, issuer=ISSUER, audience=AUDIENCE)).sub == "a-1"
    with pytest.raises(Unauthorized):
        verifier.verify(mint_token(SECRET, "a-1", ["agent"], ttl_s=600))  # no iss, no aud
    with pytest.raises(Unauthorized):
        verifier.verify(mint_token(SECRET, "a-1", ["agent"], ttl_s=7200, issuer=ISSUER, audience=AUDIENCE))
