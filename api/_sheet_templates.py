"""``POST /sheet-templates``: import a bubble sheet this library did not print (an OMRChecker folder).

Who may call it: a school admin (a key of role ``school_admin``); the sheet it returns belongs to
nobody until an assignment is registered on it (``POST /assignments``, in the admin's school).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, UploadFile, status

from api._deps import SchoolAdmin, SettingsDep
from api._problems import responses

sheet_templates = APIRouter(prefix="/sheet-templates", tags=["sheet templates"],
                            responses=responses(401, 403, 404, 422, 413))

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")


@sheet_templates.post("", status_code=status.HTTP_201_CREATED)
async def import_sheet_template(settings: SettingsDep, who: SchoolAdmin, files: list[UploadFile],
                                template: str = "template.json", identity: str | None = None) -> dict[str, Any]:
    """Post an OMRChecker folder's files (``template.json``, and as it has them ``config.json``,
    ``evaluation.json``, ``answer_key.csv``, its marker or reference image); get the sheet spec
    (JSON) to register assignments on with ``POST /assignments`` as ``{"assignment_id", "title",
    "sheet": <this>, "students": [{"id", "name", "number"}]}``. An unsupported template feature is
    a 422 naming it."""
    from scanning import import_omrchecker

    limit = settings.max_upload_mb * 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sheet"
        folder.mkdir()
        for file in files:
            name = Path(file.filename or "").name
            if not _SAFE_NAME.match(name):
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"file name {file.filename!r} is not a "
                                    "plain name (letters, digits, _ . -)")
            data = await file.read(limit + 1)
            if len(data) > limit:
                raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"{name}: larger than "
                                    f"{settings.max_upload_mb} MB")
            (folder / name).write_bytes(data)
        sheet = import_omrchecker(folder, template=template, identity=identity, name=Path(template).stem)
    return sheet.model_dump(mode="json")
