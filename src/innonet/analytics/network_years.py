"""Every organisation's network figures, year by year, in one vectorised pass per year.

The network of a year links the organisations that share a project running in that year
(it started in or before the year and ends in or after it), weighted by the number of such
projects; ties recorded directly (relationships) join it for the years they run. Each
year's figures are the ones the diagnosis reads for one organisation (docs/methods.md,
"Network KPIs by year"), for all organisations at once.
"""

from typing import Any

import numpy as np
import scipy.sparse as sp

from innonet.analytics.diagnosis import PARTNER_CATEGORIES
from innonet.analytics.graph import co_participation_edges
from innonet.analytics.structural_holes import constraint_of_edges

CATEGORIES = tuple(PARTNER_CATEGORIES)
# The figures of each organisation and year, all arrays of shape (years, organisations).
FIGURES = ("partners", "breadth", "diversity", "country_hhi", "largest_partner_share",
           "constraint", "less_constrained_than", "new_partners", "lost_partners")


def network_years(project: np.ndarray, organisation: np.ndarray, project_start: np.ndarray, project_end: np.ndarray,
                  *, n: int, years: list[int], category: np.ndarray, country: np.ndarray,
                  ties: tuple[np.ndarray, ...] | None = None) -> dict[str, Any]:
    """The network figures of all ``n`` organisations for each of ``years``.

    Parameters
    ----------
    project, organisation : array_like of int
        One entry per participation: the project's and the organisation's index.
    project_start, project_end : array_like of int
        Each project's first and last year, indexed by project.
    n : int
        Number of organisations.
    years : sequence of int
        The years to report, ascending.
    category : array_like of int
        Each organisation's partner category as an index into ``CATEGORIES`` (what it is
        to the organisations it works with).
    country : array_like of int
        Each organisation's country as a small integer code (one code for "unknown").
    ties : tuple of arrays, optional
        ``(sources, targets, weights, first_year, last_year)`` of ties recorded directly,
        each added with its weight in each year it runs (a tie known to run since before
        the data's first year, or without an end, gets a first year before it or a last
        year after every year asked for).

    Returns
    -------
    dict
        For each name in ``FIGURES`` an array of shape ``(len(years), n)``: partners in the
        year; ``breadth`` (partner categories reached) and ``diversity`` (Blau's index of
        the partners over the categories); ``country_hhi`` (Herfindahl index of the
        partners' countries); ``largest_partner_share`` (the largest partner's share of the
        organisation's joint work, i.e. of its tie weight); Burt's ``constraint`` and
        ``less_constrained_than`` (percent of the organisations with partners that year
        that are more constrained: a percentile of brokerage); ``new_partners`` (partners
        of the year never partners in an earlier year of the data) and ``lost_partners``
        (partners of the year before who are not partners this year). Figures that need
        partners are NaN without them; new and lost partners are NaN for the first year
        the data holds, which has no year before it. Also ``by_category``, shape
        ``(len(years), n, len(CATEGORIES))``, and ``by_country``, one sparse
        organisations × countries matrix of partner counts per year.

    Examples
    --------
    Project 0 (2014-2015) joins organisations 0, 1 and 2; project 1 (2015) joins 0 and 3.

    >>> f = network_years([0, 0, 0, 1, 1], [0, 1, 2, 0, 3], [2014, 2015], [2015, 2015],
    ...                   n=4, years=[2014, 2015], category=[6, 3, 6, 6], country=[0, 0, 1, 1])
    >>> f["partners"][:, 0].tolist(), f["new_partners"][:, 0].tolist(), f["breadth"][:, 0].tolist()
    ([2.0, 3.0], [nan, 1.0], [2.0, 2.0])
    >>> round(float(f["largest_partner_share"][1, 0]), 3), float(f["country_hhi"][0, 0])
    (0.333, 0.5)
    """
    project = np.asarray(project, dtype=np.int64)
    organisation = np.asarray(organisation, dtype=np.int64)
    start = np.asarray(project_start, dtype=np.int64)[project]
    end = np.asarray(project_end, dtype=np.int64)[project]
    category, country = np.asarray(category, dtype=np.int64), np.asarray(country, dtype=np.int64)
    years = [int(y) for y in years]
    if not years:
        return _empty_figures(0, n)
    # The first year the data holds: before it nobody's partners are known.
    first_data_year = int(start.min()) if start.size else years[0]
    found = _empty_figures(len(years), n)
    seen = np.zeros(0, dtype=np.int64)  # every pair linked in an earlier year, as s * n + t, sorted
    previous = np.zeros(0, dtype=np.int64)  # the pairs linked the year before
    for year in range(min(first_data_year, years[0]), years[-1] + 1):
        running = (start <= year) & (end >= year)
        s, t, w = _year_edges(project[running], organisation[running], n, year, ties)
        keys = s * n + t  # ascending: the edges come sorted by (s, t)
        if year in years:
            row = years.index(year)
            _figures_of_year(found, row, s, t, w, n, category, country)
            if year > first_data_year:
                _new_and_lost(found, row, s, t, keys, seen, previous, n)
        seen = _merged(seen, keys)
        previous = keys
    return found


def _empty_figures(count: int, n: int) -> dict[str, Any]:
    found: dict[str, Any] = {name: np.full((count, n), np.nan) for name in FIGURES}
    found["by_category"] = np.zeros((count, n, len(CATEGORIES)), dtype=np.int32)
    found["by_country"] = []
    return found


def _new_and_lost(found: dict[str, Any], row: int, s: np.ndarray, t: np.ndarray, keys: np.ndarray, seen: np.ndarray,
                  previous: np.ndarray, n: int) -> None:
    """New partners (never linked in an earlier year) and lost ones (linked the year before,
    not now); empty for organisations without partners then or before."""
    found["new_partners"][row] = _count_ends(s, t, ~_in_sorted(keys, seen), n)
    gone = previous[~_in_sorted(previous, keys)]
    found["lost_partners"][row] = _count_ends(gone // n, gone % n, None, n)
    partnered = found["partners"][row] > 0
    for name in ("new_partners", "lost_partners"):
        quiet = ~partnered & (found[name][row] == 0)
        found[name][row][quiet] = np.nan


def _in_sorted(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Whether each key is in ``values`` (sorted ascending), by binary search: the set of
    pairs seen grows every year, and sorting it again each time took most of the work."""
    if values.size == 0:
        return np.zeros(keys.size, dtype=bool)
    at = np.minimum(np.searchsorted(values, keys), values.size - 1)
    return values[at] == keys


def _merged(seen: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The sorted union of two sorted arrays of keys."""
    fresh = keys[~_in_sorted(keys, seen)]
    return np.sort(np.concatenate([seen, fresh]), kind="stable")  # two sorted runs: a merge


def _year_edges(project: np.ndarray, organisation: np.ndarray, n: int, year: int,
                ties: tuple[np.ndarray, ...] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The year's links: shared running projects plus recorded ties running that year."""
    s, t, w = co_participation_edges(project, organisation, n)
    if ties is None:
        return s, t, w
    sources, targets, first, last = (np.asarray(ties[i], dtype=np.int64) for i in (0, 1, 3, 4))
    running = (first <= year) & (last >= year)
    low = np.minimum(sources[running], targets[running])
    high = np.maximum(sources[running], targets[running])
    weights = np.asarray(ties[2], dtype=float)[running]
    merged = sp.coo_matrix((np.concatenate([w, weights]),
                            (np.concatenate([s, low]), np.concatenate([t, high]))), shape=(n, n)).tocsr()
    merged.sum_duplicates()
    merged = merged.tocoo()
    order = np.lexsort((merged.col, merged.row))
    return (merged.row[order].astype(np.int64), merged.col[order].astype(np.int64),
            merged.data[order].astype(float))


def _count_ends(s: np.ndarray, t: np.ndarray, chosen: np.ndarray | None, n: int) -> np.ndarray:
    """How many of the chosen links each organisation is an end of."""
    if chosen is not None:
        s, t = s[chosen], t[chosen]
    return (np.bincount(s, minlength=n) + np.bincount(t, minlength=n)).astype(float)


def _figures_of_year(found: dict[str, Any], row: int, s: np.ndarray, t: np.ndarray, w: np.ndarray, n: int,
                     category: np.ndarray, country: np.ndarray) -> None:
    ends = np.concatenate([s, t])
    others = np.concatenate([t, s])
    weights = np.concatenate([w, w])
    partners = np.bincount(ends, minlength=n).astype(float)
    has = partners > 0
    found["partners"][row] = partners
    by_category = np.bincount(ends * len(CATEGORIES) + category[others],
                              minlength=n * len(CATEGORIES)).reshape(n, len(CATEGORIES))
    found["by_category"][row] = by_category
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = by_category / partners[:, None]
        found["breadth"][row] = np.where(has, np.count_nonzero(by_category, axis=1), np.nan)
        found["diversity"][row] = np.where(has, 1.0 - (shares ** 2).sum(axis=1), np.nan)
        countries = int(country.max()) + 1 if country.size else 1
        by_country = sp.csr_matrix((np.ones(ends.size), (ends, country[others])), shape=(n, countries))
        by_country.sum_duplicates()
        squares = np.asarray(by_country.multiply(by_country).sum(axis=1)).ravel()
        found["country_hhi"][row] = np.where(has, squares / partners ** 2, np.nan)
        strongest = np.zeros(n)
        np.maximum.at(strongest, ends, weights)
        found["largest_partner_share"][row] = np.where(
            has, strongest / np.bincount(ends, weights, minlength=n), np.nan)
    found["by_country"].append(by_country)
    burt = constraint_of_edges(n, s, t, w)
    found["constraint"][row] = burt
    ranked = np.sort(burt[has])
    more_constrained = ranked.size - np.searchsorted(ranked, burt, side="right")
    with np.errstate(invalid="ignore", divide="ignore"):
        found["less_constrained_than"][row] = np.where(
            has & np.isfinite(burt), 100.0 * more_constrained / max(ranked.size, 1), np.nan)
