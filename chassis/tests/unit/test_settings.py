import pytest

from icsuite_chassis.settings import DEVELOPMENT_JWT_SECRET, ServiceSettings, load_settings
from pydantic_settings import SettingsConfigDict

pytestmark = pytest.mark.unit


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IC_DEMO_", extra="ignore", populate_by_name=True)
    service_name: str = "demo"


def test_prefixed_and_shared_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IC_DEMO_PORT", "8111")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k:1")
    monkeypatch.setenv("MONGODB_URI", "mongodb://m:2")
    s = load_settings(DemoSettings)
    assert (s.port, s.kafka_bootstrap_servers, s.mongodb_uri, s.mongodb_database) == (8111, "k:1", "mongodb://m:2", "ic_demo")


def test_invalid_value_fails_fast_with_the_variable(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("IC_DEMO_PORT", "not-a-port")
    with pytest.raises(SystemExit):
        load_settings(DemoSettings)
    assert "port" in capsys.readouterr().err


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IC_ENV", "production")
    monkeypatch.setenv("IC_JWT_ISSUER", "https://login.example/")
    monkeypatch.setenv("IC_JWT_AUDIENCE", "icsuite")
    monkeypatch.setenv("IC_JWT_SECRET", DEVELOPMENT_JWT_SECRET)
    monkeypatch.setenv("IC_DATA_KEY_MASTER", "k" * 40)
    with pytest.raises(SystemExit):
        load_settings(DemoSettings)
    monkeypatch.setenv("IC_JWT_SECRET", "x" * 40)
    assert load_settings(DemoSettings).environment == "production"


def test_crypto_shredding_is_on_by_default_and_off_only_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IC_CRYPTO_SHREDDING", raising=False)
    assert ServiceSettings().crypto_shredding is True
    monkeypatch.setenv("IC_CRYPTO_SHREDDING", "false")
    assert ServiceSettings().crypto_shredding is False


def test_production_refuses_the_development_data_key_master(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IC_ENV", "production")
    monkeypatch.setenv("IC_JWT_ISSUER", "https://login.example/")
    monkeypatch.setenv("IC_JWT_AUDIENCE", "icsuite")
    monkeypatch.setenv("IC_JWT_SECRET", "x" * 40)
    monkeypatch.delenv("IC_CRYPTO_SHREDDING", raising=False)
    with pytest.raises(SystemExit):
        load_settings(DemoSettings)  # sealing is on by default, so the master secret must be the operator's
    monkeypatch.setenv("IC_DATA_KEY_MASTER", "k" * 40)
    settings = load_settings(DemoSettings)
    assert settings.crypto_shredding and settings.key_vault_database == "ic_key_vault"
    assert "k" * 40 not in repr(settings)
    monkeypatch.delenv("IC_DATA_KEY_MASTER")
    monkeypatch.setenv("IC_CRYPTO_SHREDDING", "false")  # an operator's explicit off needs no master secret
    assert load_settings(DemoSettings).crypto_shredding is False
    monkeypatch.setenv("IC_CRYPTO_SHREDDING", "true")

    class NoVault(DemoSettings):
        uses_key_vault = False  # like the desktop: publishes nothing, reads sealed fields erased

    assert load_settings(NoVault).crypto_shredding is True


def test_the_garbage_collector_settings_come_from_the_environment(monkeypatch) -> None:
    assert ServiceSettings().gc_thresholds == (20_000, 20, 50)
    monkeypatch.setenv("IC_SERVICE_GC_THRESHOLDS", "[5000, 10, 10]")
    assert ServiceSettings().gc_thresholds == (5000, 10, 10)
    assert ServiceSettings().gc_tuning is True
    monkeypatch.setenv("IC_SERVICE_GC_TUNING", "false")
    assert ServiceSettings().gc_tuning is False


def test_tune_gc_freezes_what_lives_and_sets_the_thresholds() -> None:
    import gc

    from icsuite_chassis.gc_tuning import tune_gc

    before = gc.get_threshold()
    try:
        tune_gc((12_345, 11, 12))
        assert gc.get_threshold() == (12_345, 11, 12)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


@pytest.mark.parametrize("missing", ["IC_JWT_ISSUER", "IC_JWT_AUDIENCE"])
def test_production_requires_issuer_and_audience(monkeypatch: pytest.MonkeyPatch, missing: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("IC_ENV", "production")
    monkeypatch.setenv("IC_JWT_SECRET", "x" * 40)
    monkeypatch.setenv("IC_JWT_ISSUER", "https://login.example/")
    monkeypatch.setenv("IC_JWT_AUDIENCE", "icsuite")
    monkeypatch.delenv(missing)
    with pytest.raises(SystemExit):
        load_settings(DemoSettings)
    assert "IC_JWT_ISSUER and IC_JWT_AUDIENCE must be set" in capsys.readouterr().err


def test_the_cursor_secret_defaults_to_the_jwt_secret_and_is_required_beside_a_key_set(monkeypatch) -> None:
    assert DemoSettings(jwt_secret="j" * 40).cursor_signing_secret == "j" * 40
    assert DemoSettings(jwt_secret="j" * 40, cursor_secret="c" * 32).cursor_signing_secret == "c" * 32
    monkeypatch.setenv("IC_CURSOR_SECRET", "short")
    with pytest.raises(SystemExit):
        load_settings(DemoSettings)
    monkeypatch.delenv("IC_CURSOR_SECRET")
    for name, value in (("IC_ENV", "production"), ("IC_JWT_ISSUER", "https://login.example/"),
                        ("IC_JWT_AUDIENCE", "icsuite"), ("IC_JWT_JWKS_URL", "https://login.example/keys"),
                        ("IC_DATA_KEY_MASTER", "k" * 40)):
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit):
        load_settings(DemoSettings)
    monkeypatch.setenv("IC_CURSOR_SECRET", "c" * 40)
    assert load_settings(DemoSettings).cursor_signing_secret == "c" * 40
