"""HTTP face of the library: a FastAPI app factory. Thin: every route calls :mod:`homework`.

Run it with ``homework serve`` or ``uvicorn --factory api:create_app``.
"""

from api._app import create_app
from api._serve import main
from api._settings import Settings

__all__ = ["Settings", "create_app", "main"]
