"""The item bank over HTTP: a school admin imports item files into the school's bank in the store.

``POST /bank/items`` takes CSV, Excel or JSON item files (the bank's columns, see the README); every
invalid row comes back with its row, field and reason, the valid items are added (or, by id,
updated), and the school's targeted sets, papers and reports read the store's bank from then on
(``HOMEWORK_BANK`` is the fallback for a school without one).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api._deps import SchoolAdmin, ServiceDep, SettingsDep
from api._problems import ApiError, responses

bank = APIRouter(prefix="/bank", tags=["item bank"], responses=responses(401, 403, 404, 413, 422))

_SUFFIXES = (".csv", ".xlsx", ".json", ".jsonl")


class BankIssuePublic(BaseModel):
    file: str
    row: int = Field(description="The file's row (the header is row 1 in CSV and Excel).")
    field: str
    reason: str


class BankImportPublic(BaseModel):
    added: int
    updated: int = Field(description="Items whose id the school's bank had: replaced.")
    rejected: int = Field(description="Rows with an invalid value (see issues); not imported.")
    items: int = Field(description="Items in the school's bank now.")
    issues: list[BankIssuePublic]


@bank.post("/items")
async def import_items(service: ServiceDep, who: SchoolAdmin, settings: SettingsDep,
                       files: list[UploadFile]) -> BankImportPublic:
    """Import item files (``.csv``, ``.xlsx``, ``.json``, ``.jsonl``) into the school's bank. A file with no
    valid row is a 422 listing every row's problem."""
    limit = settings.max_upload_mb * 1024 * 1024
    added = updated = rejected = 0
    issues: list[BankIssuePublic] = []
    with tempfile.TemporaryDirectory() as tmp:
        for file in files:
            name = Path(file.filename or "items.csv").name
            if Path(name).suffix.lower() not in _SUFFIXES:
                raise ApiError(422, "invalid_request", f"{name}: an item file is {', '.join(_SUFFIXES)}")
            data = await file.read(limit + 1)
            if len(data) > limit:
                raise ApiError(413, "upload_too_large", f"{name}: larger than {settings.max_upload_mb} MB")
            path = Path(tmp) / name
            path.write_bytes(data)
            report = await run_in_threadpool(service.import_bank, who.school, [path])
            added, updated, rejected = added + report.added, updated + report.updated, rejected + report.rejected
            issues += [BankIssuePublic(file=name, row=i.row, field=i.field, reason=i.reason) for i in report.issues]
    if added + updated == 0:
        raise ApiError(422, "invalid_request", "no valid item in the files: " + "; ".join(
            f"{i.file} row {i.row}, {i.field}: {i.reason}" for i in issues[:5]),
            errors=[i.model_dump() for i in issues])
    count, _ = service.items(who.school).version()
    return BankImportPublic(added=added, updated=updated, rejected=rejected, items=count, issues=issues)
