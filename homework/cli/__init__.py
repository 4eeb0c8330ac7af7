"""Entry point of the ``homework`` command. Each sibling module registers its own commands."""

from __future__ import annotations

from homework.cli._app import app


def main() -> None:
    """Run the ``homework`` command line."""
    # Command modules are imported here, not at package import, so `import homework` stays light.
    from homework.cli import _commands  # noqa: F401

    app()


__all__ = ["app", "main"]
