"""Knowledge items, their versions, links, attachments and search results in and out of the API."""

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from innonet.challenges.schemas import Tagged
from innonet.knowledge.models import KNOWLEDGE_KINDS, LINK_TYPES, TEXT_STATES
from innonet.organisations.schemas import OrganisationSummary
from innonet.sharing.schemas import SharingFields, SharingOut
from innonet.text import TEXT_LIMITS, InputModel, RecordIdField

if TYPE_CHECKING:
    KnowledgeKind = str
    LinkType = str
    TextState = str
else:
    KnowledgeKind = Literal[tuple(KNOWLEDGE_KINDS)]
    LinkType = Literal[tuple(LINK_TYPES)]
    TextState = Literal[tuple(TEXT_STATES)]


class LinkIn(InputModel):
    type: LinkType
    id: str = Field(min_length=1, max_length=64, description=(
        "An organisation's external id, or the number of a joint project, idea or challenge"))


class KnowledgeFields(Tagged):
    kind: KnowledgeKind = "how_to"
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=TEXT_LIMITS["knowledge_item.body"], description="Markdown")
    links: list[LinkIn] = Field(default_factory=list, max_length=50, description=(
        "What the item is about: organisations, joint projects, ideas and challenges (ones you may see)"))


class KnowledgeIn(KnowledgeFields, SharingFields):
    organisation: str = Field(min_length=1, max_length=64, description="The owner's external id (you are its member)")


class KnowledgePatch(InputModel):
    """An edit: ``version`` is the version it was made on. When someone saved a newer one
    meanwhile, the answer is 409 with both texts and nothing is changed."""

    version: int = Field(ge=1, le=2_147_483_647)
    kind: KnowledgeKind | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, max_length=TEXT_LIMITS["knowledge_item.body"])
    tags: list[str] | None = Field(default=None, max_length=50)
    links: list[LinkIn] | None = Field(default=None, max_length=50)
    visibility: str | None = None
    shared_with: list[str] | None = Field(default=None, max_length=200)
    agreement: RecordIdField | None = None


class LinkOut(BaseModel):
    type: LinkType
    id: str
    title: str
    url: str


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    type_name: str
    size: int
    sha256: str
    text_state: TextState
    uploaded_at: datetime
    url: str


class KnowledgeOut(SharingOut):
    id: int
    organisation: OrganisationSummary
    kind: KnowledgeKind
    title: str
    body: str
    tags: list[str]
    version: int
    links: list[LinkOut] = Field(description="Only the linked records you may see")
    attachments: list[AttachmentOut]
    may_edit: bool
    created_at: datetime
    updated_at: datetime


class VersionOut(BaseModel):
    version: int
    kind: KnowledgeKind
    title: str
    body: str
    tags: list[str]
    edited_by: str | None
    edited_at: datetime


class DiffLine(BaseModel):
    change: Literal["same", "added", "removed"]
    text: str


class DiffOut(BaseModel):
    old: int
    new: int
    title: list[DiffLine]
    body: list[DiffLine]


class SearchHit(BaseModel):
    id: int
    kind: KnowledgeKind
    title: str
    organisation: OrganisationSummary
    tags: list[str]
    excerpt: str = Field(description="The text around the first word found")
    updated_at: datetime


class SearchOut(BaseModel):
    query: str
    total: int = Field(description="Items you may see that match (counting stops at 'capped')")
    capped: bool
    hits: list[SearchHit]


class SearchView(SearchOut):
    """A search as its page shows it: the words to mark in titles and excerpts."""

    words: list[str]

    @property
    def items(self) -> list[SearchHit]:
        """The page's hits, as the pager counts them."""
        return self.hits


class RelatedOut(BaseModel):
    id: int
    title: str
    kind: KnowledgeKind
    similarity: float = Field(description="Cosine of the two items' meanings (1: the same)")
