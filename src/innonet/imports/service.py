"""Importers for real data: CORDIS, the H2020 participations file, the dashboard export.

Every importer first reads and checks the whole file, collecting each bad line with its
reason; if there is any, it raises InvalidInput and writes nothing. Only then are rows
written, new or changed ones only, so that importing the same file again changes nothing.
The caller owns the transaction (a dry run rolls it back).
"""

from dataclasses import dataclass, field
from typing import IO

from sqlalchemy.orm import Session

from innonet.collaborations import service as collaborations
from innonet.countries import normalise_country
from innonet.errors import Problem
from innonet.organisations import service as organisations
from innonet.organisations.models import KIND_FROM_CORDIS
from innonet.tables import Consensus, Problems, read_csv

# When one organisation appears in a project with two roles, the leading one is kept.
ROLE_PRECEDENCE = ("coordinator", "participant", "partner", "associated_partner",
                   "international_partner", "third_party")
CORDIS_ROLES = {
    "COORDINATOR": "coordinator", "PARTICIPANT": "participant", "PARTNER": "partner",
    "THIRDPARTY": "third_party", "ASSOCIATEDPARTNER": "associated_partner",
    "INTERNATIONALPARTNER": "international_partner",
}
TRUE_FALSE = {"TRUE": True, "FALSE": False}
YES_NO = {"YES": True, "NO": False}


@dataclass
class ImportReport:
    """What an import added and changed, and the rows it skipped (with reasons)."""

    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    skipped: list[Problem] = field(default_factory=list)

    @property
    def history_changed(self) -> bool:
        """Whether projects or participations changed: what the partner finder learns from."""
        return any(self.counts.get(name, (0, 0)) != (0, 0) for name in ("projects", "participations"))

    @property
    def changed_anything(self) -> bool:
        return any(added or updated for added, updated in self.counts.values())

    def as_dict(self) -> dict:
        return {
            "added": {name: added for name, (added, _) in self.counts.items()},
            "updated": {name: updated for name, (_, updated) in self.counts.items()},
            "skipped": [p.as_dict() for p in self.skipped],
        }


class NetworkRows:
    """Organisations, projects and participations gathered from a file before writing."""

    def __init__(self) -> None:
        self.organisations = Consensus()
        self.projects = Consensus()
        self.participations: dict[tuple[str, str], dict] = {}

    def add_participation(self, project: str, organisation: str, role: str | None,
                          contribution: float | None) -> None:
        """Merge repeated rows of one organisation in one project: leading role, summed money."""
        current = self.participations.get((project, organisation))
        if current is None:
            self.participations[(project, organisation)] = {"role": role or "participant",
                                                            "contribution": contribution}
            return
        if role and ROLE_PRECEDENCE.index(role) < ROLE_PRECEDENCE.index(current["role"]):
            current["role"] = role
        if contribution is not None:
            current["contribution"] = (current["contribution"] or 0.0) + contribution

    def write(self, session: Session) -> ImportReport:
        project_records = self.projects.records()
        renamed = collaborations.match_projects_by_rcn(session, records=project_records)
        report = ImportReport()
        report.counts["organisations"] = organisations.upsert_organisations(
            session, records=self.organisations.records())
        report.counts["projects"] = collaborations.upsert_projects(session, records=project_records)
        organisation_ids = organisations.ids_by_external_id(session)
        project_ids = collaborations.project_ids(session)
        report.counts["participations"] = collaborations.upsert_participations(session, records=[
            {"project_id": project_ids[renamed.get(project, project)],
             "organisation_id": organisation_ids[organisation], **values}
            for (project, organisation), values in self.participations.items()
        ])
        return report


def _country(problems: Problems, line: int, row: dict, column: str) -> str | None:
    try:
        return normalise_country(row.get(column))
    except ValueError as error:
        problems.add(line, column, str(error))
        return None


def _pic(problems: Problems, line: int, row: dict, column: str) -> str | None:
    pic = problems.identifier(line, row, column)
    if pic is not None and not pic.isdigit():
        problems.add(line, column, f"{pic!r} is not a PIC (digits only)")
        return None
    return pic


def import_cordis(session: Session, *, organisations_file: IO[bytes],
                  projects_file: IO[bytes] | None = None) -> ImportReport:
    """The official CORDIS ``organization.csv`` (H2020 or Horizon Europe), optionally with ``project.csv``."""
    rows = NetworkRows()
    problems = Problems()
    for line, row in read_csv(organisations_file, required=(
            "projectID", "organisationID", "name", "role")):
        pic = _pic(problems, line, row, "organisationID")
        project = problems.identifier(line, row, "projectID")
        name = problems.identifier(line, row, "name")
        role = problems.choice(line, row, "role", CORDIS_ROLES)
        kind = problems.choice(line, row, "activityType", KIND_FROM_CORDIS, empty="other")
        record = {
            "external_id": pic, "pic": pic, "name": name, "kind": kind,
            "vat": row.get("vatNumber") or None, "short_name": row.get("shortName") or None,
            "is_sme": problems.choice(line, row, "SME", TRUE_FALSE),
            "city": row.get("city") or None, "country": _country(problems, line, row, "country"),
            "region": row.get("nutsCode") or None, "website": row.get("organizationURL") or None,
        }
        contribution = problems.number(line, row, "ecContribution")
        if pic and project and name:
            rows.organisations.add(pic, record)
            rows.projects.add(project, {"external_id": project,
                                        "acronym": row.get("projectAcronym") or None})
            rows.add_participation(project, pic, role, contribution)
    if projects_file is not None:
        for line, row in read_csv(projects_file, required=("id",)):
            project = problems.identifier(line, row, "id")
            record = {
                "external_id": project, "acronym": row.get("acronym") or None,
                "title": row.get("title") or None, "topic": row.get("topics") or None,
                "description": row.get("objective") or None,
                "programme": row.get("frameworkProgramme") or None,
                "start_date": problems.date(line, row, "startDate"),
                "end_date": problems.date(line, row, "endDate"),
                "budget": problems.number(line, row, "totalCost"),
                "eu_contribution": problems.number(line, row, "ecMaxContribution"),
                "rcn": problems.integer(line, row, "rcn", required=False),
            }
            if project:
                rows.projects.add(project, record)
    problems.raise_if_any("CORDIS file")
    return rows.write(session)


def import_participations(session: Session, *, file: IO[bytes]) -> ImportReport:
    """The H2020 participations file (rcn, role, pic, type, contribution, country, dates …)."""
    rows = NetworkRows()
    problems = Problems()
    for line, row in read_csv(file, required=("rcn", "role", "pic", "type")):
        rcn = problems.integer(line, row, "rcn")
        pic = _pic(problems, line, row, "pic")
        record = {
            "external_id": pic, "pic": pic,
            "kind": problems.choice(line, row, "type", KIND_FROM_CORDIS, empty="other"),
            "country": _country(problems, line, row, "country"),
        }
        role = problems.choice(line, row, "role", CORDIS_ROLES)
        contribution = problems.number(line, row, "contribution")
        project = {
            "external_id": f"rcn:{rcn}", "rcn": rcn, "programme": "H2020",
            "start_date": problems.date(line, row, "start_date"),
            "end_date": problems.date(line, row, "end_date"),
            "budget": problems.number(line, row, "total_cost"),
            "eu_contribution": problems.number(line, row, "max_contribution"),
        }
        if rcn is not None and pic:
            rows.organisations.add(pic, record)
            rows.projects.add(f"rcn:{rcn}", project)
            rows.add_participation(f"rcn:{rcn}", pic, role, contribution)
    problems.raise_if_any("Participations file")
    return rows.write(session)


def import_project_texts(session: Session, *, file: IO[bytes]) -> ImportReport:
    """Titles and topics for projects already imported, matched on ``rcn``.

    Rows for projects that are not in the database are reported and skipped, not fatal.
    """
    problems = Problems()
    known = collaborations.project_ids(session, by="rcn")
    records, skipped = [], []
    for line, row in read_csv(file, required=("rcn", "title")):
        rcn = problems.integer(line, row, "rcn")
        if rcn is None:
            continue
        if rcn not in known:
            skipped.append(Problem(f"no project with rcn {rcn} in the database; row skipped",
                                   line=line, field="rcn"))
            continue
        records.append({
            "rcn": rcn, "acronym": row.get("acronym") or None, "title": row.get("title") or None,
            "topic": row.get("topic_code") or None,
            "description": row.get("topic_description") or None,
        })
    problems.raise_if_any("Project texts file")
    report = ImportReport(skipped=skipped)
    report.counts["projects"] = collaborations.update_projects_by_rcn(session, records=records)
    return report


def import_dashboard(session: Session, *, file: IO[bytes]) -> ImportReport:
    """The EU Funding & Tenders dashboard export of H2020 / Horizon Europe participations."""
    rows = NetworkRows()
    problems = Problems()
    dmy = "%d/%m/%Y"
    totals: dict[str, dict[str, float]] = {}
    for line, row in read_csv(file, required=(
            "project_id", "pic", "legal_name", "partner_role", "legal_entity_type")):
        pic = _pic(problems, line, row, "pic")
        project = problems.identifier(line, row, "project_id")
        name = problems.identifier(line, row, "legal_name")
        vat = row.get("legal_entity_vat", "")
        record = {
            "external_id": pic, "pic": pic, "name": name,
            "vat": vat if vat.strip(".-") else None,  # the export writes '.' for none
            "kind": problems.choice(line, row, "legal_entity_type", KIND_FROM_CORDIS, empty="other"),
            "is_sme": problems.choice(line, row, "sme_flag", YES_NO | TRUE_FALSE),
            "city": row.get("city") or None, "region": row.get("nuts_3_code") or None,
            "country": _country(problems, line, row, "country_code"),
        }
        role = problems.choice(line, row, "partner_role", CORDIS_ROLES)
        if role == "participant":  # the partner type says more than the plain role
            role = {"THIRDPARTY": "third_party", "INTERNATIONAL_PARTNER": "international_partner"}.get(
                row.get("partner_type", "").upper(), role)
        contribution = problems.number(line, row, "eu_contribution")
        project_record = {
            "external_id": project, "acronym": row.get("project_acronym") or None,
            "title": row.get("project_title") or None, "topic": row.get("topic_code") or None,
            "description": row.get("topic_descr") or None,
            "programme": row.get("framework_programme") or None,
            "start_date": problems.date(line, row, "project_start_date", fmt=dmy),
            "end_date": problems.date(line, row, "project_end_date", fmt=dmy),
        }
        # The costs are each participant's: the project's are their sums.
        money = {"budget": problems.number(line, row, "h2020_total_cost"),
                 "eu_contribution": problems.number(line, row, "h2020_net_eu_contribution")}
        if pic and project and name:
            rows.organisations.add(pic, record)
            rows.projects.add(project, project_record)
            rows.add_participation(project, pic, role, contribution)
            sums = totals.setdefault(project, {})
            for field, value in money.items():
                if value is not None:
                    sums[field] = sums.get(field, 0.0) + value
    problems.raise_if_any("Dashboard file")
    for project, sums in totals.items():
        rows.projects.add(project, {field: round(value, 2) for field, value in sums.items()})
    return rows.write(session)
