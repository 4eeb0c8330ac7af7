"""What ``POST /targeted`` needs across requests: the item bank and a configured mastery model.

Both are loaded lazily (nothing at import or app creation) and cached on the app::

    bank     the school's bank in the store (``POST /bank/items``, ``homework bank import --school``)
             when it has one; else settings.bank, imported once, reloaded when the file changes (mtime)
    model    settings.model (``model.to_json()``), loaded once per file version

Without a model file the service chooses the mastery (``HomeworkService.targeted``: a district
refit, else BKT fitted on the school's graded answers). The 双减 ledger is in the store
(``HomeworkService.ledger``), shared by every server process.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request, status

from api._problems import ApiError
from api._settings import Settings
from homework import ItemBank
from homework._targeting import load_mastery_model

log = logging.getLogger(__name__)


class Targeting:
    """The bank and model of one app (thread-safe: routes run in a thread pool)."""

    def __init__(self, settings: Settings, service: Any = None) -> None:
        self.settings = settings
        self.service = service
        self._lock = threading.Lock()
        self._bank: tuple[Any, ItemBank] | None = None
        self._model: tuple[Any, Any] | None = None

    def bank(self, school: str | None = None) -> ItemBank:
        """The school's bank in the store, else the configured file; 503 with what to do when there is none."""
        if school is not None and self.service is not None:
            stored = self.service.bank(school)
            if stored is not None:
                return stored
        path = self.settings.bank
        if path is None:
            raise ApiError(status.HTTP_503_SERVICE_UNAVAILABLE, "bank_not_configured",
                           "no item bank: import one into the school (POST /bank/items, homework bank import "
                           "--school S) or set HOMEWORK_BANK to a CSV, JSON or XLSX item file")
        if not Path(path).is_file():
            raise ApiError(status.HTTP_503_SERVICE_UNAVAILABLE, "bank_not_configured",
                           f"the item bank file HOMEWORK_BANK={path} does not exist")
        key = (str(path), Path(path).stat().st_mtime_ns)
        with self._lock:
            if self._bank is None or self._bank[0] != key:
                bank = ItemBank()
                report = bank.import_file(path)
                log.info("item bank %s: %d items (%d rows rejected)", path, len(bank), report.rejected)
                self._bank = (key, bank)
            return self._bank[1]

    def model(self) -> tuple[Any, str] | None:
        """The configured model file's model and a line naming it (``None`` without one)."""
        path = self.settings.model
        if path is None:
            return None
        key = (str(path), Path(path).stat().st_mtime_ns if Path(path).is_file() else None)
        with self._lock:
            if self._model is None or self._model[0] != key:
                self._model = (key, load_mastery_model(path))
        return self._model[1], f"{type(self._model[1]).__name__} from {path}"


async def get_targeting(request: Request) -> Targeting:
    return request.app.state.targeting


TargetingDep = Annotated[Targeting, Depends(get_targeting)]
