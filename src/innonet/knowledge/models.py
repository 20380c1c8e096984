"""The knowledge base: items (lessons learned, how-tos, documents, market insights,
technology profiles), every version of each, their links to organisations, joint projects,
ideas and challenges, and their attachments.

Full-text search lives in the database beside the items (migration 0017): on SQLite an
FTS5 index kept in step by triggers, on PostgreSQL a generated ``tsvector`` column with a
GIN index. Neither is mapped here: ``knowledge.search`` is the one way to query them.
"""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from innonet.db import Base, UtcDateTime, check_length, check_one_of, utcnow
from innonet.sharing.models import Shareable, visibility_constraint

KNOWLEDGE_KINDS = {
    "lesson": "Lesson learned",
    "how_to": "How-to",
    "document": "Document",
    "market_insight": "Market insight",
    "technology_profile": "Technology profile",
}
LINK_TYPES = {
    "organisation": "Organisation",
    "project": "Joint project",
    "idea": "Idea",
    "challenge": "Challenge",
}
# Where an attachment's text stands: being read by a job, read, without text (an image),
# unreadable, or over a bound of reading (kept without its text: knowledge.extract).
TEXT_STATES = {"pending": "Reading its text", "done": "Text searchable", "none": "No text to search",
               "failed": "Its text could not be read",
               "too_large": "Kept without its text: it unpacks to too much to read"}


class KnowledgeItem(Shareable, Base):
    __tablename__ = "knowledge_item"
    share_type = "knowledge_item"
    owner_column = "organisation_id"
    __table_args__ = (visibility_constraint(), check_one_of("kind", KNOWLEDGE_KINDS),
                      check_length("knowledge_item", "body"),
                      Index("ix_knowledge_item_organisation_id_updated_at", "organisation_id", "updated_at"))

    def shared_notice(self, owner_external_id: str) -> tuple[str, str]:
        return f"the knowledge item “{self.title}”", f"/knowledge/{self.id}"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    # ",tag,other," so that one LIKE finds a whole tag.
    tags: Mapped[str] = mapped_column(String(600), default="")
    # Raised by every edit; an edit that names an older version is refused (409).
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The text of its attachments, as the extraction job read it (searched with the rest).
    attachment_text: Mapped[str] = mapped_column(Text, default="")
    # What the title and body mean (float32 unit vector), for related items.
    meaning: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class KnowledgeVersion(Base):
    """One version of an item as it was saved (the first one too)."""

    __tablename__ = "knowledge_version"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("knowledge_item.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(String(600))
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    edited_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class KnowledgeLink(Base):
    """What an item is about: an organisation, a joint project, an idea or a challenge."""

    __tablename__ = "knowledge_link"
    __table_args__ = (UniqueConstraint("item_id", "target_type", "target_id"), check_one_of("target_type", LINK_TYPES),
                      Index("ix_knowledge_link_target", "target_type", "target_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("knowledge_item.id", ondelete="CASCADE"))
    target_type: Mapped[str] = mapped_column(String(15))
    target_id: Mapped[int] = mapped_column(Integer)


class Attachment(Base):
    __tablename__ = "attachment"
    __table_args__ = (check_one_of("text_state", TEXT_STATES), Index("ix_attachment_item_id", "item_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("knowledge_item.id", ondelete="CASCADE"))
    # The name as uploaded, without any folder part or character a file system would mind.
    filename: Mapped[str] = mapped_column(String(200))
    # The type its first bytes show (never the name's ending).
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # Where the storage keeps it: a random name, never the uploaded one.
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    text: Mapped[str | None] = mapped_column(Text)
    text_state: Mapped[str] = mapped_column(String(10), default="pending")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
