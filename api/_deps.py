"""Dependencies shared by the routers: the settings and the service of this app, and the principal.

:func:`principal` turns the ``X-API-Key`` header into a :class:`~homework.storage.Principal`
(school, role, teacher); the role aliases below let a route say who may call it. Every route then
asks the service for its principal's school only, so another school's objects are simply not found
(404), never forbidden.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security, status
from fastapi.security import APIKeyHeader

from api._problems import ApiError
from api._settings import Settings
from homework import HomeworkService, Intake, SchoolView
from homework.storage import DEFAULT_SCHOOL, Principal

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False,
                        description="A key made by `homework keys create --school S --role R`.")


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_service(request: Request) -> HomeworkService:
    return request.app.state.service


# The dependencies that only read app state are ``async``: a plain ``def`` would be run in the thread
# pool, and under 50 concurrent uploads every request waited for a pool thread several times over.
SettingsDep = Annotated[Settings, Depends(get_settings)]
ServiceDep = Annotated[HomeworkService, Depends(get_service)]


def principal(settings: SettingsDep, service: ServiceDep,
              key: Annotated[str | None, Security(_api_key)]) -> Principal:
    """Who the request acts as; 401 without a valid key (unless ``open_access`` is set)."""
    if key:
        found = service.keys.check(key)
        if found is None:
            raise ApiError(status.HTTP_401_UNAUTHORIZED, "unauthorized", "unknown or revoked X-API-Key")
        return found
    if settings.open_access:
        return Principal(0, "school_admin", DEFAULT_SCHOOL)
    raise ApiError(status.HTTP_401_UNAUTHORIZED, "unauthorized",
                   "missing X-API-Key: `homework keys create --school S --role R` makes one")


def allow(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only these roles through (403 names the role and who may)."""
    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.role not in roles:
            raise ApiError(status.HTTP_403_FORBIDDEN, "forbidden",
                           f"a {who.role} key may not do this (only: {', '.join(roles)})")
        return who

    return check


Staff = Annotated[Principal, Depends(allow("teacher", "school_admin"))]
"""Teachers and school admins: assignments, answers, reviews, reports, targeted sets."""
Uploader = Annotated[Principal, Depends(allow("station", "teacher", "school_admin"))]
"""Who may post scans and follow their jobs."""


def school_intake(service: ServiceDep, who: Staff) -> Intake:
    """The scan intake of the caller's school: every query it makes is scoped to that school."""
    return service.intake(who.school)


SchoolIntake = Annotated[Intake, Depends(school_intake)]


def school_view(service: ServiceDep, who: Staff) -> SchoolView:
    """The caller's school as the caller may see it: a teacher's own classes, an admin's whole school."""
    return service.view(who)


View = Annotated[SchoolView, Depends(school_view)]
"""What a staff key sees (see :class:`homework.SchoolView`): every staff route reads through it."""
SchoolAdmin = Annotated[Principal, Depends(allow("school_admin"))]
"""School admins: the school's rosters, keys and bank."""
DistrictAdmin = Annotated[Principal, Depends(allow("district_admin"))]
"""District admins: every school's aggregates, read-only."""
