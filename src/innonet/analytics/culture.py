"""Cultural distance between countries: the Kogut–Singh index on Hofstede's dimensions.

Caveats, shown wherever the index is: the dimensions describe national averages measured
in surveys (mostly of employees of one multinational, updated since), not any
organisation or person in the country; a distance says where misunderstandings are more
likely, never whether a partnership will work.
"""

import csv
import io

import numpy as np

DIMENSIONS = ("pdi", "idv", "mas", "uai", "ltowvs", "ivr")
# At least this many dimensions must be known for both countries.
MIN_SHARED_DIMENSIONS = 4
MISSING = "#NULL!"

# Hofstede's own country codes → ISO 3166-1 alpha-2. Sub-national rows (Belgium French,
# Belgium Netherl, Canada French, Germany East, South Africa white, Switzerland French and
# German) and regional aggregates (Africa East and West, Arab countries) stay out: the
# national row stands for its country, and an aggregate is no country.
HOFSTEDE_TO_ISO = {
    "ALB": "AL", "ALG": "DZ", "AND": "AD", "ARG": "AR", "ARM": "AM", "AUL": "AU", "AUT": "AT",
    "AZE": "AZ", "BAN": "BD", "BLR": "BY", "BEL": "BE", "BOS": "BA", "BRA": "BR", "BUL": "BG",
    "BUF": "BF", "CAN": "CA", "CHL": "CL", "CHI": "CN", "COL": "CO", "COS": "CR", "CRO": "HR",
    "CYP": "CY", "CZE": "CZ", "DEN": "DK", "ECA": "EC", "EGY": "EG", "ETH": "ET", "SAL": "SV",
    "EST": "EE", "FIN": "FI", "FRA": "FR", "GEO": "GE", "GER": "DE", "GHA": "GH", "GBR": "GB",
    "GRE": "GR", "GUA": "GT", "HOK": "HK", "HUN": "HU", "ICE": "IS", "IND": "IN", "IDO": "ID",
    "IRA": "IR", "IRQ": "IQ", "IRE": "IE", "ISR": "IL", "ITA": "IT", "JAM": "JM", "JPN": "JP",
    "JOR": "JO", "KOR": "KR", "KYR": "KG", "LAT": "LV", "LIT": "LT", "LUX": "LU", "MAC": "MK",
    "MAL": "MY", "MLI": "ML", "MLT": "MT", "MEX": "MX", "MOL": "MD", "MNG": "ME", "MOR": "MA",
    "NET": "NL", "NZL": "NZ", "NIG": "NG", "NOR": "NO", "PAK": "PK", "PAN": "PA", "PER": "PE",
    "PHI": "PH", "POL": "PL", "POR": "PT", "PUE": "PR", "ROM": "RO", "RUS": "RU", "RWA": "RW",
    "SAU": "SA", "SER": "RS", "SIN": "SG", "SLK": "SK", "SLV": "SI", "SAF": "ZA", "SPA": "ES",
    "SUR": "SR", "SWE": "SE", "SWI": "CH", "TAI": "TW", "TAN": "TZ", "THA": "TH", "TRI": "TT",
    "TUR": "TR", "USA": "US", "UGA": "UG", "UKR": "UA", "URU": "UY", "VEN": "VE", "VIE": "VN",
    "ZAM": "ZM", "ZIM": "ZW",
}
NOT_COUNTRIES = {"AFE", "AFW", "ARA", "BEF", "BEN", "CAF", "GEE", "SAW", "SWF", "SWG"}


def read_hofstede(text: str) -> dict[str, np.ndarray]:
    """ISO code → the six dimension scores (NaN where unknown), from the semicolon file.

    A row whose code is neither mapped nor deliberately left out raises ValueError naming
    its line, so a newer file with new rows is noticed rather than half-read.

    >>> scores = read_hofstede("ctr;country;pdi;idv;mas;uai;ltowvs;ivr\\r\\n"
    ...                        "GER;Germany;35;67;66;65;83;40\\r\\nARA;Arab countries;80;38;53;68;23;34\\r\\n")
    >>> scores["DE"].tolist()
    [35.0, 67.0, 66.0, 65.0, 83.0, 40.0]
    >>> sorted(scores)
    ['DE']
    """
    rows = csv.DictReader(io.StringIO(text, newline=""), delimiter=";")
    scores = {}
    for line, row in enumerate(rows, start=2):
        code = (row.get("ctr") or "").strip()
        if code in NOT_COUNTRIES:
            continue
        if code not in HOFSTEDE_TO_ISO:
            raise ValueError(f"line {line}: unknown Hofstede country code {code!r}")
        try:
            scores[HOFSTEDE_TO_ISO[code]] = np.array(
                [np.nan if row[d].strip() == MISSING else float(row[d]) for d in DIMENSIONS])
        except (KeyError, AttributeError, ValueError) as error:
            raise ValueError(f"line {line}: bad dimension score ({error})") from None
    return scores


def dimension_variances(scores: dict[str, np.ndarray]) -> np.ndarray:
    """Each dimension's variance over the countries that have it (the index's scale)."""
    return np.nanvar(np.vstack(list(scores.values())), axis=0, ddof=1)


def kogut_singh(scores: dict[str, np.ndarray], a: str, b: str,
                variances: np.ndarray | None = None) -> float | None:
    """Kogut & Singh (1988): the mean over dimensions of the squared difference between two
    countries, each divided by that dimension's variance. 0 for the same profile; None
    when a country is unknown or fewer than four dimensions are known for both.

    >>> scores = {"AA": np.array([10., 20, 30, 40, 50, 60]), "BB": np.array([20., 20, 30, 40, 50, 60])}
    >>> kogut_singh(scores, "AA", "BB", variances=np.full(6, 50.0))
    0.3333333333333333
    >>> kogut_singh(scores, "AA", "ZZ") is None
    True
    """
    if a not in scores or b not in scores:
        return None
    if variances is None:
        variances = dimension_variances(scores)
    difference = scores[a] - scores[b]
    known = np.isfinite(difference)
    if known.sum() < MIN_SHARED_DIMENSIONS:
        return None
    return float(np.mean(difference[known] ** 2 / variances[known]))


# Each dimension: its name, what the higher-scoring country tends to expect, what the
# lower one does, and what a team of both should agree on explicitly.
DIMENSION_WORDS = {
    "pdi": ("Power distance", "decisions taken by senior managers, and hierarchy respected",
            "to be consulted before decisions, and flat structures",
            "who decides what, who must be in the room, and how to raise a disagreement with a manager"),
    "idv": ("Individualism", "individual ownership of tasks and credit, and direct feedback",
            "group loyalty, personal relationships and indirect feedback",
            "how tasks and credit are assigned, and how feedback is given (in writing or face to face)"),
    "mas": ("Achievement orientation", "competition, firm targets and assertive negotiation",
            "consensus, cooperation and quality of working life",
            "how success is measured and how conflicts are settled"),
    "uai": ("Uncertainty avoidance", "detailed plans, written rules and precise specifications",
            "flexibility, improvisation and short documents",
            "how detailed plans, contracts and specifications must be, and what happens when they change"),
    "ltowvs": ("Long-term orientation", "persistence and results in the long run",
               "quicker results and established commitments",
               "the time horizon: when results are due and how far ahead the plan looks"),
    "ivr": ("Indulgence", "leisure, optimism and informal working styles",
            "restraint, strict norms and formal working styles",
            "working hours, response times and how formal meetings are"),
}
# A gap of at least this many points (on the 0-100 scales) is worth an explicit agreement.
NOTABLE_GAP = 20


def compare_countries(scores: dict[str, np.ndarray], a: str, b: str) -> list[dict]:
    """For two countries, each dimension's scores, gap and, where the gap is notable, which
    country scores higher and what to agree on; dimensions unknown for either are left out.

    >>> scores = {"AA": np.array([80., 20, 50, 90, 50, 60]), "BB": np.array([30., 25, 50, np.nan, 50, 60])}
    >>> [(d["dimension"], d["gap"], d["higher"]) for d in compare_countries(scores, "AA", "BB")][:2]
    [('pdi', 50.0, 'AA'), ('idv', 5.0, None)]
    """
    out = []
    for n, key in enumerate(DIMENSIONS):
        x, y = (float(scores[c][n]) if c in scores else float("nan") for c in (a, b))
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        gap = abs(x - y)
        name, high, low, agree = DIMENSION_WORDS[key]
        notable = gap >= NOTABLE_GAP
        out.append({"dimension": key, "name": name, "scores": {a: x, b: y}, "gap": gap,
                    "higher": (a if x > y else b) if notable else None,
                    "lower": (b if x > y else a) if notable else None,
                    "higher_expects": high, "lower_expects": low, "agree_on": agree if notable else None})
    return out
