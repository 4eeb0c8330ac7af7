"""The app factory. Nothing is created at import: ``create_app()`` builds the store and the intake."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request, status
from fastapi.responses import JSONResponse

from api._deps import require_key
from api._routes import assignments, review, scans, targeted
from api._settings import Settings
from api._targeting import Targeting
from homework import AssignmentError, HomeworkError, ReviewClosedError, UnknownAssignmentError
from homework._intake import Intake
from homework._store import ScanStore
from recommender import RecommenderError
from scanning import ScanningError

_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (UnknownAssignmentError, status.HTTP_404_NOT_FOUND),
    (ReviewClosedError, status.HTTP_409_CONFLICT),
    (AssignmentError, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (ScanningError, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (RecommenderError, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (HomeworkError, status.HTTP_400_BAD_REQUEST),
)


def create_app(settings: Settings | None = None, *, intake: Intake | None = None) -> FastAPI:
    """A ready app: ``settings`` default to the environment; ``intake`` to one over ``settings.data_dir``."""
    settings = settings or Settings()
    app = FastAPI(title="homework-loop", version="0.1.0", dependencies=[Depends(require_key)])
    app.state.settings = settings
    app.state.intake = intake or Intake(ScanStore(settings.data_dir), ocr=settings.ocr_backend)
    app.state.targeting = Targeting(settings)
    for router in (assignments, scans, review, targeted):
        app.include_router(router)

    @app.exception_handler(HomeworkError)
    @app.exception_handler(ScanningError)
    @app.exception_handler(RecommenderError)
    async def _library_error(request: Request, exc: Exception) -> JSONResponse:
        code = next(c for t, c in _STATUS if isinstance(exc, t))
        return JSONResponse({"detail": str(exc), "error": type(exc).__name__}, status_code=code)

    return app
