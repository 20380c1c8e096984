"""Country codes: ISO 3166-1 alpha-2, with the EU's own spellings mapped onto ISO."""

import pycountry

# The EU writes Greece as EL and the United Kingdom as UK; Kosovo has a user-assigned code.
EU_TO_ISO = {"EL": "GR", "UK": "GB"}
EXTRA_NAMES = {"XK": "Kosovo"}


def normalise_country(code: str | None) -> str | None:
    """The ISO alpha-2 code for ``code``, None when empty; ValueError when unknown."""
    if code is None or not code.strip():
        return None
    code = EU_TO_ISO.get(code.strip().upper(), code.strip().upper())
    if code in EXTRA_NAMES or pycountry.countries.get(alpha_2=code) is not None:
        return code
    raise ValueError(f"unknown country code {code!r} (expected ISO 3166-1 alpha-2, e.g. DE)")


def country_name(code: str | None) -> str:
    """The common English name of a country code ('' for None)."""
    if not code:
        return ""
    if code in EXTRA_NAMES:
        return EXTRA_NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


def all_countries() -> list[tuple[str, str]]:
    """(code, name) for every country, sorted by name, for pick lists."""
    codes = [c.alpha_2 for c in pycountry.countries] + list(EXTRA_NAMES)
    return sorted(((c, country_name(c)) for c in codes), key=lambda pair: pair[1])
