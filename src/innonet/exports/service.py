"""Export my data: one ZIP with everything an organisation owns or holds as its own, each
table as CSV and JSON, a README that says what each file holds, and its network in the
import template (so that it can be imported again). Built by a job in the web app."""

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import IO

from sqlalchemy.orm import Session

from innonet import roles
from innonet.accounts import service as accounts
from innonet.collaborations import service as collaborations
from innonet.errors import Forbidden
from innonet.imports import template
from innonet.introductions import service as introducing
from innonet.jobs.models import Job
from innonet.jobs.queue import web_queue
from innonet.jobs.service import JobContext, files_dir, job_kind
from innonet.matching import service as matching
from innonet.organisations import service as organisations
from innonet.organisations.models import Organisation
from innonet.organisations.schemas import OrganisationFields, OrganisationSummary
from innonet.roles import Viewer
from innonet.sharing import service as sharing
from innonet.sharing.service import AUDIT_CSV_COLUMNS
from innonet.text import csv_cell

EXPORT_JOB = "exports.organisation"

# Each table: its file name (without .csv / .json), its columns, and what the README says.
TABLES = {
    "organisation": "The organisation's profile.",
    "relationships": "The relationships the organisation recorded, with who may see each "
                     "(visibility, the organisations it is shared with, the agreement that gates it).",
    "project_partners": "Each partner in each of the organisation's funded projects (public data): "
                        "the project, the organisation's role and contribution, the partner's.",
    "needs": "The organisation's innovation needs, with their search filters and who may see them.",
    "shortlists": "The partners kept on each need's shortlist.",
    "agreements": "The agreements the organisation is party to, with the other parties.",
    "agreement_documents": "What is known of each agreement's signed documents (not the files).",
    "members": "The people with an account in the organisation and their role (no passwords, "
               "tokens or other secrets).",
    "shares": "Each record the organisation owns that is shared with named organisations, one "
              "line per record and organisation.",
    "consent": "Whether the organisation lets the cluster manager count its network in aggregates.",
    "introductions": "Warm introductions the organisation asked for, was asked to make, or received.",
    "audit_log": "Who read or changed the organisation's records, newest first.",
}
README = """# Data of {name}

Exported from innonet on {when} UTC by {actor}.

Every table is here twice: as CSV (UTF-8, comma-separated, one header line; text that a
spreadsheet would run as a formula starts with an apostrophe) and as JSON (a list of objects
with the same fields). Dates are ISO 8601 (yyyy-mm-dd), times UTC.

| file | what it holds | rows |
|---|---|---|
{rows}
| network-template.csv | The organisation, its partners and the relationships you may see, in \
innonet's import template: import it again on the Import page or with `{command}`. | {template_rows} |

Ids: organisations are named by their `external_id` (the PIC for EU participants), records
by their innonet id.
"""


def _value(value: object) -> object:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _write_table(archive: zipfile.ZipFile, name: str, rows: list[dict], columns: tuple[str, ...]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else csv_cell(str(_value(row.get(c))))
                         for c in columns])
    archive.writestr(f"{name}.csv", out.getvalue())
    archive.writestr(f"{name}.json", json.dumps(
        [{c: _value(row.get(c)) for c in columns} for row in rows], ensure_ascii=False, indent=1))


def _names(organisations: Iterable[Organisation | OrganisationSummary]) -> str:
    return " ".join(o.external_id for o in organisations)


Table = tuple[tuple[str, ...], list[dict]]  # columns, rows


def tables(session: Session, viewer: Viewer, *, organisation: Organisation) -> dict[str, Table]:
    """Each table of the export: its columns and rows (the organisation's admins only)."""
    roles.ensure_insider(viewer, organisation.id, admin=True)
    own = organisation.id
    out: dict[str, Table] = {}
    profile_columns = ("external_id", *OrganisationFields.model_fields, "created_at", "updated_at")
    out["organisation"] = (profile_columns, [{c: getattr(organisation, c) for c in profile_columns}])

    owned = [r for r in collaborations.list_relationships(session, viewer, organisation_id=own)
             if r.organisation_id == own]
    relationships = collaborations.relationship_view(session, viewer, relationships=owned)
    out["relationships"] = (
        ("id", "partner", "partner_name", "kind", "direction", "start_date", "end_date", "strength",
         "notes", "source", "visibility", "shared_with", "agreement", "created_at", "updated_at"),
        [v.model_dump() | {"partner": v.partner.external_id, "partner_name": v.partner.name,
                           "shared_with": _names(v.shared_with)} for v in relationships])

    out["project_partners"] = (
        ("project", "acronym", "title", "start_date", "end_date", "role", "contribution",
         "partner", "partner_name", "partner_country", "partner_role", "partner_contribution"),
        [{"project": p.external_id, "acronym": p.acronym, "title": p.title,
          "start_date": p.start_date, "end_date": p.end_date, "role": mine.role,
          "contribution": mine.contribution, "partner": o.external_id, "partner_name": o.name,
          "partner_country": o.country, "partner_role": theirs.role,
          "partner_contribution": theirs.contribution}
         for p, mine, o, theirs in collaborations.project_partners(session, organisation_id=own)])

    needs = [n for n in matching.list_needs(session, viewer, external_id=organisation.external_id)]
    need_views = matching.need_view(session, viewer, needs=needs)
    out["needs"] = (
        ("id", "title", "description", "partner_kinds", "preferred_countries", "excluded_countries",
         "sme_only", "exclude_competitors", "visibility", "shared_with", "agreement",
         "created_at", "updated_at"),
        [v.model_dump() | {c: " ".join(getattr(v, c)) for c in ("partner_kinds", "preferred_countries",
                                                                "excluded_countries")}
         | {"shared_with": _names(v.shared_with)} for v in need_views])
    out["shortlists"] = (
        ("need", "need_title", "organisation", "organisation_name", "added_at"),
        [{"need": n.id, "need_title": n.title, "organisation": o.external_id,
          "organisation_name": o.name, "added_at": entry.added_at}
         for n in needs for o, entry in matching.shortlist(session, viewer, need=n)])

    out |= _agreement_tables(session, viewer, own)
    out["members"] = (("email", "name", "role", "member_since", "last_sign_in"), [
        {"email": user.email, "name": user.name, "role": membership.role,
         "member_since": membership.created_at, "last_sign_in": user.last_login_at}
        for membership, user in accounts.members_of(session, viewer, organisation_id=own)])

    out["shares"] = (
        ("item_type", "item_id", "organisation", "organisation_name", "agreement"),
        [{"item_type": kind, "item_id": v.id, "organisation": o.external_id,
          "organisation_name": o.name, "agreement": v.agreement}
         for kind, views in (("relationship", relationships), ("need", need_views))
         for v in views for o in v.shared_with])

    out["consent"] = (("cluster_consent", "given_at"), [
        {"cluster_consent": organisation.cluster_consent_at is not None,
         "given_at": organisation.cluster_consent_at}])

    requests = introducing.introduction_view(session, viewer, requests=[
        r for r in introducing.list_introductions(session, viewer, limit=None)
        if own in (r.asker_id, r.introducer_id, r.target_id)])
    out["introductions"] = (
        ("id", "status", "asker", "introducer", "target", "note", "asker_contact",
         "target_contact", "reply", "created_at", "decided_at"),
        [r.model_dump() | {"asker": r.asker.external_id, "introducer": r.introducer.external_id,
                           "target": r.target.external_id} for r in requests])

    events = sharing.audit_events(session, viewer, organisation_id=own, limit=None)
    out["audit_log"] = (AUDIT_CSV_COLUMNS, [{c: getattr(e, c) for c in AUDIT_CSV_COLUMNS}
                                            for e in events])
    return out


def _agreement_tables(session: Session, viewer: Viewer, own: int) -> dict[str, Table]:
    """The agreements the organisation is a party to, and their signed documents."""
    agreements = sharing.agreement_view(session, viewer, agreements=[
        a for a in sharing.list_agreements(session, viewer)
        if own in sharing.agreement_party_ids(session, agreement_id=a.id)])
    return {
        "agreements": (
            ("id", "kind", "title", "status", "in_force", "start_date", "end_date", "owner", "parties",
             "notes", "created_at", "updated_at"),
            [a.model_dump() | {"owner": a.owner.external_id, "parties": _names(a.parties)} for a in agreements]),
        "agreement_documents": (
            ("agreement", "title", "filename", "sha256", "signed_on", "location"),
            [{"agreement": a.id} | d.model_dump() for a in agreements for d in a.documents])}


def write_archive(session: Session, viewer: Viewer, *, organisation: Organisation, file: IO[bytes]) -> dict[str, int]:
    """Write the organisation's ZIP to ``file``; returns the rows of each table. The export
    itself is written to the audit log."""
    built = tables(session, viewer, organisation=organisation)
    template_rows = template.template_rows(session, viewer, external_id=organisation.external_id)
    counts = {name: len(rows) for name, (_, rows) in built.items()}
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.md", README.format(
            name=organisation.name, when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
            actor=viewer.actor, template_rows=len(template_rows),
            command="innonet import template network-template.csv",
            rows="\n".join(f"| {name}.csv, {name}.json | {TABLES[name]} | {counts[name]} |"
                           for name in TABLES)))
        for name in TABLES:
            columns, rows = built[name]
            _write_table(archive, name, rows, columns)
        archive.writestr("network-template.csv", template.template_csv(template_rows))
    sharing.record_events(session, viewer, action="export", detail="all the organisation's data",
                          events=[(organisation.id, "organisation", organisation.id)])
    return counts


def start_export(session: Session, viewer: Viewer, *, organisation: Organisation) -> Job:
    """In the web app: a job that writes the ZIP to download when it is done."""
    roles.ensure_insider(viewer, organisation.id, admin=True)
    return web_queue(session).submit_after_commit(
        session, EXPORT_JOB, {"organisation": organisation.external_id, "channel": viewer.channel},
        user_id=viewer.user_id, organisation_id=organisation.id)


def _read_export(session: Session, viewer: Viewer, job: Job) -> None:
    """The ZIP is for its organisation's admins: whoever started it, while still one."""
    if job.organisation_id is None or not viewer.admin_of(job.organisation_id):
        raise Forbidden("Only the organisation's administrators download its data; you are no longer one.")
    sharing.record_download(session, viewer, organisation_id=job.organisation_id,
                            detail=f"the organisation's data (ZIP, job {job.id})")


@job_kind(EXPORT_JOB, title="Export an organisation's data (ZIP of CSV and JSON)", file_reader=_read_export)
def _export_job(context: JobContext) -> dict:
    context.progress(0, 1, "Collecting the organisation's records.")
    with context.sessions() as session:
        viewer = accounts.viewer_of(session, user_id=context.user_id, today=date.today(),
                                    channel=context.params["channel"])
        organisation = organisations.get_organisation(session, external_id=context.params["organisation"])
        path = files_dir(context.settings) / f"innonet-{organisation.external_id}-{context.job_id}.zip"
        partial = path.with_suffix(".partial")
        with partial.open("wb") as file:  # a download never sees half a file
            counts = write_archive(session, viewer, organisation=organisation, file=file)
        session.commit()  # the export's audit events
    partial.replace(path)
    return {"link": f"/jobs/{context.job_id}/file", "link_text": "Download the ZIP",
            "file": path.name, "bytes": path.stat().st_size, "rows": counts}
