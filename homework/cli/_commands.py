"""Imports every command module so that its commands register on :data:`homework.cli._app.app`."""

from __future__ import annotations

from homework.cli import (
    _bank,  # noqa: F401
    _demo,  # noqa: F401
    _export,  # noqa: F401
    _notebook,  # noqa: F401
    _report,  # noqa: F401
    _roster,  # noqa: F401
    _scan,  # noqa: F401
    _service,  # noqa: F401
    _sheets,  # noqa: F401
    _target,  # noqa: F401
    _version,  # noqa: F401
)
