"""``POST /targeted`` over the real fixture bank: mastery from a saved model, from scanned answers the
store graded, or the prior; the 双减 ledger across requests; tiers; errors with a message."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from uploads import MakeClient, wait_for_upload

from homework import ItemBank, build_assignment, sheet_spec
from homework._taxonomy import _PREREQUISITES
from recommender import BKT, Curriculum, LearnerSimulator

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BANK = FIXTURES / "bank" / "items.csv"
KPS = ["number.fraction", "number.decimal", "number.percent"]
DAY = "2026-11-24"


def saved_minutes(database_url: str, student: str, day: dt.date) -> float:
    """The minutes the store's 双减 ledger holds for a student and day."""
    from homework.storage import LedgerStore, open_engine

    return sum(LedgerStore(open_engine(database_url), "default").ledger(day).load(student, day).values())


def ask(client: TestClient, students: list[str], **overrides: object):  # noqa: ANN201
    body = {"students": students, "grade": 6, "knowledge_points": KPS, "minutes": 20, "day": DAY, **overrides}
    return client.post("/targeted", json=body)


@pytest.fixture(scope="module")
def bank() -> ItemBank:
    bank = ItemBank()
    bank.import_file(BANK)
    return bank


@pytest.fixture(scope="module")
def saved_model(bank: ItemBank, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BKT]:
    """BKT fitted on 6 simulated students (recommender.LearnerSimulator) answering 30 bank items each."""
    frame = bank.frame
    sim = LearnerSimulator(Curriculum.from_frame(frame, _PREREQUISITES, seed=0), n_students=6, seed=2)
    items = np.flatnonzero(frame["knowledge_points"].str.contains("fraction|decimal|percent").to_numpy())
    rng = np.random.default_rng(1)
    rows = []
    for j, student in enumerate(sim.students):
        chosen = rng.choice(items, 30, replace=False)
        correct, _ = sim.answer(j, chosen)
        rows += [(student, frame["id"].iloc[i], tuple(frame["knowledge_points"].iloc[i].split(";")), float(ok), t)
                 for t, (i, ok) in enumerate(zip(chosen, correct, strict=True))]
    model = BKT(random_state=0).fit(pd.DataFrame(rows, columns=["student_id", "item_id", "skill_ids", "correct",
                                                                "timestamp"]))
    path = tmp_path_factory.mktemp("model") / "bkt.json"
    path.write_text(model.to_json(), encoding="utf-8")
    return path, model


def test_without_a_bank_the_route_says_what_to_configure(tmp_path: Path, make_client: MakeClient) -> None:
    response = ask(make_client(), ["s1"])
    assert response.status_code == 503 and "set HOMEWORK_BANK" in response.json()["detail"]
    response = ask(make_client(bank=tmp_path / "nope.csv"), ["s1"])
    assert response.status_code == 503 and "nope.csv does not exist" in response.json()["detail"]


def test_with_no_answers_every_student_gets_a_set_at_the_prior_and_the_ledger_keeps_it(
        make_client: MakeClient, database_url: str) -> None:
    client = make_client(bank=BANK)
    response = ask(client, ["s1", "s2", "s3"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mastery_model"] == "no graded answers yet: every knowledge point at the prior"
    assert [s["student_id"] for s in body["students"]] == ["s1", "s2", "s3"] and body["notes"] == []
    for mine in body["students"]:
        assert 16 <= mine["minutes"] <= 20 == mine["budget"]
        assert mine["item_ids"] == [p["item_id"] for p in mine["picks"]]
        assert all(p["mastery"] == 0.5 and p["reason"].startswith(p["knowledge_point"]) for p in mine["picks"])
        sheets = client.get(f"/assignments/{mine['assignment_id']}/sheets.pdf")
        assert sheets.status_code == 200 and sheets.content.startswith(b"%PDF")
    first = body["students"][0]
    paper = client.get(f"/assignments/{first['assignment_id']}/questions.pdf")
    assert paper.status_code == 200 and paper.content.startswith(b"%PDF")
    stems = pd.read_csv(BANK, keep_default_na=False).set_index("id")["stem"]
    text = "".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(paper.content))
    assert stems[first["item_ids"][0]][:8] in text.replace("\r", "").replace("\n", "")
    missing = client.get("/assignments/not-a-set/questions.pdf")
    assert missing.status_code == 404 and "POST /targeted" in missing.json()["detail"]

    more = ask(make_client(bank=BANK), ["s1"], minutes=50).json()["students"][0]  # a new app, same data
    assert more["budget"] == pytest.approx(60 - first["minutes"]) and "min left under the cap" in more["budget_reason"]
    day = dt.date(2026, 11, 24)
    assert saved_minutes(database_url, "s1", day) == pytest.approx(first["minutes"] + more["minutes"])


def test_a_saved_model_gives_each_student_their_mastery_and_a_newcomer_the_prior(
        tmp_path: Path, make_client: MakeClient, saved_model: tuple[Path, BKT]) -> None:
    path, model = saved_model
    students = ["s0001", "s0002", "newcomer"]
    body = ask(make_client(bank=BANK, model=path), students).json()
    assert body["mastery_model"] == f"BKT from {path}"
    for mine in body["students"]:
        assert mine["picks"]
        for pick in mine["picks"]:
            expected = model.mastery(mine["student_id"], [pick["knowledge_point"]])[pick["knowledge_point"]]
            assert mine["model_mastery"][pick["knowledge_point"]] == pytest.approx(expected.p_correct, abs=1e-4)
            assert 0 < pick["mastery"] < 1
    assert all("after 0 answers" in p["reason"] for p in body["students"][2]["picks"])
    (tmp_path / "broken.json").write_text('{"model": "Unknown"}', encoding="utf-8")
    broken = ask(make_client(bank=BANK, model=tmp_path / "broken.json"), students)
    assert broken.status_code == 422 and "'Unknown' is not one of" in broken.json()["detail"]


def test_scanned_answers_feed_the_model_and_are_not_repeated(tmp_path: Path, make_client: MakeClient,
                                                             bank: ItemBank) -> None:
    from scanning import DigitBank, generate_set, scanner

    ids = bank.query(subject="math", grade=[5, 6], knowledge_points=KPS, type="numeric")["id"].tolist()[:4]
    assignment = build_assignment(bank, ids, assignment_id="g6-fx")
    spec = sheet_spec(bank, assignment, [("s1", "s1"), ("s2", "s2")])
    client = make_client(bank=BANK)
    assert client.post("/assignments", json=spec.model_dump(mode="json", exclude_none=True)).status_code == 201
    pages = generate_set(spec, tmp_path / "scans", [scanner(200, 0)], DigitBank.load(FIXTURES / "handwriting" /
                                                                                    "mnist_digits_500.npz"), seed=3)
    files = [("files", (p.file, (tmp_path / "scans" / p.file).read_bytes(), "image/jpeg")) for p in pages]
    accepted = client.post("/scans", files=files)
    assert accepted.status_code == 202
    assert {wait_for_upload(client, a)["job"]["status"] for a in accepted.json()} == {"done"}
    graded = [a for a in client.get("/assignments/g6-fx/answers").json()
              if a["grade_status"] == "graded" and a["field_id"] in ids]
    assert graded

    body = ask(client, ["s1", "s2", "s3"]).json()
    assert body["mastery_model"] == f"BKT fitted on {len(graded)} graded answers"
    answered = {s: {a["field_id"] for a in graded if a["student_id"] == s} for s in ("s1", "s2")}
    for mine in body["students"]:
        assert mine["item_ids"] and not set(mine["item_ids"]) & answered.get(mine["student_id"], set())
    points = bank.frame.set_index("id")["knowledge_points"].str.split(";")
    for mine in body["students"]:  # the teacher's scope, each pick citing the student's own graded answers
        mine_graded = [a for a in graded if a["student_id"] == mine["student_id"]]
        assert mine["picks"] and {p["knowledge_point"] for p in mine["picks"]} <= set(KPS)
        for pick in mine["picks"]:
            count = sum(pick["knowledge_point"] in points[a["field_id"]] for a in mine_graded)
            assert f"after {count} answers" in pick["reason"]
    assert any("after 0 answers" not in p["reason"] for p in body["students"][0]["picks"])
    assert all("after 0 answers" in p["reason"] for p in body["students"][2]["picks"])


def test_tiers_give_one_sheet_per_tier(make_client: MakeClient, saved_model: tuple[Path, BKT]) -> None:
    client = make_client(bank=BANK, model=saved_model[0])
    students = [f"s000{i}" for i in range(1, 7)]
    body = ask(client, students, tiers=True).json()
    rows = {s["student_id"]: s for s in body["students"]}
    assert sorted(s["tier"] for s in rows.values()) == ["A", "A", "B", "B", "C", "C"]
    for tier in "ABC":
        members = [s for s in rows.values() if s["tier"] == tier]
        assert members[0]["item_ids"] == members[1]["item_ids"] and members[0]["minutes"] <= 20
        assert members[0]["assignment_id"] == members[1]["assignment_id"]
        spec = client.get(f"/assignments/{members[0]['assignment_id']}/missing-pages").json()
        assert sorted(spec) == sorted(m["student_id"] for m in members)


def test_bad_requests_get_a_message(make_client: MakeClient, database_url: str) -> None:
    client = make_client(bank=BANK)
    grade_two = ask(client, ["s1"], grade=2)
    assert grade_two.status_code == 422 and "grade 2 may not get written homework" in grade_two.json()["detail"]
    unknown = ask(client, ["s1"], knowledge_points=["no.such.point"])
    assert unknown.status_code == 422 and "no items in the pool" in unknown.json()["detail"]
    assert ask(client, ["not a sheet id!"]).status_code == 422
    assert saved_minutes(database_url, "s1", dt.date.fromisoformat(DAY)) == 0
    locked = make_client(bank=BANK, open_access=False)
    assert ask(locked, ["s1"]).status_code == 401


def test_with_a_refit_in_the_store_selection_reads_its_newest_version_and_the_online_evidence(
        database_url: str, make_client: MakeClient) -> None:
    from homework.storage import MasteryStore, ModelVersions, open_engine

    engine = open_engine(database_url)
    versions = ModelVersions(engine)
    versions.save("math", 6, "{}", {kp: 0.2 for kp in KPS}, responses=10, students=2, note="old")
    newest = versions.save("math", 6, "{}", {kp: 0.9 for kp in KPS}, responses=10, students=2, note="newest")
    evidence = MasteryStore(engine, "default")
    for _ in range(6):
        evidence.record("s1", "math", "number.fraction", 0.0)
    body = ask(make_client(bank=BANK), ["s1", "s2"]).json()
    assert body["mastery_model"].startswith(f"online evidence on refit version {newest} of math grade 6")
    s1, s2 = body["students"]
    assert s1["model_mastery"]["number.fraction"] == pytest.approx((0 + 3 * 0.9) / (6 + 3), abs=1e-4)
    assert s2["model_mastery"]["number.fraction"] == pytest.approx(0.9)  # no evidence: the newest refit's prior
    assert all(p["knowledge_point"] == "number.fraction" for p in s1["picks"][:1])  # the weak point first
