"""The factors of a recommendation, each between 0 and 1 with its reason in plain words.

The learned ranker says who is likely to work with the asker; the factors say why a
candidate fits and let the user weigh what matters to them. docs/matching.md explains
each one to the reader; the numbers below are the ones it quotes.
"""

import re
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

from innonet.analytics import culture
from innonet.analytics.diagnosis import PARTNER_CATEGORIES, herfindahl, partner_category
from innonet.analytics.stop_words import ENGLISH as ENGLISH_STOP_WORDS
from innonet.countries import country_name
from innonet.matching.history import History, NeedWords
from innonet.organisations.models import KINDS
from innonet.text import counted

FACTORS = {
    "capability_fit": "Capability fit",
    "complementarity": "Complementarity",
    "proximity": "Network proximity and trust",
    "likelihood": "Likelihood of collaborating",
    "cultural_closeness": "Cultural closeness",
    "diversification": "Diversification gain",
    "alignment": "Strategic and values alignment",
}
# Weights of each preset; a preset may also narrow the partner kinds when the user has not.
PRESETS = {
    "balanced": {"capability_fit": 3, "complementarity": 1.5, "proximity": 1.5,
                 "likelihood": 2.5, "cultural_closeness": 0, "diversification": 1,
                 "alignment": 0.5},
    "research_partner": {"capability_fit": 4, "complementarity": 2.5, "proximity": 1,
                         "likelihood": 1.5, "cultural_closeness": 0, "diversification": 0.5,
                         "alignment": 0.5},
    "new_market": {"capability_fit": 2.5, "complementarity": 1, "proximity": 2,
                   "likelihood": 1.5, "cultural_closeness": 0, "diversification": 3,
                   "alignment": 0.5},
    "diversify_suppliers": {"capability_fit": 3, "complementarity": 1, "proximity": 1,
                            "likelihood": 1.5, "cultural_closeness": 0, "diversification": 3.5,
                            "alignment": 0.5},
}
PRESET_LABELS = {"balanced": "Balanced", "research_partner": "Find a research partner",
                 "new_market": "Enter a new market",
                 "diversify_suppliers": "Diversify my suppliers"}
PRESET_KINDS = {"research_partner": ("higher_education", "research_organisation"),
                "diversify_suppliers": ("company",)}

# A TF-IDF cosine of 0.4 between a need and a profile is already a very close match: fit
# is the cosine over 0.4, or over the best candidate's cosine when that is higher.
FULL_FIT = 0.4
# The share of meaning (word embeddings) in the capability fit when the need has words the
# data knows; without any, the fit is meaning alone.
MEANING_SHARE_OF_FIT = 0.4
# How well a candidate's kind complements the asker's (asker kind → candidate kind).
KIND_COMPLEMENT = {
    "company": {"company": 0.5, "higher_education": 1.0, "research_organisation": 1.0,
                "public_body": 0.6, "other": 0.5},
    "higher_education": {"company": 1.0, "higher_education": 0.5, "research_organisation": 0.7,
                         "public_body": 0.6, "other": 0.5},
    "research_organisation": {"company": 1.0, "higher_education": 0.7,
                              "research_organisation": 0.5, "public_body": 0.6, "other": 0.5},
    "public_body": {"company": 0.8, "higher_education": 0.8, "research_organisation": 0.8,
                    "public_body": 0.4, "other": 0.5},
    "other": {"company": 0.6, "higher_education": 0.6, "research_organisation": 0.6,
              "public_body": 0.6, "other": 0.4},
}
KIND_SHARE_OF_COMPLEMENTARITY = 0.4
KIND_NOUNS = {"company": "a company", "higher_education": "a university or college",
              "research_organisation": "a research organisation",
              "public_body": "a public body", "other": "another kind of organisation"}
# Proximity by distance in the network: a partner, two steps (plus up to 0.3 for five or
# more common partners), three steps, four steps; further or unconnected is 0.
PROXIMITY_BY_STEPS = {1: 1.0, 2: 0.6, 3: 0.35, 4: 0.2}
COMMON_PARTNERS_FOR_FULL_BONUS = 5
TRACK_RECORD_SHARE = 0.3
PROJECTS_FOR_FULL_RECORD = 30
COORDINATIONS_FOR_FULL_RECORD = 5
COUNTRY_SHARE_OF_DIVERSIFICATION = 0.6
# A country missing from the Hofstede data neither helps nor hurts.
UNKNOWN_CULTURE = 0.5
SHOWN_WORDS = 6
SHOWN_INTRODUCERS = 3
WORD = re.compile(r"[a-z][a-z0-9-]{2,}")
LIST_SEPARATOR = re.compile(r"[,;\n]+")


def hofstede() -> dict[str, np.ndarray]:
    return culture.read_hofstede(
        files("innonet.matching").joinpath("hofstede-6d-2015.csv").read_text(encoding="utf-8"))


HOFSTEDE = hofstede()
HOFSTEDE_VARIANCES = culture.dimension_variances(HOFSTEDE)


def sector_set(text: str | None) -> set[str]:
    """Sectors as the user listed them (comma, semicolon or line separated), lower case."""
    return {s.strip().casefold() for s in LIST_SEPARATOR.split(text or "") if s.strip()}


def word_set(text: str | None) -> set[str]:
    """The distinctive words of a statement (English stop words left out)."""
    return {w for w in WORD.findall((text or "").casefold()) if w not in ENGLISH_STOP_WORDS}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


@dataclass
class Statement:
    """What an organisation says about itself, for alignment."""

    sectors: set[str]
    goals: set[str]
    values: set[str]


@dataclass
class Portfolio:
    """The asker's current partners as the viewer may see them (from the diagnosis graph)."""

    countries: dict[str, int]
    categories: dict[str, int]
    partners: int


@dataclass(frozen=True)
class ViewerGraph:
    """The graph the viewer may see, as the factors read it: the organisations' ids, names,
    kinds and countries (``vertices``: each a list by vertex), the weighted links ``W`` and
    their 0/1 form ``A`` (both directions), and what each recorded relationship says the
    partner is (``partner_kinds``: (v, partner) to kinds)."""

    vertices: dict[str, list]
    W: sp.csr_matrix
    A: sp.csr_matrix
    partner_kinds: dict[tuple[int, int], list[str]]

    def __post_init__(self) -> None:
        # Each row's neighbours in ascending order: looked up by binary search.
        if not self.W.has_sorted_indices:
            self.W.sort_indices()

    def neighbours(self, v: int) -> np.ndarray:
        return self.W.indices[self.W.indptr[v]:self.W.indptr[v + 1]]


def portfolio(graph: ViewerGraph, v: int) -> Portfolio:
    countries: dict[str, int] = {}
    categories: dict[str, int] = {}
    neighbours = graph.neighbours(v).tolist()
    for u in neighbours:
        country = graph.vertices["country"][u] or "unknown"
        category = partner_category(graph.partner_kinds.get((v, u), ()), graph.vertices["kind"][u])
        countries[country] = countries.get(country, 0) + 1
        categories[category] = categories.get(category, 0) + 1
    return Portfolio(countries, categories, len(neighbours))


@dataclass
class Assessment:
    """Every factor for every candidate of a pool, and what the reasons need."""

    values: dict[str, np.ndarray]
    steps: np.ndarray
    culture_distance: list[float | None]
    need_terms: np.ndarray  # the need's words (vocabulary indices), most distinctive first
    asker_lacks: np.ndarray  # for each of them, True when the asker's words lack it
    portfolio: Portfolio  # the asker's current partners
    need_meaning: np.ndarray  # the need's embedding (zeros when it has none)

    def matrix(self) -> np.ndarray:
        return np.column_stack([self.values[name] for name in FACTORS])


def steps_within(A: sp.csr_matrix, v: int, targets: np.ndarray, most: int) -> np.ndarray:
    """Steps from v to each target in the graph of adjacency A, inf beyond ``most``.

    >>> A = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]]))
    >>> steps_within(A, 0, np.array([1, 2, 3]), most=4).tolist()
    [1.0, 2.0, inf]
    """
    distance = np.full(A.shape[0], np.inf)
    distance[v] = 0
    frontier = np.zeros(A.shape[0])
    frontier[v] = 1.0
    for step in range(1, most + 1):
        reached = ((A @ frontier) > 0) & np.isinf(distance)
        if not reached.any():
            break
        distance[reached] = step
        frontier = reached.astype(float)
    return distance[targets]


def assess(history: History, q: int, need: NeedWords, ids: np.ndarray, ranker_scores: np.ndarray, *,
           graph: ViewerGraph, vertices: np.ndarray, statements: dict[int, Statement],
           need_meaning: np.ndarray) -> Assessment:
    """All factors for candidates ``ids`` (history indices) of asker ``q``.

    ``graph`` is the graph the viewer may see; ``vertices`` maps a history index to its
    vertex there. ``statements`` holds the stated sectors, goals and
    values of the asker and candidates.
    """
    v = int(vertices[q])
    candidate_profiles = history.profiles[ids]
    complementarity, need_terms, asker_lacks = _complementarity(history, q, need, ids,
                                                                candidate_profiles)
    steps, proximity = _proximity(history, graph.A, v, vertices[ids], ids)
    distance, closeness = _cultural_closeness(history, q, ids)
    current = portfolio(graph, v)
    values = {
        "capability_fit": _capability_fit(candidate_profiles, need,
                                          history.profile_meanings[ids] @ need_meaning),
        "complementarity": complementarity,
        "proximity": proximity,
        "likelihood": _likelihood(ranker_scores, ids.size),
        "cultural_closeness": closeness,
        "diversification": _diversification(history, ids, current),
        "alignment": _alignment(statements, q, ids),
    }
    return Assessment(values, steps, distance, need_terms, asker_lacks, current, need_meaning)


def _capability_fit(candidate_profiles: sp.csr_matrix, need: NeedWords, meaning_cosine: np.ndarray) -> np.ndarray:
    """How close each candidate's words (cosine, FULL_FIT counts as 1) and meaning (the
    embeddings' cosine, from the pool's lowest to its highest) are to the need's."""
    cosine = np.asarray((candidate_profiles @ need.T).todense()).ravel()
    by_words = cosine / max(cosine.max(initial=0.0), FULL_FIT)
    low, high = meaning_cosine.min(initial=0.0), meaning_cosine.max(initial=0.0)
    by_meaning = (meaning_cosine - low) / (high - low) if high > low else np.zeros_like(cosine)
    if not need.nnz:
        return by_meaning
    return (1 - MEANING_SHARE_OF_FIT) * by_words + MEANING_SHARE_OF_FIT * by_meaning


def _complementarity(history: History, q: int, need: NeedWords, ids: np.ndarray,
                     candidate_profiles: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kinds, and the need's words the candidate covers that the asker lacks; when the
    asker lacks none of them, how little the candidate duplicates it. Returns the scores,
    the need's words (strongest first) and which of them the asker lacks."""
    need_terms = need.indices[np.argsort(-need.data, kind="stable")]
    need_weights = np.zeros(candidate_profiles.shape[1])
    need_weights[need.indices] = need.data
    asker_has = np.zeros(candidate_profiles.shape[1], dtype=bool)
    asker_has[history.profiles[q].indices] = True
    lacking = need_weights * ~asker_has
    kinds = list(KINDS)
    asker_kind = kinds[int(history.kinds[q])]
    kind_fit = np.array([KIND_COMPLEMENT[asker_kind][kinds[int(c)]] for c in history.kinds[ids]])
    if lacking.sum() > 0:
        has_word = candidate_profiles.copy()
        has_word.data[:] = 1.0
        covered = (has_word @ lacking) / lacking.sum()
    else:
        covered = 1.0 - np.asarray((candidate_profiles @ history.profiles[q].T).todense()).ravel()
    scores = (KIND_SHARE_OF_COMPLEMENTARITY * kind_fit
              + (1 - KIND_SHARE_OF_COMPLEMENTARITY) * np.clip(covered, 0, 1))
    return scores, need_terms, ~asker_has[need_terms]


def _proximity(history: History, A: sp.csr_matrix, v: int, targets: np.ndarray,
               ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Steps from the asker (vertex ``v``) to each candidate in the graph the viewer may
    see, and the proximity score: closeness, common partners two steps away, and the track
    record."""
    steps = steps_within(A, v, targets, most=max(PROXIMITY_BY_STEPS))
    proximity = np.array([PROXIMITY_BY_STEPS.get(int(s), 0.0) if np.isfinite(s) else 0.0
                          for s in steps])
    mine = np.zeros(A.shape[0])
    mine[A[v].indices] = 1.0
    common = A[targets] @ mine
    two_steps = steps == 2
    proximity[two_steps] += 0.3 * np.minimum(common[two_steps] / COMMON_PARTNERS_FOR_FULL_BONUS, 1)
    record = 0.5 * np.minimum(np.log1p(history.projects[ids]) / np.log1p(PROJECTS_FOR_FULL_RECORD), 1) \
        + 0.5 * np.minimum(history.coordinated[ids] / COORDINATIONS_FOR_FULL_RECORD, 1)
    return steps, (1 - TRACK_RECORD_SHARE) * proximity + TRACK_RECORD_SHARE * record


def _likelihood(ranker_scores: np.ndarray, pool_size: int) -> np.ndarray:
    """The share of the pool the learned ranker puts below the candidate."""
    order = np.argsort(np.argsort(-ranker_scores, kind="stable"), kind="stable")
    return 1.0 - order / max(pool_size, 1)


def _cultural_closeness(history: History, q: int, ids: np.ndarray) -> tuple[list, np.ndarray]:
    """Kogut–Singh distances (None when a country is unknown) and 1 / (1 + distance),
    computed once per country."""
    home = history.countries[q]
    by_country = {c: culture.kogut_singh(HOFSTEDE, home, c, HOFSTEDE_VARIANCES) if home and c
                  else None for c in set(history.countries[ids].tolist())}
    distance = [by_country[c] for c in history.countries[ids]]
    return distance, np.array([UNKNOWN_CULTURE if d is None else 1 / (1 + d) for d in distance])


def _diversification(history: History, ids: np.ndarray, current: Portfolio) -> np.ndarray:
    """How little of the current portfolio is already in the candidate's country and
    partner category."""
    kinds = list(KINDS)
    total = max(current.partners, 1)
    country_share = np.array([current.countries.get(c or "unknown", 0) / total
                              for c in history.countries[ids]])
    category_share = np.array([current.categories.get(partner_category((), kinds[int(c)]), 0) / total
                               for c in history.kinds[ids]])
    return (COUNTRY_SHARE_OF_DIVERSIFICATION * (1 - country_share)
            + (1 - COUNTRY_SHARE_OF_DIVERSIFICATION) * (1 - category_share))


def _alignment(statements: dict[int, Statement], q: int, ids: np.ndarray) -> np.ndarray:
    """Stated sectors, goals and values that overlap (only what both stated)."""
    asker = statements.get(q)
    alignment = np.zeros(ids.size)
    if asker is None:
        return alignment
    for row, candidate in enumerate(ids.tolist()):
        theirs = statements.get(candidate)
        if theirs is None:
            continue
        parts = [jaccard(a, b) for a, b in ((asker.sectors, theirs.sectors),
                                            (asker.goals | asker.values,
                                             theirs.goals | theirs.values)) if a and b]
        alignment[row] = float(np.mean(parts)) if parts else 0.0
    return alignment


def introducers(graph: ViewerGraph, source: int, target: int) -> list[int]:
    """The partners source and target have in common, strongest ties to both first."""
    common = np.intersect1d(graph.neighbours(source), graph.neighbours(target))
    strength = _weights_to(graph.W, source, common) + _weights_to(graph.W, target, common)
    return common[np.lexsort((common, -strength))].tolist()


def _weights_to(W: sp.csr_matrix, v: int, others: np.ndarray) -> np.ndarray:
    """The weights of v's links to ``others`` (each one of v's neighbours)."""
    row = slice(W.indptr[v], W.indptr[v + 1])
    return W.data[row][np.searchsorted(W.indices[row], others)]


# How close in meaning (embeddings' cosine) a project must be to be named as the closest.
NAMED_MEANING = 0.5
SHOWN_TEXT = 90  # characters of a project's text shown in a reason


def project_behind_fit(history: History, candidate: int, need: NeedWords, need_meaning: np.ndarray) -> int | None:
    """The candidate's project closest to the need: in words, or in meaning when the need
    has no word the data knows (None: no project, or none close at all)."""
    projects = history.members[candidate].indices
    if not projects.size:
        return None
    if need.nnz:
        closeness = np.asarray((history.project_vectors[projects] @ need.T).todense()).ravel()
    else:
        closeness = history.project_meanings[projects] @ need_meaning
    best = int(np.argmax(closeness))
    return int(projects[best]) if closeness[best] > 0 else None


def _closest_project(history: History, candidate: int, need_meaning: np.ndarray) -> str | None:
    """The text of the candidate's project closest in meaning to the need, in quotes, when
    it is close enough to say so."""
    projects = history.members[candidate].indices
    if not projects.size or not need_meaning.any():
        return None
    cosine = history.project_meanings[projects] @ need_meaning
    best = int(np.argmax(cosine))
    text = history.project_texts[int(projects[best])].strip()
    if cosine[best] < NAMED_MEANING or not text:
        return None
    short = text if len(text) <= SHOWN_TEXT else text[:SHOWN_TEXT].rsplit(" ", 1)[0] + "…"
    return f"“{short}”"


@dataclass(frozen=True)
class Search:
    """One search as its reasons read it: the asker (row ``q`` of the history), the
    candidates (rows ``ids``, in pool order), their assessment, and the graph the viewer may
    see with each history row's vertex in it."""

    history: History
    q: int
    ids: np.ndarray
    assessment: Assessment
    graph: ViewerGraph
    vertices: np.ndarray
    statements: dict[int, Statement]

    @property
    def asker_vertex(self) -> int:
        return int(self.vertices[self.q])


def reasons(search: Search, row: int, common: list[int]) -> dict[str, str]:
    """The plain-language reason of each factor for one candidate (``row`` of the pool);
    ``common`` holds its introducers (see :func:`introducers`) when it is two steps away."""
    candidate = int(search.ids[row])
    return {"capability_fit": _fit_reason(search, candidate),
            "complementarity": _complement_reason(search, candidate),
            "proximity": _proximity_reason(search, row, candidate, common),
            "likelihood": (f"Ranked above {search.assessment.values['likelihood'][row]:.0%} of the "
                           f"{search.ids.size} candidates considered by the model learned from past "
                           "collaborations."),
            "cultural_closeness": _culture_reason(search, row, candidate),
            "diversification": _diversification_reason(search, candidate),
            "alignment": _alignment_reason(search, candidate)}


def _need_words(search: Search, candidate: int, *, lacking: bool) -> list[str]:
    """The need's words in the candidate's profile, most distinctive first (``lacking``:
    only those the asker's own profile lacks)."""
    has = set(search.history.profiles[candidate].indices.tolist())
    names_of_words = search.history.words()
    assessment = search.assessment
    return [str(names_of_words[t]) for t, lacks in
            zip(assessment.need_terms, assessment.asker_lacks, strict=True)
            if t in has and (lacks or not lacking)][:SHOWN_WORDS]


def _fit_reason(search: Search, candidate: int) -> str:
    words = _need_words(search, candidate, lacking=False)
    fit = (f"Their profile and projects share the need's words: {', '.join(words)}."
           if words else "Their profile shares none of the need's distinctive words.")
    if (closest := _closest_project(search.history, candidate, search.assessment.need_meaning)) is not None:
        fit += f" Closest in meaning: {closest}."
    return fit


def _complement_reason(search: Search, candidate: int) -> str:
    kinds = list(KINDS)
    asker_kind, kind = kinds[int(search.history.kinds[search.q])], kinds[int(search.history.kinds[candidate])]
    lacking = _need_words(search, candidate, lacking=True)
    return (f"{KIND_NOUNS[kind].capitalize()} beside {KIND_NOUNS[asker_kind]} "
            f"({KIND_COMPLEMENT[asker_kind][kind]:.0%} complementary kinds)."
            + (f" They bring what your profile lacks: {', '.join(lacking)}." if lacking
               else " They add little that your profile lacks."))


def _proximity_reason(search: Search, row: int, candidate: int, common: list[int]) -> str:
    steps = search.assessment.steps[row]
    if steps == 1:
        proximity = "Already your partner."
    elif steps == 2:
        names = search.graph.vertices["name"]
        who = ", ".join(names[u] for u in common[:SHOWN_INTRODUCERS])
        more = len(common) - SHOWN_INTRODUCERS
        proximity = (f"Two steps away: {who}{f' and {more} more' if more > 0 else ''} "
                     f"can introduce you ({counted(len(common), 'common partner')}).")
    elif np.isfinite(steps):
        proximity = f"{int(steps)} steps away in the network."
    else:
        proximity = "More than four steps away, or not connected to your network yet."
    history = search.history
    return proximity + (f" Track record: {counted(int(history.projects[candidate]), 'project')}, "
                        f"{int(history.coordinated[candidate])} coordinated.")


def _culture_reason(search: Search, row: int, candidate: int) -> str:
    distance = search.assessment.culture_distance[row]
    home, country = search.history.countries[search.q], search.history.countries[candidate]
    if home and home == country:
        return f"Same country as you ({country_name(home)})."
    if distance is None:
        return ("No Hofstede scores to compare "
                f"{country_name(home) or 'your country'} with {country_name(country) or 'theirs'}.")
    return (f"Kogut–Singh distance {distance:.2f} between {country_name(home)} and "
            f"{country_name(country)} (0 = same national profile). National "
            "averages, not a judgement of this organisation.")


def _diversification_reason(search: Search, candidate: int) -> str:
    before = search.assessment.portfolio
    if before.partners == 0:
        return "You have no partners yet: any partner broadens the portfolio."
    country = search.history.countries[candidate]
    kind = list(KINDS)[int(search.history.kinds[candidate])]
    after = dict(before.countries)
    after[country or "unknown"] = after.get(country or "unknown", 0) + 1
    category = partner_category((), kind)
    in_country = before.countries.get(country or "unknown", 0)
    return ((f"A new country for you ({country_name(country)})." if in_country == 0 and country
             else f"{in_country} of your {before.partners} partners are in "
                  f"{country_name(country) or 'an unknown country'}.")
            + f" Country concentration (HHI) {herfindahl(before.countries.values()):.2f} → "
              f"{herfindahl(after.values()):.2f}; {before.categories.get(category, 0)} of your "
              f"partners are {PARTNER_CATEGORIES[category].lower()}.")


def _alignment_reason(search: Search, candidate: int) -> str:
    asker, theirs = search.statements.get(search.q), search.statements.get(candidate)
    if not asker or not theirs:
        return "Goals, values or sectors not stated on both sides."
    shared = sorted(asker.sectors & theirs.sectors)
    common_words = sorted((asker.goals | asker.values) & (theirs.goals | theirs.values))
    parts = [f"sectors {', '.join(shared)}" if shared else "",
             f"goals and values: {', '.join(common_words[:SHOWN_WORDS])}" if common_words else ""]
    return ("You share " + "; ".join(p for p in parts if p) + "."
            if any(parts) else "No stated sector, goal or value in common.")


def introduction_paths(graph: ViewerGraph, source: int, targets: list[int], steps: list[float],
                       common: list[list[int]]) -> list[list[int]]:
    """For each target, the vertices from the asker to it: direct; through its first
    introducer (``common``, see :func:`introducers`); or a shortest path (one search for
    all); empty when further than four steps."""
    paths: list[list[int]] = [[] for _ in targets]
    if any(np.isfinite(s) and s >= 3 for s in steps):
        _, previous = breadth_first_order(graph.A, source, directed=True, return_predecessors=True)
        for i, s in enumerate(steps):
            if np.isfinite(s) and s >= 3 and previous[targets[i]] >= 0:
                path = [targets[i]]
                while path[-1] != source:
                    path.append(int(previous[path[-1]]))
                paths[i] = path[::-1]
    for i, (target, s) in enumerate(zip(targets, steps, strict=True)):
        if s == 1:
            paths[i] = [source, target]
        elif s == 2:
            paths[i] = [source, common[i][0], target]
    return paths
