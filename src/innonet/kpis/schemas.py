"""What the KPI pages and the API take in: entered figures, targets, alert thresholds and
check-ins, each with its range (a value outside it is refused naming the field)."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from innonet.challenges.schemas import StageFigures
from innonet.text import InputModel

# Money is entered in euros, up to a trillion: more is a typing slip.
MAX_MONEY = 1e12


def _money(description: str) -> Any:
    return Field(default=None, ge=0, le=MAX_MONEY, allow_inf_nan=False, description=description)


class FinanceIn(InputModel):
    """One party's own costs and revenues of a joint project, in euros."""

    estimated_cost: float | None = _money("What the project was expected to cost us, at its start")
    estimated_revenue: float | None = _money("What it was expected to earn us (sales, savings, licences)")
    realised_cost: float | None = _money("What it cost us, at its close")
    realised_revenue: float | None = _money("What it earned us, at its close")


class SalesIn(InputModel):
    """One year's turnover and the sales of new products in it, in euros."""

    year: int = Field(ge=1990, le=2100)
    turnover: float = Field(gt=0, le=MAX_MONEY, allow_inf_nan=False, description="All sales in the year")
    new_to_market: float = Field(ge=0, le=MAX_MONEY, allow_inf_nan=False, description=(
        "Sales of products (goods or services) new to the market, brought in during the last three years"))
    new_to_firm: float = Field(ge=0, le=MAX_MONEY, allow_inf_nan=False, description=(
        "Sales of products new to the firm only (the market had them already)"))

    @model_validator(mode="after")
    def _within_turnover(self) -> "SalesIn":
        if self.new_to_market + self.new_to_firm > self.turnover:
            raise ValueError("new_to_firm: new-to-market and new-to-firm sales together exceed the turnover")
        return self


class TargetIn(InputModel):
    """The value aimed for on one KPI (shares as fractions: 0.25 is 25 %)."""

    target: float = Field(allow_inf_nan=False)


class ThresholdsIn(InputModel):
    """When the daily check raises each alert."""

    decay_months: int = Field(6, ge=1, le=36, description="No activity with a partner for this many months")
    agreement_days: int = Field(30, ge=1, le=365, description="An agreement ends within this many days")
    country_hhi: float = Field(0.25, gt=0, le=1, allow_inf_nan=False,
                               description="Country concentration (Herfindahl index) above this")
    largest_partner_share: float = Field(0.4, gt=0, le=1, allow_inf_nan=False,
                                         description="One partner's share of the joint work above this")
    checkin_below: float = Field(3, gt=1, le=5, allow_inf_nan=False,
                                 description="A check-in's average answer below this")


class CheckInIn(InputModel):
    """One side's answers for one quarter: 1 (not at all) to 5 (fully)."""

    quarter: str | None = Field(None, pattern=r"^\d{4}Q[1-4]$", description="Default: the current quarter")
    value: int = Field(ge=1, le=5)
    trust: int = Field(ge=1, le=5)
    communication: int = Field(ge=1, le=5)
    fairness: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=2000)
    organisation: str | None = Field(None, max_length=64, description=(
        "The organisation answering, for people in several (its external id)"))


class TrendPoint(BaseModel):
    period: str
    value: float | None


class KpiBase(BaseModel):
    kpi: str
    label: str
    group: str
    unit: str
    better: str
    formula: str
    period: str = Field(description="The quarter or year the value is for (yearly KPIs: the period's year)")


class KpiOut(KpiBase):
    value: float | None = Field(description="None: the period holds no data for it (never 0 for want of data)")
    target: float | None
    status: str | None = Field(description="'met' or 'not met' against the target")
    trend: list[TrendPoint]


class SurveyTypeOut(BaseModel):
    type: str
    label: str
    eu_share: float
    partners: int
    portfolio_share: float | None
    finder: str


class SurveyOut(BaseModel):
    year: int
    partners: int
    types: list[SurveyTypeOut]
    also_work_with: list[SurveyTypeOut]
    source: str


class CategoryCount(BaseModel):
    category: str
    label: str
    partners: int


class CountryCount(BaseModel):
    country: str | None = Field(description="Two letters; None when unknown")
    partners: int


class PortfolioYear(BaseModel):
    year: int
    partners: int
    by_category: list[CategoryCount]
    by_country: list[CountryCount]


class ChallengeIdeas(BaseModel):
    challenge: int
    title: str
    ideas: int = Field(description="Ideas received in the period")
    selected: int = Field(description="Of those, how many reached “selected” or a later stage")
    selection_rate: float | None


class KpisOut(BaseModel):
    organisation: str
    period: str
    kpis: list[KpiOut]
    funnel: list[StageFigures]
    challenges: list[ChallengeIdeas] = Field(description="The organisation's challenges with ideas in the period")
    survey: SurveyOut
    portfolio: list[PortfolioYear] = Field(description="Partners by kind and by country, year by year")


class CatalogueOut(BaseModel):
    kpi: str
    label: str
    group: str
    unit: str
    better: str
    per: str
    formula: str


class SalesOut(SalesIn):
    innovative_sales_share: float


class FinanceOut(FinanceIn):
    organisation: str
    organisation_name: str


class FactorOut(BaseModel):
    factor: str
    label: str
    value: float | None = Field(description="0 to 1; None when it cannot be judged (it then weighs nothing)")
    reason: str
    points: float | None
    most: float | None = Field(description="The most points this factor can add, given the factors judged")


class ProjectRef(BaseModel):
    id: int
    title: str
    state: str


class HealthScore(BaseModel):
    score: int | None = Field(description="0-100; None when no factor can be judged")
    factors: list[FactorOut]


class PartnershipHealth(HealthScore):
    last_activity: date | None
    projects: list[ProjectRef]


class PartnershipOut(PartnershipHealth):
    partner: str
    partner_name: str
    country: str | None


class AnswerOut(BaseModel):
    quarter: str
    organisation: str
    organisation_name: str
    own: bool
    value: int
    trust: int
    communication: int
    fairness: int
    comment: str | None
    average: float
    answered_at: datetime


class WaitingOut(BaseModel):
    quarter: str
    answers: int = Field(description="Answers of the other side(s) shown once yours is given")


class CheckInsOut(BaseModel):
    answers: list[AnswerOut]
    waiting: list[WaitingOut]


class PartnershipDetailOut(PartnershipOut):
    check_ins: CheckInsOut
    answered_this_quarter: bool
    may_answer: bool = Field(True, description="Whether the viewer answers for a side (always: a partnership "
                                                "is read by its organisation's members only)")


class ProjectHealthOut(HealthScore):
    project: ProjectRef
    check_ins: CheckInsOut
    answered_this_quarter: bool
    may_answer: bool = Field(description="Whether the viewer answers for a party (its members only)")


class AlertOut(BaseModel):
    id: int
    kind: str
    subject: str
    title: str
    evidence: str
    action_label: str
    action_link: str
    state: str
    raised_on: date
    closed_on: date | None


class ClusterTrendPoint(TrendPoint):
    contributors: int = Field(description="Consenting members whose value is not zero (withheld below 3)")
    withheld: bool = Field(description="Members have data for it, but fewer than 3 other than zero")


class ClusterKpiOut(KpiBase):
    aggregate: str = Field(description="'sum' for counts, else 'median' over the members")
    value: float | None = Field(description="None when withheld (fewer than 3 members with a value other "
                                            "than zero) or no data")
    contributors: int = Field(description="Consenting members whose value is not zero")
    withheld: bool = Field(description="Members have data for it, but fewer than 3 other than zero: the value "
                                       "is held back")
    trend: list[ClusterTrendPoint]


class ClusterYearOut(BaseModel):
    year: int
    withheld: bool = Field(description="Fewer than 3 members had partners that year: its figures are held back")
    members_with_partners: int | None
    partners: int | None
    links_among_members: int | None


class ClusterKpisOut(BaseModel):
    period: str
    members: int
    min_contributors: int
    kpis: list[ClusterKpiOut]
    network: list[ClusterYearOut]
