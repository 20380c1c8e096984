"""Partner recommendations from the database, and the innovation needs they answer.

The finder (candidates, learned ranker, words) reads public data only: organisations,
projects and participations. Proximity, introducers and the partner portfolio come from
the graph the asking user may see (network.service.analysis). So no recommendation and
no reason can reveal what that user may not see. The finder is prepared once per data
version and kept with the rankers learned for its history (``matching/finder.py``).
"""

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from innonet import roles
from innonet.db import rows_changed
from innonet.errors import InvalidInput, NotFound, Problem
from innonet.jobs.models import Job
from innonet.jobs.queue import queue_of
from innonet.matching import factors, features, ranker

# The finder's names the other domains and commands use, from here as before.
from innonet.matching.finder import NOT_LEARNED, Finder, finder_now, start_training
from innonet.matching.finder import TRAINING_JOB as TRAINING_JOB
from innonet.matching.finder import finder as finder
from innonet.matching.finder import submit_training as submit_training
from innonet.matching.finder import train_rankers as train_rankers
from innonet.matching.history import KIND_CODES, History, NeedWords
from innonet.matching.models import Need, ShortlistEntry
from innonet.matching.schemas import (
    CountryPairOut,
    CulturalBriefing,
    DimensionOut,
    DueDiligence,
    Factor,
    NeedFields,
    NeedIn,
    NeedOut,
    NeedQuery,
    PathStep,
    Recommendation,
    Recommendations,
)
from innonet.network import service as network
from innonet.network.building import VERTEX_ATTRIBUTES, Analysis
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation
from innonet.roles import Viewer
from innonet.sharing import policy
from innonet.sharing import service as sharing

MAX_K = 200

def check_k(k: int) -> int:
    if not 1 <= k <= MAX_K:
        raise InvalidInput(f"k must be between 1 and {MAX_K}.",
                           [Problem(f"must be between 1 and {MAX_K}", field="k")])
    return k


def batch_new_partners(session: Session, external_ids: list[str], k: int,
                       warn: Callable[[str], None]) -> list[tuple]:
    """``org_id,rank,partner_id,score`` rows for each known organisation: at most k new
    partners, never itself nor an existing partner. Unknown ids go to ``warn``."""
    return _batch(session, [(key, key, None) for key in external_ids], k, warn,
                  new_partners_only=True)


def batch_needs(session: Session, needs: list[tuple[str, str, str]], k: int,
                warn: Callable[[str], None]) -> list[tuple]:
    """``query_id,rank,partner_id,score`` rows for each (query id, organisation, need):
    existing partners may come back, the organisation itself never does."""
    return _batch(session, needs, k, warn, new_partners_only=False)


def _batch(session: Session, questions: Sequence[tuple[str, str, str | None]], k: int, warn: Callable[[str], None], *,
           new_partners_only: bool) -> list[tuple]:
    check_k(k)
    found = finder(session)
    ids = organisations.ids_by_external_id(session, external_ids=[q[1] for q in questions])
    known = []
    for query, organisation, need in questions:
        if organisation in ids:
            known.append((query, found.index_of[ids[organisation]], need))
        else:
            warn(f"Unknown organisation {organisation!r}: skipped.")
    out: list[tuple] = []
    for start in range(0, len(known), ranker.BATCH):
        batch = known[start:start + ranker.BATCH]
        walks = found.history.walks([asker for _, asker, _ in batch])
        for column, (query, asker, need) in enumerate(batch):
            ranked = found.recommend(asker, need, k, new_partners_only=new_partners_only,
                                     walk=walks[:, column])
            out.extend((query, rank, found.external_ids[candidate], round(score, 6))
                       for rank, (candidate, score) in enumerate(ranked, start=1))
    return out


# What a complete profile has, in the words the due-diligence panel uses.
PROFILE_FIELDS = {"description": "description", "capabilities": "capabilities",
                  "sectors": "sectors", "website": "website", "country": "country",
                  "city": "city", "is_sme": "SME status", "identifier": "PIC or VAT number"}


def recommendations(session: Session, viewer: Viewer, *, external_id: str,
                    query: NeedQuery) -> Recommendations:
    """Ranked partners for one organisation and need, each with its factors, reasons,
    introduction path and due-diligence panel. Proximity, introducers and the portfolio
    come from the graph the viewer may see; everything else from public data."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    weights = query.weight_of()
    if not any(value > 0 for value in weights.values()):
        raise InvalidInput.for_field("weights", "at least one weight must be above 0")
    found, up_to_date = finder_now(session, organisation_id=organisation.id)
    history, q = found.history, found.index_of[organisation.id]
    need, need_text, source = _need(history, q, query.need, organisation.needs)
    meaning = history.need_meaning(need_text, q)
    if need is None:
        # No word of the typed need is in the data: partners come by meaning alone, and
        # without a meaning either, there is nothing to answer with.
        need = sp.csr_matrix(history.profiles[q].shape)
        if not meaning.any():
            return Recommendations(
                organisation=PathStep(external_id=organisation.external_id, name=organisation.name),
                need=need_text, need_source=source, preset=query.preset, weights=weights,
                candidates_considered=0, learned_ranker=False, up_to_date=up_to_date,
                ranker_training_job=None, results=[])

    graph, vertices = _viewer_graph(found, network.analysis(session, viewer))
    allowed = _allowed(found, q, query, graph, vertices)
    question = ranker.NEW_PARTNERS if query.new_partners_only else ranker.CONSORTIUM
    pool = features.candidates(history, q, need, meaning, found.walk(q),
                               exclude_partners=query.new_partners_only, allowed=allowed)
    model, training = _ranker(session, found, question)
    ids, scores = ranker.order(model, pool)
    assessment = factors.assess(history, q, need, ids, scores, graph=graph,
                                vertices=vertices, statements=found.statements,
                                need_meaning=meaning)
    weight = np.array([weights[name] for name in factors.FACTORS], dtype=float)
    total = assessment.matrix() @ weight / weight.sum()
    preferred = np.isin(history.countries[ids], query.preferred_countries)
    chosen = _diversified(history, ids, np.lexsort((-total, ~preferred)), need, meaning,
                          query.max_per_project)[:query.k]
    search = factors.Search(history=history, q=q, ids=ids, assessment=assessment, graph=graph,
                            vertices=vertices, statements=found.statements)
    results = _results(session, found, search, chosen, total, preferred, weights)
    names_of_words = history.words()
    return Recommendations(
        organisation=PathStep(external_id=organisation.external_id, name=organisation.name),
        need=need_text, need_source=source, preset=query.preset, weights=weights,
        candidates_considered=int(ids.size), learned_ranker=model is not None,
        up_to_date=up_to_date, ranker_training_job=training.id if training else None,
        matched_words=[str(names_of_words[t]) for t in assessment.need_terms[:factors.SHOWN_WORDS]],
        suggested_words=[] if need.nnz else history.words_near(meaning),
        results=results)


# The first ranks that max_per_project applies to.
DIVERSE_RANKS = 10


def _diversified(history: History, ids: np.ndarray, order: np.ndarray, need: NeedWords, meaning: np.ndarray,
                 most: int) -> np.ndarray:
    """``order`` (rows of the pool) with at most ``most`` of the first DIVERSE_RANKS owing
    their fit to the same project (the candidate's project closest to the need, in words,
    else in meaning); those beyond follow the tenth, in their order."""
    if most <= 0:
        return order
    first: list[int] = []
    later: list[int] = []
    per_project: Counter[int | None] = Counter()
    for row in order.tolist():
        if len(first) == DIVERSE_RANKS:
            later.append(row)
            continue
        project = factors.project_behind_fit(history, int(ids[row]), need, meaning)
        if project is not None and per_project[project] >= most:
            later.append(row)
            continue
        per_project[project] += 1
        first.append(row)
    return np.array(first + later, dtype=order.dtype)


def _need(history: History, q: int, typed: str | None, stated: str | None) -> tuple[NeedWords | None, str, str]:
    """(vector, words, where they came from): the need typed; without one, the stated
    needs, else the organisation's profile, whichever first has a word the history knows.
    A typed need none of whose words the history knows gives no vector (None): it is not
    replaced by another question."""
    if typed and typed.strip():
        return history.text_vector(typed), typed, "need"
    if stated and (need := history.text_vector(stated)) is not None:
        return need, stated, "stated_needs"
    return history.profiles[q], "", "profile"


def _results(session: Session, found: Finder, search: factors.Search, chosen: np.ndarray, total: np.ndarray,
             preferred: np.ndarray, weights: dict) -> list[Recommendation]:
    """The chosen candidates with their factors, reasons, introduction path and panel."""
    ids, graph, v = search.ids, search.graph, search.asker_vertex
    shown = organisations.organisations_by_id(
        session, ids=[found.organisation_ids[int(ids[row])] for row in chosen])
    names = graph.vertices["name"]
    targets = search.vertices[ids[chosen]].tolist()
    steps_shown = search.assessment.steps[chosen].tolist()
    common = [factors.introducers(graph, v, t) if s == 2 else []
              for t, s in zip(targets, steps_shown, strict=True)]
    paths = factors.introduction_paths(graph, v, targets, steps_shown, common)
    results = []
    for rank, (row, path, introducers) in enumerate(zip(chosen.tolist(), paths, common,
                                                        strict=True), start=1):
        candidate = int(ids[row])
        other = shown[found.organisation_ids[candidate]]
        why = factors.reasons(search, row, introducers)
        results.append(Recommendation(
            rank=rank, external_id=other.external_id, name=other.name, kind=other.kind,
            country=other.country, is_sme=other.is_sme, score=round(float(total[row]), 4),
            already_partner=bool(search.assessment.steps[row] == 1),
            preferred_country=bool(preferred[row]),
            factors=[Factor(name=name, label=label,
                            score=round(float(search.assessment.values[name][row]), 4),
                            weight=weights[name], reason=why[name])
                     for name, label in factors.FACTORS.items()],
            introduction_path=[PathStep(external_id=graph.vertices["external_id"][u], name=names[u])
                               for u in path],
            due_diligence=_due_diligence(other, found.history, candidate)))
    return results


def _ranker(session: Session, found: Finder, question: str) -> tuple[ranker.Scorer | None, Job | None]:
    """(ranker, training job): in the web app a request never learns; until a job has
    stored the ranker for this history, the network walk orders and a job is learning it."""
    if queue_of(session) is None:
        return found.model(question), None
    model = found.stored_model(session, question)
    if model is NOT_LEARNED:
        job = start_training(session)
        if job is None or job.status != "done":
            return None, job
        model = found.stored_model(session, question)  # learned as it was asked (memory://)
    return (None if model is NOT_LEARNED else model), None


# The last analysis joined with organisations it lacks: (analysis, finder, joined).
_joined: list = []
_joined_lock = threading.Lock()


def _viewer_graph(found: Finder, result: Analysis) -> tuple[factors.ViewerGraph, np.ndarray]:
    """The graph the viewer may see, and the vertex of each organisation the finder knows.
    An analysis computed before the newest organisations were added (served while the one
    for the new data is computed) lacks them: they join it without ties."""
    ids = result.organisation_ids
    # Both number the organisations in the order of their ids.
    vertices = np.searchsorted(ids, found.id_array)
    known = vertices < ids.size
    known[known] = ids[vertices[known]] == found.id_array[known]
    W, A = result.weights(), result.adjacency()
    values = {attribute: result.vertex_values(attribute) for attribute in VERTEX_ATTRIBUTES}
    if known.all():
        return factors.ViewerGraph(values, W, A, result.partner_kinds()), vertices
    with _joined_lock:  # the same pair again and again until the new analysis is ready
        if _joined and _joined[0] is result and _joined[1] is found:
            return _joined[2]
    missing = np.flatnonzero(~known)
    n, k = len(values["external_id"]), missing.size
    newcomers = [found.external_ids[i] for i in missing]  # named by their id until analysed
    values = {attribute: [*values[attribute], *(newcomers if attribute in ("external_id", "name") else [None] * k)]
              for attribute in VERTEX_ATTRIBUTES}

    def padded(M: sp.csr_matrix) -> sp.csr_matrix:
        return sp.csr_matrix((M.data, M.indices, np.concatenate([M.indptr, np.full(k, M.indptr[-1])])),
                             shape=(n + k, n + k))

    vertices = vertices.copy()
    vertices[missing] = n + np.arange(k)
    joined = (factors.ViewerGraph(values, padded(W), padded(A), result.partner_kinds()), vertices)
    with _joined_lock:
        _joined[:] = [result, found, joined]
    return joined


def _allowed(found: Finder, q: int, query: NeedQuery, graph: factors.ViewerGraph,
             vertices: np.ndarray) -> np.ndarray:
    """The organisations the need's filters let through (a boolean mask)."""
    history = found.history
    allowed = np.ones(history.n, dtype=bool)
    kinds = query.kinds or factors.PRESET_KINDS.get(query.preset, ())
    if kinds:
        allowed &= np.isin(history.kinds, [KIND_CODES[kind] for kind in kinds])
    if query.excluded_countries:
        allowed &= ~np.isin(history.countries, query.excluded_countries)
    if query.sme_only:
        allowed &= found.is_sme
    if query.exclude_competitors:
        # Recorded as a competitor in a relationship the viewer may see, or of the same
        # kind with a stated sector in common.
        index_of_vertex = np.empty(len(vertices), dtype=np.int64)
        index_of_vertex[vertices] = np.arange(len(vertices))
        v = int(vertices[q])
        for (a, b), kinds_recorded in graph.partner_kinds.items():
            if a == v and "competitor" in kinds_recorded:
                allowed[index_of_vertex[b]] = False
        mine = found.statements.get(q)
        if mine and mine.sectors:
            for i, theirs in found.statements.items():
                if history.kinds[i] == history.kinds[q] and mine.sectors & theirs.sectors:
                    allowed[i] = False
    return allowed


def _due_diligence(organisation: Organisation, history: History, i: int) -> DueDiligence:
    filled = {"description": organisation.description, "capabilities": organisation.capabilities,
              "sectors": organisation.sectors, "website": organisation.website,
              "country": organisation.country, "city": organisation.city,
              "is_sme": organisation.is_sme is not None or None,
              "identifier": organisation.pic or organisation.vat}
    missing = [PROFILE_FIELDS[name] for name, value in filled.items() if not value]
    B = history.members
    years = history.project_years[B.indices[B.indptr[i]:B.indptr[i + 1]]]
    return DueDiligence(
        profile_completeness=round(1 - len(missing) / len(filled), 2), missing=missing,
        has_pic=bool(organisation.pic), has_vat=bool(organisation.vat),
        website=organisation.website, projects=int(history.projects[i]),
        coordinated=int(history.coordinated[i]),
        first_year=int(years.min()) if years.size else None,
        last_year=int(years.max()) if years.size else None)


# ---------------------------------------------------------------- needs


def create_need(session: Session, viewer: Viewer, *, data: NeedIn) -> Need:
    """Record an innovation need of an organisation (its members may)."""
    organisation = organisations.get_organisation(session, external_id=data.organisation)
    roles.ensure_insider(viewer, organisation.id)
    need = Need(organisation_id=organisation.id,
                **data.model_dump(include=set(NeedFields.model_fields)))
    sharing.add_item(session, viewer, item=need, data=data)
    return need


def get_need(session: Session, viewer: Viewer, *, need_id: int, for_change: bool = False) -> Need:
    """A need the viewer may see (NotFound otherwise, as if it did not exist)."""
    return sharing.get_visible(session, viewer, Need, need_id, label="need",
                               for_change=for_change)


def update_need(session: Session, viewer: Viewer, *, need_id: int, changes: dict) -> Need:
    """Change the given fields (and sharing) of a need, validated as a whole."""
    need = get_need(session, viewer, need_id=need_id, for_change=True)
    data = sharing.changed_fields(need, NeedFields, changes)
    for name, value in data.model_dump().items():
        setattr(need, name, value)
    sharing.change_sharing(session, viewer, item=need, changes=changes)
    session.flush()
    sharing.record(session, viewer, action="update", items=[need])
    return need


def delete_need(session: Session, viewer: Viewer, *, need_id: int) -> None:
    sharing.delete_item(session, viewer, item=get_need(session, viewer, need_id=need_id,
                                                       for_change=True))


def list_needs(session: Session, viewer: Viewer, *, external_id: str) -> list[Need]:
    """An organisation's needs that the viewer may see, newest first."""
    organisation = organisations.get_organisation(session, external_id=external_id)
    needs = list(session.scalars(select(Need).where(
        Need.organisation_id == organisation.id, policy.visible_condition(viewer, Need))
        .order_by(Need.created_at.desc(), Need.id.desc())))
    sharing.record(session, viewer, action="read", items=needs)
    return needs


def shortlist(session: Session, viewer: Viewer, *, need: Need) -> list[tuple[Organisation, ShortlistEntry]]:
    """The organisations kept on a need's shortlist (a need the viewer may see), in the
    order they were added."""
    rows = session.execute(select(Organisation, ShortlistEntry).join(
        ShortlistEntry, ShortlistEntry.organisation_id == Organisation.id)
        .where(ShortlistEntry.need_id == need.id).order_by(ShortlistEntry.id)).all()
    return [(o, e) for o, e in rows]


def add_to_shortlist(session: Session, viewer: Viewer, *, need_id: int, partner: str) -> bool:
    """Keep an organisation on the need's shortlist (the owner's members); False when it
    was there already."""
    need = get_need(session, viewer, need_id=need_id, for_change=True)
    organisation = organisations.get_organisation(session, external_id=partner)
    if organisation.id == need.organisation_id:
        raise InvalidInput.for_field("partner", "the need's own organisation cannot be its partner")
    try:
        with session.begin_nested():
            session.add(ShortlistEntry(need_id=need.id, organisation_id=organisation.id,
                                       added_by_id=viewer.user_id))
            session.flush()
    except IntegrityError:
        return False  # already there, perhaps added a moment ago by a colleague
    sharing.record(session, viewer, action="update", items=[need])
    return True


def remove_from_shortlist(session: Session, viewer: Viewer, *, need_id: int, partner: str) -> None:
    need = get_need(session, viewer, need_id=need_id, for_change=True)
    organisation = organisations.get_organisation(session, external_id=partner)
    removed = session.execute(delete(ShortlistEntry).where(
        ShortlistEntry.need_id == need.id, ShortlistEntry.organisation_id == organisation.id))
    if not rows_changed(removed):
        raise NotFound(f"{organisation.name} is not on this need's shortlist.")
    sharing.record(session, viewer, action="update", items=[need])


def need_view(session: Session, viewer: Viewer, *, needs: list[Need]) -> list[NeedOut]:
    """Needs with their organisation and who sees them."""
    by_id = organisations.organisations_by_id(session, ids=[n.organisation_id for n in needs])
    shares = sharing.sharing_view(session, viewer, items=needs)
    return [NeedOut.model_validate(
        {name: getattr(need, name) for name in (*NeedFields.model_fields, "id", "created_at", "updated_at")}
        | dict(shares[need.id]) | {"organisation": by_id[need.organisation_id]}) for need in needs]


def query_for_need(need: Need, **options: Any) -> NeedQuery:
    """The partner search a stored need stands for (k, preset, weights from ``options``)."""
    fields = NeedFields.model_validate(need)
    return NeedQuery(need=fields.words(), kinds=fields.partner_kinds,
                     preferred_countries=fields.preferred_countries,
                     excluded_countries=fields.excluded_countries, sme_only=fields.sme_only,
                     exclude_competitors=fields.exclude_competitors, **options)


def need_recommendations(session: Session, viewer: Viewer, *, need_id: int,
                         **options: Any) -> Recommendations:
    """Recommendations for a stored need the viewer may see, with its filters."""
    need = get_need(session, viewer, need_id=need_id)
    owner = organisations.organisations_by_id(session, ids=[need.organisation_id])[need.organisation_id]
    try:
        query = query_for_need(need, **options)
    except ValidationError as error:
        raise InvalidInput.from_validation(error.errors()) from None
    return recommendations(session, viewer, external_id=owner.external_id, query=query)


def cultural_briefing(countries: list[str]) -> CulturalBriefing:
    """For each pair of these countries (ISO codes), Hofstede's dimensions compared and what
    to agree on; the Kogut–Singh distance as the partner finder shows it."""
    from innonet.analytics import culture

    known = sorted({c for c in countries if c})
    pairs = []
    for n, a in enumerate(known):
        for b in known[n + 1:]:
            pairs.append(CountryPairOut(countries=[a, b], distance=culture.kogut_singh(
                factors.HOFSTEDE, a, b, factors.HOFSTEDE_VARIANCES), dimensions=[
                DimensionOut.model_validate(d) for d in culture.compare_countries(factors.HOFSTEDE, a, b)]))
    return CulturalBriefing(countries=known, missing=[c for c in known if c not in factors.HOFSTEDE], pairs=pairs)
