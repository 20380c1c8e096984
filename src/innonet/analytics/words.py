"""The words of a text as the partner finder reads them.

A need such as "bio-based packaging" must match "bio-based" and "packaging films", not the
generic "based". So each text becomes terms:

- words in lower case, stemmed with the Snowball English stemmer ("packaging" and
  "packages" are one term);
- a hyphenated compound kept whole ("bio-based") as well as split into its parts;
- English stop words and the generic words of project and company prose left out
  (``GENERIC``: based, new, novel, system, approach, development, innovative, ...);
- two-word phrases of words that stand next to each other ("fuel cell"), a generic word
  among them when the other is not ("smart grid").

Terms are shown to people in the form the texts use most (``Forms``).
"""

import re
from collections import Counter, defaultdict
from functools import lru_cache

import snowballstemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# Changes with anything that changes the terms of a text: rankers learned from other terms
# are stale.
VERSION = 3
WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
# Words of project and company prose that say nothing about what a partner knows.
GENERIC = frozenset("""
    based new novel system systems approach approaches development develop developing
    developed innovative innovation innovations solution solutions technology technologies
    technological project projects research advanced improved improve improving efficient
    high low use used using able enable enabling new-generation next-generation generation
    concept concepts framework platform platforms tool tools method methods methodology
    application applications integrated integration smart sustainable future european europe
    eu h2020 horizon action actions support supporting towards toward via demonstration
    pilot pilots level levels activities activity results result impact impacts key
    approach-based state-of-the-art art state call topic phase
""".split())
_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def _says_nothing(word: str) -> bool:
    """A stop word, a number or a single character: never part of a term."""
    return len(word) < 2 or word in ENGLISH_STOP_WORDS or word.isdigit()


def terms_and_forms(text: str | None) -> list[tuple[str, str]]:
    """Each term of ``text`` with the words it was made of, in order of appearance."""
    found: list[tuple[str, str]] = []
    previous: tuple[str, str] | None = None  # the last word kept, when nothing fell between
    lowered = (text or "").casefold()
    for match in WORD.finditer(lowered):
        word = match.group()
        parts = word.split("-")
        if len(parts) > 1:
            kept_parts = [p for p in parts if not _says_nothing(p) and p not in GENERIC]
            if kept_parts:
                whole = "-".join(_stem(p) for p in parts if not p.isdigit())
                found.append((whole, word))
                found += [(_stem(p), p) for p in kept_parts]
            previous = (whole, word) if kept_parts else None
            continue
        if _says_nothing(word):
            previous = None
            continue
        # A generic word is no term alone, but it is in a phrase with a distinctive one
        # ("smart grid", "new market" stay; "novel system" does not).
        generic = word in GENERIC
        term = (_stem(word), word)
        if previous is not None and _adjacent(lowered, match.start()) \
                and not (generic and previous[1] in GENERIC):
            found.append((f"{previous[0]} {term[0]}", f"{previous[1]} {term[1]}"))
        if not generic:
            found.append(term)
        previous = term
    return found


def _adjacent(text: str, start: int) -> bool:
    """Whether only spaces stand between the word at ``start`` and the one before it (no
    comma, full stop or other sign that ends a phrase)."""
    at = start - 1
    while at >= 0 and text[at] == " ":
        at -= 1
    return at >= 0 and at < start - 1 and (text[at].isalnum() or text[at] == "-")


def terms(text: str | None) -> list[str]:
    """The terms of ``text`` (the analyser of the finder's TF-IDF)."""
    return [term for term, _ in terms_and_forms(text)]


def given(terms: list[str]) -> list[str]:
    """The analyser of a TF-IDF fed with terms already made (see :func:`terms`)."""
    return terms


class Forms:
    """For each term, the form the texts use most ("packag" → "packaging"), from texts
    already analysed by :func:`terms_and_forms`."""

    def __init__(self, analysed) -> None:
        counts: dict[str, Counter] = defaultdict(Counter)
        for text in analysed:
            for term, form in text:
                counts[term][form] += 1
        self._forms = {term: forms.most_common(1)[0][0] for term, forms in counts.items()}

    def __getitem__(self, term: str) -> str:
        return self._forms.get(term, term)
