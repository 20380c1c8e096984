"""The command line: a folder of Markdown files into the knowledge base (all or nothing),
and a joint project exported as JSON."""

import json
from datetime import date

from sqlalchemy import func, select

from innonet.accounts import service as accounts
from innonet.db import transaction
from innonet.knowledge.models import KnowledgeItem, KnowledgeLink
from innonet.projects import service as projecting
from innonet.projects.schemas import ITEM_INPUTS, ProjectIn
from tests.factories import make_organisation, make_user
from tests.test_cli import run


def test_a_folder_of_markdown_is_imported_all_or_nothing(fresh_sessions, database_url, tmp_path):
    with transaction(fresh_sessions) as session:
        owner = make_organisation(session, name="Owner", external_id="OWN")
        partner = make_organisation(session, name="Partner", external_id="PAR")
        writer = accounts.viewer_of(session, user_id=make_user(session, owner, role="admin").id, today=date.today(),
                                    channel="api")
        project = projecting.create_project(session, writer, data=ProjectIn(
            organisation="OWN", title="Cups", start_date=date.today(), parties=[{"organisation": "PAR"}]))
        project_id = project.id
    folder = tmp_path / "kb"
    (folder / "how-tos").mkdir(parents=True)
    (folder / "how-tos" / "dry-coating.md").write_text(
        "---\ntitle: Drying the coating\nkind: how_to\ntags: [coating, drying]\nvisibility: partners\n"
        f"shared_with: [PAR]\nlinks: [\"project:{project_id}\", \"organisation:PAR\"]\n---\n"
        "Dry at **80 °C** for two minutes.\n", encoding="utf-8")
    (folder / "market.md").write_text("# Cup market in Finland\n\nDemand grows.\n", encoding="utf-8")
    (folder / "bad.md").write_text("---\nkind: recipe\ncolour: red\n---\nText\n", encoding="utf-8")
    refused = run(database_url, "knowledge", "import", folder, "--organisation", "OWN", ok=False)
    assert refused.exit_code == 1 and "nothing was imported" in refused.output
    said = " ".join(refused.output.split())
    assert "2 problems" in said and "line 3, bad.md: unknown key 'colour'" in said
    assert "bad.md: kind: must be one of" in said
    with transaction(fresh_sessions) as session:
        assert session.scalar(select(func.count()).select_from(KnowledgeItem)) == 0
    (folder / "bad.md").unlink()
    done = run(database_url, "knowledge", "import", folder, "--organisation", "OWN")
    assert "Imported 2 knowledge items" in done.output
    with transaction(fresh_sessions) as session:
        items = {i.title: i for i in session.scalars(select(KnowledgeItem))}
        assert set(items) == {"Drying the coating", "Cup market in Finland"}
        drying = items["Drying the coating"]
        assert drying.visibility == "partners" and drying.tags == ",coating,drying," and "80 °C" in drying.body
        assert items["Cup market in Finland"].visibility == "private"
        links = set(session.execute(select(KnowledgeLink.target_type, KnowledgeLink.target_id).where(
            KnowledgeLink.item_id == drying.id)).all())
        assert links == {("project", project_id), ("organisation", partner.id)}


def test_a_joint_project_is_exported_as_json(fresh_sessions, database_url):
    with transaction(fresh_sessions) as session:
        lead = make_organisation(session, name="Lead", external_id="LEAD")
        make_organisation(session, name="Partner", external_id="PART")
        writer = accounts.viewer_of(session, user_id=make_user(session, lead, role="admin").id, today=date.today(),
                                    channel="api")
        project = projecting.create_project(session, writer, data=ProjectIn(
            organisation="LEAD", title="Cups", start_date=date.today(), parties=[{"organisation": "PART"}],
            exit_criteria=[{"kind": "inactive", "days": 30}]))
        projecting.add_item(session, writer, project_id=project.id, item_type="milestone",
                            data=ITEM_INPUTS["milestone"].model_validate({"title": "Pilot", "due_on": date.today()}))
        project_id = project.id
    document = json.loads(run(database_url, "projects", "export", project_id).stdout)
    assert document["title"] == "Cups" and [p["organisation"]["name"] for p in document["parties"]] == [
        "Lead", "Partner"]
    assert document["items"]["milestone"][0]["fields"]["title"] == "Pilot"
    assert document["exit_criteria"][0]["kind"] == "inactive"
    assert [e["kind"] for e in document["activity"]] == ["item_added", "created"]
    missing = run(database_url, "projects", "export", 999999, ok=False)
    assert missing.exit_code == 1 and "No joint project with id 999999" in missing.output
