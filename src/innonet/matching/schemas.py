"""Pydantic shapes of a partner search: the need with its filters and weights, and the
recommendations with their factors, reasons, introduction path and due diligence."""

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from innonet.countries import normalise_country
from innonet.matching.factors import PRESETS
from innonet.organisations.models import KINDS
from innonet.organisations.schemas import Kind, OrganisationSummary
from innonet.sharing.schemas import SharingFields, SharingOut
from innonet.text import TEXT_LIMITS, InputModel, RecordIdField

# Each vocabulary's words, checked by the API; a type checker sees plain strings.
if TYPE_CHECKING:
    Preset = str
else:
    Preset = Literal[tuple(PRESETS)]


def country_list(values: list[str]) -> list[str]:
    """ISO codes, each once, sorted (EL and UK accepted); ValueError names an unknown one."""
    return sorted({code for v in values if v and v.strip() and (code := normalise_country(v))})


class Weights(InputModel):
    """How much each factor counts (any non-negative numbers; they are normalised)."""

    model_config = ConfigDict(extra="forbid")

    capability_fit: float | None = Field(default=None, ge=0, le=100)
    complementarity: float | None = Field(default=None, ge=0, le=100)
    proximity: float | None = Field(default=None, ge=0, le=100)
    likelihood: float | None = Field(default=None, ge=0, le=100)
    cultural_closeness: float | None = Field(default=None, ge=0, le=100)
    diversification: float | None = Field(default=None, ge=0, le=100)
    alignment: float | None = Field(default=None, ge=0, le=100)


class NeedQuery(InputModel):
    """An innovation need and how to search for partners for it."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    need: str | None = Field(default=None, max_length=5000, description=(
        "What you are looking for; empty uses the organisation's stated needs, else its "
        "profile and projects"))
    k: int = Field(default=20, ge=1, le=200, description="How many partners to return")
    preset: Preset = "balanced"
    weights: Weights = Field(default_factory=Weights, description=(
        "Overrides of the preset's weights, factor by factor"))
    kinds: list[Kind] = Field(default_factory=list, max_length=len(KINDS),
                              description="Only these partner kinds (empty: the preset's, "
                              "else all)")
    preferred_countries: list[str] = Field(default_factory=list, max_length=300, description=(
        "Partners in these countries come first"))
    excluded_countries: list[str] = Field(default_factory=list, max_length=300)
    sme_only: bool = False
    exclude_competitors: bool = Field(default=False, description=(
        "Leave out organisations recorded as your competitors, and companies that share a "
        "stated sector with you"))
    new_partners_only: bool = Field(default=False, description="Leave out existing partners")
    max_per_project: int = Field(default=3, ge=0, le=10, description=(
        "At most this many of the first ten partners may owe their fit to the same project "
        "(one consortium would otherwise fill the list with identical reasons); the others "
        "follow after the tenth. 0: no limit"))

    _countries = field_validator("preferred_countries", "excluded_countries")(
        lambda values: country_list(values))

    def weight_of(self) -> dict[str, float]:
        """The preset's weights with the user's overrides."""
        chosen = dict(PRESETS[self.preset])
        chosen.update({name: value for name, value in self.weights.model_dump().items()
                       if value is not None})
        return chosen


class Factor(BaseModel):
    name: str
    label: str
    score: float = Field(ge=0, le=1)
    weight: float
    reason: str


class PathStep(BaseModel):
    external_id: str
    name: str


class DueDiligence(BaseModel):
    """Shown beside every candidate, never used to filter silently."""

    profile_completeness: float = Field(description="Share of profile fields filled in")
    missing: list[str]
    has_pic: bool
    has_vat: bool
    website: str | None
    projects: int
    coordinated: int
    first_year: int | None
    last_year: int | None


class Recommendation(BaseModel):
    rank: int
    external_id: str
    name: str
    kind: str
    country: str | None
    is_sme: bool | None
    score: float
    already_partner: bool
    preferred_country: bool
    factors: list[Factor]
    introduction_path: list[PathStep]
    due_diligence: DueDiligence


class Recommendations(BaseModel):
    organisation: PathStep
    need: str = Field(description="The words searched for")
    need_source: Literal["need", "stated_needs", "profile"]
    preset: str
    weights: dict[str, float]
    candidates_considered: int
    learned_ranker: bool = Field(description="False while the history is too short to learn "
                                 "from, or while a job learns from the newest history: "
                                 "likelihood then comes from the network walk")
    up_to_date: bool = Field(True, description="False for a moment after an import: the "
                             "answer comes from the data before it while the finder for the "
                             "new data is built")
    ranker_training_job: int | None = Field(
        description="The job learning the ranker from the newest history (see /api/v1/jobs/{id}); "
                    "the network walk orders until it is done")
    matched_words: list[str] = Field(
        default_factory=list, description="The need's words that the data holds, most "
        "distinctive first. Empty for a typed need: none of its words is in the data, and the "
        "partners (if any) come by meaning alone")
    suggested_words: list[str] = Field(
        default_factory=list, description="When no word of a typed need is in the data: words "
        "the data holds that are close in meaning, to search with instead")
    results: list[Recommendation]



class NeedFields(InputModel):
    """An innovation need as an organisation records it, with its search filters."""

    model_config = ConfigDict(str_strip_whitespace=True, from_attributes=True)

    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=TEXT_LIMITS["need.description"])
    partner_kinds: list[Kind] = Field(default_factory=list, max_length=len(KINDS))
    preferred_countries: list[str] = Field(default_factory=list, max_length=300)
    excluded_countries: list[str] = Field(default_factory=list, max_length=300)
    sme_only: bool = False
    exclude_competitors: bool = False

    _countries = field_validator("preferred_countries", "excluded_countries")(
        lambda values: country_list(values))

    def words(self) -> str:
        return ". ".join(t for t in (self.title, self.description) if t)


class NeedIn(NeedFields, SharingFields):
    """A new need; private (the organisation's members only) until shared."""

    organisation: str = Field(description="External id of the organisation that has the need")


class NeedPatch(InputModel):
    """The fields to change; sharing as for relationships."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    description: str | None = None
    partner_kinds: list[str] | None = None
    preferred_countries: list[str] | None = None
    excluded_countries: list[str] | None = None
    sme_only: bool | None = None
    exclude_competitors: bool | None = None
    visibility: str | None = None
    shared_with: list[str] | None = None
    agreement: RecordIdField | None = None


class NeedOut(NeedFields, SharingOut):
    id: int
    organisation: OrganisationSummary
    created_at: datetime
    updated_at: datetime


class ShortlistEntryOut(BaseModel):
    organisation: OrganisationSummary
    added_at: datetime


class DimensionOut(BaseModel):
    dimension: str
    name: str
    scores: dict[str, float] = Field(description="Country code -> its score (0-100, national average)")
    gap: float
    higher: str | None = Field(description="Where the gap is notable (20 points or more): the higher-scoring country")
    lower: str | None
    higher_expects: str
    lower_expects: str
    agree_on: str | None = Field(description="What to agree on explicitly, where the gap is notable")


class CountryPairOut(BaseModel):
    countries: list[str]
    distance: float | None = Field(description="Kogut–Singh distance (0 = the same profile); none when unknown")
    dimensions: list[DimensionOut]


class CulturalBriefing(BaseModel):
    """Hofstede's national averages compared for each pair of countries."""

    countries: list[str]
    missing: list[str] = Field(description="Countries without Hofstede scores")
    pairs: list[CountryPairOut]
