"""JSON endpoints: partner recommendations for one organisation."""

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from innonet.errors import API_ERROR_RESPONSES
from innonet.matching import service
from innonet.matching.schemas import NeedQuery, Preset, Recommendations
from innonet.sharing.policy import Viewer
from innonet.web import CurrentViewer, DbSession

router = APIRouter(prefix="/api/v1", responses=API_ERROR_RESPONSES, tags=["partner finder"])


@router.get("/orgs/{external_id}/recommendations", response_model=Recommendations)
def recommendations(
    external_id: str,
    session: Session = DbSession,
    viewer: Viewer = CurrentViewer,
    need: Annotated[str | None, Query(max_length=5000, description=(
        "What you are looking for; empty uses the organisation's stated needs, else its "
        "profile and projects"))] = None,
    k: Annotated[int, Query(ge=1, le=service.MAX_K)] = 20,
    preset: Preset = "balanced",
    new_partners_only: bool = False,
):
    """Partners for this organisation, best first, each with its factors (0–1), their
    reasons, the introduction path and a due-diligence panel."""
    return service.recommendations(session, viewer, external_id=external_id, query=NeedQuery(
        need=need, k=k, preset=preset, new_partners_only=new_partners_only))


@router.post("/orgs/{external_id}/recommendations", response_model=Recommendations)
def search_partners(external_id: str, query: NeedQuery, session: Session = DbSession,
                    viewer: Viewer = CurrentViewer):
    """The same for a full need: partner kinds, preferred and excluded countries, SMEs
    only, competitors left out, and the weight of each factor. Nothing is stored."""
    return service.recommendations(session, viewer, external_id=external_id, query=query)
