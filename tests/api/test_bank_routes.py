"""``POST /bank/items`` on both engines: a school admin imports the fixture bank into the school's store,
bad rows come back with their reasons, and targeted sets and question papers then come from the store's
bank with no ``HOMEWORK_BANK`` configured."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from uploads import MakeClient

BANK = Path(__file__).resolve().parents[2] / "fixtures" / "bank" / "items.csv"


def test_an_admin_imports_the_bank_and_targeted_sets_come_from_the_store(make_client: MakeClient,
                                                                         database_url: str, tmp_path: Path) -> None:
    from homework.storage import KeyStore, open_engine

    keys = KeyStore(open_engine(database_url))
    admin = {"X-API-Key": keys.create("school_admin", school="S")}
    teacher = {"X-API-Key": keys.create("teacher", school="S", teacher="t1")}
    client = make_client(open_access=False)  # no HOMEWORK_BANK
    body = {"students": ["s1"], "grade": 6, "minutes": 10, "day": "2026-11-24"}
    assert client.post("/targeted", json=body, headers=teacher).json()["code"] == "bank_not_configured"
    files = [("files", ("items.csv", BANK.read_bytes(), "text/csv"))]
    assert client.post("/bank/items", files=files, headers=teacher).status_code == 403
    imported = client.post("/bank/items", files=files, headers=admin)
    assert imported.status_code == 200, imported.text
    assert {k: imported.json()[k] for k in ("added", "updated", "rejected", "items")} == {
        "added": 2155, "updated": 0, "rejected": 0, "items": 2155}
    made = client.post("/targeted", json=body, headers=teacher)
    assert made.status_code == 200, made.text
    aid = made.json()["students"][0]["assignment_id"]
    paper = client.get(f"/assignments/{aid}/questions.pdf", headers=teacher)
    assert paper.status_code == 200 and paper.content[:5] == b"%PDF-"
    bad = tmp_path / "bad.csv"
    pd.read_csv(BANK, dtype=str, keep_default_na=False).iloc[:1].assign(grade="15").to_csv(bad, index=False)
    refused = client.post("/bank/items", files=[("files", ("bad.csv", bad.read_bytes(), "text/csv"))], headers=admin)
    assert refused.status_code == 422 and refused.json()["errors"] == [
        {"file": "bad.csv", "row": 2, "field": "grade", "reason": "must be a whole number from 1 to 12, got 15"}]
    wrong = client.post("/bank/items", files=[("files", ("items.exe", b"MZ", "application/octet-stream"))],
                        headers=admin)
    assert wrong.status_code == 422 and "an item file is .csv" in wrong.json()["detail"]
