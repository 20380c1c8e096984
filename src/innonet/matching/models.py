"""Innovation needs: what an organisation looks for partners for, private until shared."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from innonet.db import Base, UtcDateTime, check_length, utcnow
from innonet.sharing.models import Shareable, visibility_constraint


class Need(Shareable, Base):
    """A need with the filters of its partner search; its owner decides who sees it."""

    __tablename__ = "need"
    share_type = "need"
    owner_column = "organisation_id"
    __table_args__ = (visibility_constraint(), check_length("need", "description"),
                      Index("ix_need_organisation_id", "organisation_id"))

    def shared_notice(self, owner_external_id: str) -> tuple[str, str]:
        return f"the need “{self.title}”", f"/orgs/{owner_external_id}/partners?need_id={self.id}"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    partner_kinds: Mapped[list] = mapped_column(JSON, default=list)
    preferred_countries: Mapped[list] = mapped_column(JSON, default=list)
    excluded_countries: Mapped[list] = mapped_column(JSON, default=list)
    sme_only: Mapped[bool] = mapped_column(Boolean, default=False)
    exclude_competitors: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ShortlistEntry(Base):
    """An organisation kept on a need's shortlist; whoever sees the need sees its shortlist."""

    __tablename__ = "shortlist_entry"
    __table_args__ = (UniqueConstraint("need_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RankerModel(Base):
    """A learned ranker for one history, stored so that requests never wait for learning
    (``innonet train-rankers``). Derived data: backups leave it out."""

    __tablename__ = "ranker_model"
    __table_args__ = (UniqueConstraint("history_digest", "question"), {"info": {"derived": True}})

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the participations, years and project words the ranker learned from.
    history_digest: Mapped[str] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(String(20))
    # LightGBM's own text format; empty when the history was too short to learn from.
    model: Mapped[str] = mapped_column(Text)
    trained_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
