"""Pydantic shapes of organisations for the API, the forms and the importers."""

import re
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from innonet.countries import normalise_country
from innonet.organisations.models import KINDS
from innonet.text import TEXT_LIMITS, InputModel

# Each vocabulary's words, checked by the API; a type checker sees plain strings.
if TYPE_CHECKING:
    Kind = str
else:
    Kind = Literal[tuple(KINDS)]


def _blank_to_none(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


class OrganisationFields(InputModel):
    """Everything a person may write about an organisation."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=300)
    short_name: str | None = Field(default=None, max_length=100)
    pic: str | None = Field(default=None, max_length=20, description="EU Participant Identification Code")
    vat: str | None = Field(default=None, max_length=40)
    kind: Kind = "company"
    is_sme: bool | None = None
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 (EL and UK accepted)")
    region: str | None = Field(default=None, max_length=10, description="NUTS code")
    city: str | None = Field(default=None, max_length=120)
    website: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=TEXT_LIMITS["organisation.description"])
    capabilities: str | None = Field(default=None, max_length=TEXT_LIMITS["organisation.capabilities"],
                                     description="What the organisation offers")
    needs: str | None = Field(default=None, max_length=TEXT_LIMITS["organisation.needs"],
                              description="What the organisation seeks")
    sectors: str | None = Field(default=None, max_length=TEXT_LIMITS["organisation.sectors"])
    goals: str | None = Field(default=None, max_length=TEXT_LIMITS["organisation.goals"],
                              description="Strategic goals, for alignment")
    values_statement: str | None = Field(default=None,
                                         max_length=TEXT_LIMITS["organisation.values_statement"])

    _blanks = field_validator(
        "short_name", "pic", "vat", "country", "region", "city", "website", "description",
        "capabilities", "needs", "sectors", "goals", "values_statement", mode="before",
    )(_blank_to_none)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return normalise_country(value)

    @field_validator("pic")
    @classmethod
    def _pic(cls, value: str | None) -> str | None:
        if value is not None and not value.isdigit():
            raise ValueError("a PIC has digits only")
        return value

    @field_validator("website")
    @classmethod
    def _website(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://", value, re.IGNORECASE):
            value = "https://" + value
        if not re.match(r"^https?://[^\s/$.?#][^\s]*\.[^\s]+$", value, re.IGNORECASE):
            raise ValueError("not a web address (e.g. https://example.com)")
        return value


class OrganisationIn(OrganisationFields):
    external_id: str | None = Field(
        default=None, max_length=64, pattern=r"^[A-Za-z0-9:._-]+$",
        description="Identifier in URLs and files; defaults to the PIC, else one is generated",
    )


class OrganisationPatch(InputModel):
    """A partial update: only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    short_name: str | None = None
    pic: str | None = None
    vat: str | None = None
    kind: Kind | None = None
    is_sme: bool | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None
    website: str | None = None
    description: str | None = None
    capabilities: str | None = None
    needs: str | None = None
    sectors: str | None = None
    goals: str | None = None
    values_statement: str | None = None


class OrganisationSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    external_id: str
    name: str
    short_name: str | None
    kind: Kind
    is_sme: bool | None
    country: str | None


class OrganisationOut(OrganisationSummary):
    pic: str | None
    vat: str | None
    region: str | None
    city: str | None
    website: str | None
    description: str | None
    capabilities: str | None
    needs: str | None
    sectors: str | None
    goals: str | None
    values_statement: str | None
    created_at: datetime
    updated_at: datetime


class OrganisationPage(BaseModel):
    items: list[OrganisationSummary]
    total: int
    total_capped: bool = Field(description="True when a text search matched more than `total` "
                               "organisations: counting stops at 1,000; add words or filters")
    page: int
    per_page: int
