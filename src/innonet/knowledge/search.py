"""Full-text search over knowledge items (titles, tags, bodies and attachments' text), the
same on both databases: SQLite's FTS5 index (BM25 ranking, Porter stemming) and
PostgreSQL's ``tsvector`` (``ts_rank_cd``, English stemming), both made by migration 0017
and kept in step with the items by the database itself.

Every query carries the caller's visibility condition inside the database's own search,
so nothing the viewer may not read is returned, counted or ranked.
"""

import re

import snowballstemmer
from sqlalchemy import ColumnElement, Select, column, func, literal_column, select, table
from sqlalchemy.orm import Session

from innonet.knowledge.models import KnowledgeItem

MAX_WORDS = 8
WORD = re.compile(r"\w+", re.UNICODE)
_stemmer = snowballstemmer.stemmer("english")
# SQLite's FTS5 table: its rowid is the item's id.
FTS = table("knowledge_fts", column("rowid"))


def words_of(query: str) -> list[str]:
    """The words searched for (each must be found), lower case, at most MAX_WORDS."""
    return list(dict.fromkeys(w.casefold() for w in WORD.findall(query)))[:MAX_WORDS]


def highlight_words(words: list[str]) -> list[str]:
    """What to mark in an excerpt: each word and its stem (so "coatings" marks "coating")."""
    return list(dict.fromkeys(words + [s for s in _stemmer.stemWords(words) if len(s) >= 3]))


def _fts5_query(words: list[str]) -> str:
    # Each word quoted: a word is never read as an FTS5 operator (NOT, NEAR, *, ^, column:).
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def matching(session: Session, words: list[str], *conditions: ColumnElement[bool]) -> Select:
    """The items whose text holds every word and that pass the ``conditions``: a query of
    (item id, rank) with the best first (ranks compare within one query only)."""
    if session.get_bind().dialect.name == "postgresql":
        query = func.plainto_tsquery("english", " ".join(words))
        vector: ColumnElement = literal_column("knowledge_item.search_vector")
        score = func.ts_rank_cd(vector, query)
        return (select(KnowledgeItem.id, score.label("rank"))
                .where(vector.op("@@")(query), *conditions).order_by(score.desc(), KnowledgeItem.id.desc()))
    rank: ColumnElement = literal_column("bm25(knowledge_fts, 10.0, 8.0, 1.0, 0.5)")
    return (select(KnowledgeItem.id, (-rank).label("rank"))
            .select_from(KnowledgeItem)
            .join(FTS, FTS.c.rowid == KnowledgeItem.id)
            .where(literal_column("knowledge_fts").op("MATCH")(_fts5_query(words)), *conditions)
            .order_by(rank, KnowledgeItem.id.desc()))


