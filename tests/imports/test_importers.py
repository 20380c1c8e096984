import csv
import gzip
import io

import pytest
from sqlalchemy import select

from innonet.collaborations.models import Participation, Project
from innonet.errors import InvalidInput
from innonet.imports import service
from innonet.organisations.models import Organisation
from tests.conftest import CONSORTIA


def consortia_rows() -> list[dict]:
    with gzip.open(CONSORTIA, "rt", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_dashboard_export_gives_2016_organisations_in_131_projects(session):
    with CONSORTIA.open("rb") as f:
        report = service.import_dashboard(session, file=f)
    assert report.counts["organisations"] == (2016, 0)
    assert report.counts["projects"] == (131, 0)
    # 2,570 rows, of which 17 repeat an organisation in the same project with another role.
    assert report.counts["participations"] == (2553, 0)
    with CONSORTIA.open("rb") as f:
        again = service.import_dashboard(session, file=f)
    assert not again.changed_anything

    esa = session.scalar(select(Organisation).where(Organisation.pic == "999644559"))
    assert (esa.name, esa.kind, esa.country, esa.vat, esa.is_sme) == (
        "EUROPEAN SPACE AGENCY", "research_organisation", "FR", None, False)
    assert session.scalar(select(Organisation.id).where(Organisation.country == "EL")) is None
    assert session.scalar(select(Organisation.id).where(Organisation.country == "GR")) is not None


def test_dashboard_merges_an_organisation_listed_twice_in_one_project(session):
    rows = consortia_rows()
    seen, twice = set(), None
    for row in rows:
        key = (row["project_id"], row["pic"])
        if key in seen:
            twice = key
            break
        seen.add(key)
    same = [r for r in rows if (r["project_id"], r["pic"]) == twice]
    expected = sum(float(r["eu_contribution"]) for r in same if r["eu_contribution"] not in ("", "-"))
    with CONSORTIA.open("rb") as f:
        service.import_dashboard(session, file=f)
    participation = session.execute(
        select(Participation).join(Project).join(Organisation)
        .where(Project.external_id == twice[0], Organisation.pic == twice[1])).scalars().one()
    assert participation.contribution == pytest.approx(expected)
    roles = {r["partner_role"] for r in same}
    assert participation.role == ("coordinator" if "COORDINATOR" in roles else participation.role)


def test_a_dashboard_projects_costs_are_the_sums_of_its_participants_and_a_reimport_mends_them(
        session):
    # Every row carries the participant's own costs; ECO2Fuel's coordinator alone has 1.93 M.
    rows = [r for r in consortia_rows() if r["project_acronym"] == "ECO2Fuel"]
    assert len(rows) > 1
    with CONSORTIA.open("rb") as f:
        service.import_dashboard(session, file=f)
    project = session.scalar(select(Project).where(Project.acronym == "ECO2Fuel"))
    assert project.budget == pytest.approx(21_635_686.07)
    assert project.eu_contribution == pytest.approx(16_620_616.01)
    contributions = session.scalars(select(Participation.contribution)
                                    .where(Participation.project_id == project.id)).all()
    assert project.eu_contribution == pytest.approx(sum(c or 0 for c in contributions))
    # A database filled by the importer as it was (one participant's costs) is mended.
    project.budget, project.eu_contribution = 1_931_626.25, 1_931_626.25
    session.flush()
    with CONSORTIA.open("rb") as f:
        again = service.import_dashboard(session, file=f)
    assert again.counts["projects"] == (0, 1)
    session.refresh(project)
    assert project.budget == pytest.approx(21_635_686.07)


def cordis_file(rows: list[dict], *, bom: bool, sme_values: list[str]) -> io.BytesIO:
    """Real organisations written the way CORDIS publishes organization.csv."""
    columns = ["projectID", "projectAcronym", "organisationID", "vatNumber", "name", "shortName",
               "SME", "activityType", "street", "postCode", "city", "country", "nutsCode",
               "geolocation", "organizationURL", "contactForm", "contentUpdateDate", "rcn",
               "order", "role", "ecContribution", "netEcContribution", "totalCost",
               "endOfParticipation", "active"]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL)
    writer.writerow(columns)
    for i, r in enumerate(rows):
        writer.writerow([r["project_id"], r["project_acronym"], r["pic"], r["legal_entity_vat"],
                         r["legal_name"] + "; Ltd", "", sme_values[i % len(sme_values)],
                         r["legal_entity_type"], "", "", r["city"], r["country_code"],
                         r["nuts_3_code"], "", "", "", "2022-07-29 13:48:01", "1", "1",
                         r["partner_role"].lower(), r["eu_contribution"].replace("-", ""),
                         "", "", "false", "true"])
    data = out.getvalue().encode("utf-8")
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + data)


@pytest.mark.parametrize("bom", [True, False])
def test_cordis_organisation_file_semicolons_bom_and_sme_in_any_case(session, bom):
    rows = [r for r in consortia_rows() if r["partner_role"] == "COORDINATOR"][:30]
    report = service.import_cordis(session, organisations_file=cordis_file(
        rows, bom=bom, sme_values=["TRUE", "false", "", "True"]))
    assert report.counts["organisations"][0] == len({r["pic"] for r in rows})
    first = session.scalar(select(Organisation).where(Organisation.pic == rows[0]["pic"]))
    assert first.name == rows[0]["legal_name"] + "; Ltd"  # the quoted ';' stayed in the name
    assert first.is_sme is True
    smes = dict(session.execute(select(Organisation.pic, Organisation.is_sme)).all())
    assert smes[rows[1]["pic"]] is False and smes[rows[2]["pic"]] is None


def test_cordis_project_file_names_projects_and_meets_the_rcn_of_other_sources(session):
    rows = [r for r in consortia_rows() if r["partner_role"] == "COORDINATOR"][:2]
    first = rows[0]["project_id"]
    participations = io.BytesIO(
        b"rcn,role,pic,type,contribution,country,start_date,end_date,max_contribution,total_cost\n"
        + f"555,coordinator,{rows[0]['pic']},PRC,10.5,EL,2021-01-01,2022-01-01,1,2\n".encode())
    service.import_participations(session, file=participations)
    projects = io.BytesIO(("id;acronym;title;startDate;endDate;totalCost;ecMaxContribution;"
                           "frameworkProgramme;objective;topics;rcn\n"
                           f"{first};GPP;GEOSS Platform Plus;2022-01-01;2024-12-31;2500000;"
                           "2500000;H2020;Better data;IBA-CROSS;555\n").encode())
    service.import_cordis(session, organisations_file=cordis_file(rows, bom=False, sme_values=[""]),
                          projects_file=projects)
    project = session.scalar(select(Project).where(Project.rcn == 555))
    assert (project.external_id, project.title, project.budget) == (first, "GEOSS Platform Plus", 2500000.0)
    assert session.scalar(select(Project.id).where(Project.external_id == "rcn:555")) is None


def test_every_bad_line_is_reported_and_nothing_is_written(session):
    text = ("rcn,role,pic,type,contribution,country,start_date,end_date\n"
            "1,coordinator,111111111,PRC,10,DE,2020-01-01,2021-01-01\n"
            "2,participant,22222222x,PRC,10,DE,2020-01-01,2021-01-01\n"
            "3,participant,333333333,XYZ,ten,ZZ,2020-13-01,\n")
    with pytest.raises(InvalidInput) as caught:
        service.import_participations(session, file=io.BytesIO(text.encode()))
    where = {(p.line, p.field) for p in caught.value.problems}
    assert where == {(3, "pic"), (4, "type"), (4, "contribution"), (4, "country"), (4, "start_date")}
    assert session.scalar(select(Organisation.id)) is None


def test_a_file_without_the_required_columns_is_refused_at_line_1(session):
    with pytest.raises(InvalidInput) as caught:
        service.import_dashboard(session, file=io.BytesIO(b"a;b\n1;2\n"))
    assert caught.value.problems[0].line == 1
    assert "project_id" in caught.value.message


def test_project_texts_skip_and_report_unknown_projects(session):
    service.import_participations(session, file=io.BytesIO(
        b"rcn,role,pic,type,contribution,country\n7,coordinator,111111111,PRC,,DE\n"))
    texts = io.BytesIO(b"rcn,project_id,acronym,title,topic_code,topic_description\n"
                       b"7,1,ACR,A title,T-1,Topic words\n"
                       b"8,2,OTHER,Unknown,T-2,Nothing\n")
    report = service.import_project_texts(session, file=texts)
    assert report.counts["projects"] == (0, 1)
    assert [(p.line, p.field) for p in report.skipped] == [(3, "rcn")]
    assert session.scalar(select(Project.title).where(Project.rcn == 7)) == "A title"
