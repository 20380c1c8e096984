"""The template with which an organisation enters its own network by hand (CSV or XLSX).

One table, one row per record. ``record`` says what a row is:
- ``organisation``: an organisation (yours or a partner's), identified by ``external_id``;
- ``relationship``: a tie from the organisation ``external_id`` to ``partner``, whose ``kind``
  says what the partner is to it (customer, supplier, …).
The same table is what ``innonet template export`` writes, so an export can be edited and
imported again. Organisations are matched on ``external_id``; relationships on
(organisation, partner, kind).
"""

import csv
import io
import zipfile
from pathlib import Path
from typing import IO

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from pydantic import ValidationError
from sqlalchemy.orm import Session

from innonet.collaborations import service as collaborations
from innonet.collaborations.models import RELATIONSHIP_KINDS
from innonet.collaborations.schemas import RelationshipFields
from innonet.errors import InvalidInput, Problem
from innonet.imports.service import ImportReport
from innonet.organisations import service as organisations
from innonet.organisations.models import KIND_FROM_CORDIS, KINDS
from innonet.organisations.schemas import OrganisationFields
from innonet.roles import Viewer
from innonet.sharing import service as sharing
from innonet.sharing.schemas import SharingFields
from innonet.tables import Problems, check_columns, read_csv
from innonet.text import csv_cell, from_csv_cell

ORGANISATION_COLUMNS = ("external_id", *OrganisationFields.model_fields)
RELATIONSHIP_COLUMNS = ("partner", "kind", "direction", "start_date", "end_date", "strength", "notes",
                        "visibility", "shared_with")
COLUMNS = ("record", *dict.fromkeys(ORGANISATION_COLUMNS + RELATIONSHIP_COLUMNS))
SHEET = "network"
# A filled-in template is a few megabytes unpacked; far more is a file built to explode.
MAX_UNPACKED_XLSX = 100_000_000

INSTRUCTIONS = [
    ("record", "organisation or relationship"),
    ("external_id", "Your own short id for the organisation (letters, digits, - _ . :); for EU "
                    "participants use the PIC. On a relationship row: the organisation that has "
                    "the partner."),
    ("name", "Organisation rows: the legal or common name (required)."),
    ("kind", "Organisation rows: " + ", ".join(KINDS) + ". Relationship rows: what the partner "
             "is to you: " + ", ".join(RELATIONSHIP_KINDS) + "."),
    ("is_sme", "yes, no or empty (unknown)."),
    ("country", "Two-letter ISO code, e.g. DE (EL and UK are read as GR and GB)."),
    ("region", "NUTS code, e.g. DE212."),
    ("capabilities / needs", "What the organisation offers / seeks, in plain words."),
    ("partner", "Relationship rows: the partner's external_id (a row above or already in innonet)."),
    ("direction", "mutual, to_partner (value flows from you to the partner) or from_partner."),
    ("start_date / end_date", "yyyy-mm-dd."),
    ("strength", "1 (weak) to 5 (strategic); default 3."),
    ("visibility", "Who sees the relationship: private (default: your members only), partners "
                   "(the organisations in shared_with), network (every member) or public."),
    ("shared_with", "With visibility partners: the external_ids that may see it, separated by spaces."),
]

EXAMPLE_ROWS = [
    {"record": "organisation", "external_id": "ACME", "name": "Acme Packaging GmbH",
     "short_name": "Acme", "kind": "company", "is_sme": "yes", "country": "DE", "city": "Leipzig",
     "capabilities": "Paper-based food packaging; barrier coatings",
     "needs": "Bio-based barrier coating for food packaging"},
    {"record": "organisation", "external_id": "UNI-LEIPZIG", "name": "University of Leipzig",
     "kind": "higher_education", "country": "DE", "city": "Leipzig"},
    {"record": "relationship", "external_id": "ACME", "partner": "UNI-LEIPZIG",
     "kind": "research_partner", "direction": "mutual", "start_date": "2023-01-01",
     "strength": "4", "notes": "Joint thesis on barrier coatings"},
]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(file: IO[bytes]) -> list[tuple[int, dict[str, str]]]:
    """(line, row) from a template in XLSX (sheet 'network') or CSV."""
    if file.read(2) != b"PK":  # XLSX files are zip archives
        file.seek(0)
        return [(line, {k: from_csv_cell(v) for k, v in row.items()})
                for line, row in read_csv(file, required=("record", "external_id"))]
    file.seek(0)
    data = io.BytesIO(file.read())
    try:
        _check_unpacked_size(data)
        workbook = load_workbook(data, read_only=True, data_only=True)
    except InvalidInput:
        raise
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise InvalidInput(f"Not a readable XLSX file: {error}.") from None
    if SHEET not in workbook.sheetnames:
        raise InvalidInput(f"The workbook has no sheet named {SHEET!r}.")
    sheet = workbook[SHEET]
    # The size a workbook states for its sheet can be stale; read every row there is.
    sheet.reset_dimensions()
    rows = sheet.iter_rows(values_only=True)
    header = [_cell(v) for v in next(rows, ())]
    check_columns(header, ("record", "external_id"))
    out, bad_text = [], Problems()
    for line, values in enumerate(rows, start=2):
        row = {name: _cell(value) for name, value in zip(header, values, strict=False) if name}
        if any(row.values()):
            bad_text.check_text(line, row)
            out.append((line, row))
    bad_text.raise_if_any("Workbook")
    return out


def _check_unpacked_size(data: io.BytesIO) -> None:
    """Refuse a workbook that unpacks to more than MAX_UNPACKED_XLSX bytes before reading it."""
    with zipfile.ZipFile(data) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
    data.seek(0)
    if unpacked > MAX_UNPACKED_XLSX:
        raise InvalidInput(f"The workbook unpacks to {unpacked / 1e6:,.0f} MB; the most accepted "
                           f"is {MAX_UNPACKED_XLSX / 1e6:,.0f} MB (split it into several files).")


def import_template(session: Session, viewer: Viewer, *, file: IO[bytes]) -> ImportReport:
    """Import a filled-in template: all rows are checked first, then written together.

    The rows are held to what ``viewer`` may do: relationships only for organisations they
    belong to, profile changes only for those they administer (a row for another existing
    organisation is skipped and reported, so that an exported template imports again).
    """
    problems = Problems()
    organisation_records: dict[str, dict] = {}
    relationship_rows: list[tuple[int, dict]] = []
    skipped: list[Problem] = []
    known = organisations.ids_by_external_id(session)
    for line, row in read_rows(file):
        record_type = row.get("record", "").lower()
        if record_type == "organisation":
            record = _organisation(problems, line, row)
            if record and _may_write_profile(problems, skipped, line, viewer, known, record):
                organisation_records[record["external_id"]] = record
        elif record_type == "relationship":
            relationship_rows.append((line, row))
        else:
            problems.add(line, "record", f"{row.get('record')!r} is not organisation or relationship")
    relationships = []
    for line, row in relationship_rows:
        record = _relationship(problems, line, row, known_ids=set(known) | set(organisation_records))
        if record and not viewer.is_operator and known.get(record["organisation"]) not in viewer.member_of:
            problems.add(line, "external_id", f"you may record relationships only for an "
                         f"organisation you belong to, not {record['organisation']!r}")
        elif record:
            relationships.append(record)
    problems.raise_if_any("Template")
    report = ImportReport(skipped=skipped)
    report.counts["organisations"] = organisations.upsert_organisations(
        session, records=list(organisation_records.values()))
    ids = organisations.ids_by_external_id(session)
    shares = {}
    for r in relationships:
        r["organisation_id"], r["partner_id"] = ids[r.pop("organisation")], ids[r.pop("partner")]
        shares[(r["organisation_id"], r["partner_id"], r["kind"])] = [ids[o] for o in r.pop("shared_with")]
    report.counts["relationships"] = collaborations.upsert_relationships(session, records=relationships)
    collaborations.replace_relationship_shares(session, shares=shares)
    return report


def _may_write_profile(problems: Problems, skipped: list[Problem], line: int, viewer: Viewer,
                       known: dict[str, int], record: dict) -> bool:
    """Whether the viewer may add this organisation (platform members may) or change it
    (its admins and platform admins may); other existing ones are skipped, with the reason."""
    existing = known.get(record["external_id"])
    if viewer.is_operator or viewer.is_platform_admin:
        return True
    if existing is None:
        if not viewer.is_network_member:
            problems.add(line, "record", "only members of the platform may add organisations")
        return viewer.is_network_member
    if viewer.admin_of(existing):
        return True
    skipped.append(Problem(f"{record['external_id']!r} is an organisation you do not administer; "
                           "its profile is left as it is", line=line, field="external_id"))
    return False


def _organisation(problems: Problems, line: int, row: dict) -> dict | None:
    external_id = row.get("external_id") or row.get("pic")
    if not external_id:
        problems.add(line, "external_id", "is empty (give an id, or the PIC)")
        return None
    fields = {k: row[k] for k in OrganisationFields.model_fields if row.get(k)}
    if "kind" in fields:  # accept the CORDIS codes too
        fields["kind"] = KIND_FROM_CORDIS.get(fields["kind"].upper(), fields["kind"].lower())
    if "is_sme" in fields:
        fields["is_sme"] = {"yes": True, "no": False, "true": True, "false": False}.get(
            fields["is_sme"].lower(), fields["is_sme"])
    try:
        data = OrganisationFields(**fields)
    except ValidationError as error:
        problems.add_validation(line, error)
        return None
    return {"external_id": external_id} | data.model_dump(include=set(fields))


def _relationship(problems: Problems, line: int, row: dict, *, known_ids: set[str]) -> dict | None:
    ok = True
    for column in ("external_id", "partner"):
        if not row.get(column):
            problems.add(line, column, "is empty")
            ok = False
        elif row[column] not in known_ids:
            problems.add(line, column, f"no organisation {row[column]!r} in the file or in innonet")
            ok = False
    if ok and row["external_id"] == row["partner"]:
        problems.add(line, "partner", "an organisation cannot be its own partner")
        ok = False
    fields = {k: row[k] for k in ("kind", "direction", "start_date", "end_date", "strength", "notes")
              if row.get(k)}
    shared_with = (row.get("shared_with") or "").split()
    try:
        data = RelationshipFields(**fields)
        shares = SharingFields(visibility=row.get("visibility") or "private", shared_with=shared_with)
    except ValidationError as error:
        problems.add_validation(line, error)
        return None
    for other in shared_with:
        if other not in known_ids:
            problems.add(line, "shared_with", f"no organisation {other!r} in the file or in innonet")
            ok = False
    if shares.visibility != "partners" and shared_with:
        problems.add(line, "shared_with", "applies only with visibility partners")
        ok = False
    elif shares.visibility == "partners" and not shared_with:
        problems.add(line, "shared_with", "name at least one organisation to share with")
        ok = False
    if row.get("external_id") in shared_with:
        problems.add(line, "shared_with", "the owner always sees its own relationships")
        ok = False
    if not ok:
        return None
    record = {"organisation": row["external_id"], "partner": row["partner"], "source": "import",
              "visibility": shares.visibility, "shared_with": shared_with, **data.model_dump()}
    if shares.visibility != "partners":
        record["agreement_id"] = None  # an agreement only gates sharing with partners
    return record


def template_rows(session: Session, viewer: Viewer, *, external_id: str | None = None) -> list[dict]:
    """Organisations and the relationships the viewer may see as template rows (one
    organisation's, or all)."""
    if external_id is not None:
        centre = organisations.get_organisation(session, external_id=external_id)
        relationships = collaborations.list_relationships(session, viewer, organisation_id=centre.id)
    else:
        relationships = collaborations.list_relationships(session, viewer)
    sharing.record(session, viewer, action="export", items=relationships)
    views = collaborations.relationship_view(session, viewer, relationships=relationships)
    if external_id is not None:
        ids = {centre.id} | {i for r in relationships for i in (r.organisation_id, r.partner_id)}
        chosen = sorted(organisations.organisations_by_id(session, ids=ids).values(), key=lambda o: o.id)
    else:
        chosen = organisations.all_organisations(session)
    rows = [{"record": "organisation", "external_id": o.external_id}
            | {k: _cell(getattr(o, k)) for k in OrganisationFields.model_fields} for o in chosen]
    rows += [{"record": "relationship", "external_id": v.organisation.external_id, "partner": v.partner.external_id,
              "shared_with": " ".join(o.external_id for o in v.shared_with)}
             | {k: _cell(getattr(v, k)) for k in RELATIONSHIP_COLUMNS if k not in ("partner", "shared_with")}
             for v in views]
    return rows


def template_csv(rows: list[dict]) -> str:
    """Rows in the template format as CSV text."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({c: csv_cell(row.get(c, "")) for c in COLUMNS} for row in rows)
    return out.getvalue()


def write_template(path: Path, *, rows: list[dict]) -> None:
    """Write rows in the template format; .xlsx gets an instructions sheet, .csv is plain."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        path.write_text(template_csv(rows), encoding="utf-8", newline="")
        return
    if suffix != ".xlsx":
        raise InvalidInput(f"file: {path.name} must end in .xlsx or .csv.")
    template_workbook(rows).save(path)


def template_workbook(rows: list[dict]) -> Workbook:
    """The template as a workbook: the rows on one sheet, the instructions on another."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row.get(c, "") for c in COLUMNS])
    sheet.freeze_panes = "C2"
    help_sheet = workbook.create_sheet("instructions")
    help_sheet.append(["column", "what to write"])
    for column, text in INSTRUCTIONS:
        help_sheet.append([column, text])
    help_sheet.column_dimensions["B"].width = 100
    return workbook
