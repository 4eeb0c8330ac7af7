"""One error shape for every route: RFC 9457 problem details with a stable ``code``.

Every error the API sends is ``application/problem+json``::

    {"type": "https://homework-loop.invalid/problems/not_found", "title": "Not Found", "status": 404,
     "detail": "no upload 12345", "code": "not_found"}

``code`` is stable (clients branch on it; ``detail`` is for people and may change). A request that
fails validation adds ``errors`` (where and why); a 413 in the middle of a multi-file upload adds
``accepted`` (the files kept before it). Library errors are mapped here, at the edge, by type.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from homework import (
    AssignmentError,
    CapExceededError,
    HomeworkError,
    NotFoundError,
    ReviewClosedError,
    RosterError,
    UnknownAssignmentError,
)
from recommender import RecommenderError
from scanning import ScanningError

log = logging.getLogger(__name__)

TYPE_BASE = "https://homework-loop.invalid/problems/"

CODES: dict[str, str] = {
    "unauthorized": "no valid X-API-Key",
    "forbidden": "the key's role may not do this",
    "not_found": "no such object in the key's school (another school's objects are not found either)",
    "unknown_assignment": "the assignment is not registered in this school",
    "review_closed": "the review item was already resolved",
    "cap_exceeded": "the set would break a 双减 homework-time cap",
    "invalid_assignment": "the assignment or set cannot be made as asked",
    "invalid_sheet": "a sheet spec or scan could not be used",
    "invalid_model": "the mastery model cannot be used",
    "invalid_roster": "a roster file cannot be imported as sent (see errors: each row's field and reason)",
    "invalid_request": "the request does not match its schema (see errors)",
    "bad_request": "the request cannot be carried out as sent",
    "upload_too_large": "a file is larger than the upload limit (see accepted)",
    "too_many_files": "more files in one request than allowed",
    "too_many_pages": "a file has more pages than allowed (see accepted)",
    "bank_not_configured": "no item bank is configured (HOMEWORK_BANK)",
    "internal_error": "a fault of the service; it is logged",
}
"""Every ``code`` the API sends, with what it means."""


class Problem(BaseModel):
    """An error (RFC 9457 problem details), the only shape errors have."""

    type: str = Field(description="A URI naming the problem type (ends with the code).")
    title: str = Field(description="The HTTP status phrase.")
    status: int
    detail: str = Field(description="What went wrong, for people.")
    code: str = Field(description="Stable machine-readable code: " + "; ".join(f"{c}: {m}" for c, m in CODES.items()))
    errors: list[dict[str, Any]] | None = Field(None, description="Validation errors: where and why.")
    accepted: list[dict[str, Any]] | None = Field(None, description="Files of the same request kept before the error.")


class ApiError(StarletteHTTPException):
    """An HTTP error with its stable code (and any extra problem members)."""

    def __init__(self, status_code: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(status_code, detail)
        self.code, self.extra = code, extra


_LIBRARY: tuple[tuple[type[Exception], int, str], ...] = (
    (UnknownAssignmentError, status.HTTP_404_NOT_FOUND, "unknown_assignment"),
    (NotFoundError, status.HTTP_404_NOT_FOUND, "not_found"),
    (ReviewClosedError, status.HTTP_409_CONFLICT, "review_closed"),
    (CapExceededError, status.HTTP_422_UNPROCESSABLE_CONTENT, "cap_exceeded"),
    (RosterError, status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_roster"),
    (AssignmentError, status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_assignment"),
    (ScanningError, status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_sheet"),
    (RecommenderError, status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_model"),
    (HomeworkError, status.HTTP_400_BAD_REQUEST, "bad_request"),
)
_BY_STATUS = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "bad_request", 413: "upload_too_large"}


def problem(status_code: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    """The problem response itself."""
    body = Problem(type=TYPE_BASE + code, title=HTTPStatus(status_code).phrase, status=status_code, detail=detail,
                   code=code, **extra)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status_code,
                        media_type="application/problem+json")


def install(app: FastAPI) -> None:
    """Route every error of ``app`` through :func:`problem`."""

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc, ApiError):
            return problem(exc.status_code, exc.code, str(exc.detail), **exc.extra)
        code = _BY_STATUS.get(exc.status_code, "bad_request" if exc.status_code < 500 else "internal_error")
        return problem(exc.status_code, code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        return problem(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_request", where, errors=errors)

    @app.exception_handler(HomeworkError)
    @app.exception_handler(ScanningError)
    @app.exception_handler(RecommenderError)
    async def _library(request: Request, exc: Exception) -> JSONResponse:
        status_code, code = next((s, c) for t, s, c in _LIBRARY if isinstance(exc, t))
        if isinstance(exc, RosterError) and exc.issues:
            return problem(status_code, code, str(exc), errors=[
                {"loc": [f"row {i.row}", i.field], "msg": i.reason, "type": code} for i in exc.issues])
        return problem(status_code, code, str(exc))

    @app.exception_handler(Exception)
    async def _fault(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return problem(status.HTTP_500_INTERNAL_SERVER_ERROR, "internal_error",
                       f"the service failed ({type(exc).__name__}); it is logged")


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` documenting these error statuses with the problem shape."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {c: {"model": Problem, "description": HTTPStatus(c).phrase,
                "content": {"application/problem+json": {"schema": schema}}} for c in codes}
