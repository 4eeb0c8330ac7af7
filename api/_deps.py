"""Dependencies shared by the routers: the intake of this app, and the API-key check."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from api._settings import Settings
from homework._intake import Intake

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_intake(request: Request) -> Intake:
    return request.app.state.intake


def require_key(
    settings: Annotated[Settings, Depends(get_settings)], key: Annotated[str | None, Security(_api_key)]
) -> None:
    """Refuse a request without one of the configured keys (no keys configured: open)."""
    if settings.api_keys and key not in settings.api_keys:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or unknown X-API-Key")


IntakeDep = Annotated[Intake, Depends(get_intake)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
