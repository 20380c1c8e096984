"""Settings from the environment (``INNONET_*``) and command-line flags."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INNONET_")

    # A SQLite file in the working directory: zero set-up for a first run.
    database_url: str = "sqlite:///innonet.db"
    host: str = "127.0.0.1"
    port: int = 8000
    # Signs flash-message cookies. Set INNONET_SECRET_KEY in production; the default is
    # only fit for a laptop because anyone can read it here.
    secret_key: str = "change-me-innonet-development-key"


@lru_cache
def get_settings() -> Settings:
    """The settings read once from the environment."""
    return Settings()
