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

import numpy as np
import scipy.sparse as sp
import snowballstemmer

from innonet.analytics.stop_words import ENGLISH as ENGLISH_STOP_WORDS

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


class TfIdf:
    """Weights of terms in texts already made into terms (:func:`terms`): the terms found
    in at least ``min_texts`` texts, in alphabetical order; a term's weight in a text is
    (1 + ln count) × idf, idf = ln((1 + texts) / (1 + texts with the term)) + 1, and each
    text's row has unit length. These are scikit-learn's TfidfVectorizer weights with
    sublinear tf (the finder's validation figures were measured with them); made here so
    that a process answering searches need not load scikit-learn.
    """

    def __init__(self, texts: list[list[str]], *, min_texts: int = 2) -> None:
        counts = Counter(term for text in texts for term in set(text))
        self.terms = np.array(sorted(term for term, count in counts.items() if count >= min_texts), dtype=object)
        self._index = {term: i for i, term in enumerate(self.terms)}
        in_texts = np.array([counts[term] for term in self.terms], dtype=float)
        self.idf = np.log((1 + len(texts)) / (1 + in_texts)) + 1

    def transform(self, texts: list[list[str]]) -> sp.csr_matrix:
        """One unit-length row per text (all zero when none of its terms is known)."""
        indptr, indices, counts = [0], [], []
        for text in texts:
            found = Counter(i for term in text if (i := self._index.get(term)) is not None)
            for i in sorted(found):
                indices.append(i)
                counts.append(found[i])
            indptr.append(len(indices))
        data = (np.log(np.array(counts, dtype=float)) + 1) * self.idf[np.array(indices, dtype=np.int64)]
        return unit_rows(sp.csr_matrix((data, indices, indptr), shape=(len(texts), len(self.terms))))


def unit_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """The rows of a sparse matrix scaled to unit length (rows of zeros stay so)."""
    matrix = sp.csr_matrix(matrix, dtype=float, copy=True)
    lengths = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    matrix.data /= np.repeat(np.where(lengths > 0, lengths, 1), np.diff(matrix.indptr))
    return matrix


class Forms:
    """For each term, the form the texts use most ("packag" → "packaging"), from texts
    already analysed by :func:`terms_and_forms`."""

    def __init__(self, analysed: list) -> None:
        counts: dict[str, Counter] = defaultdict(Counter)
        for text in analysed:
            for term, form in text:
                counts[term][form] += 1
        self._forms = {term: forms.most_common(1)[0][0] for term, forms in counts.items()}

    def __getitem__(self, term: str) -> str:
        return self._forms.get(term, term)
