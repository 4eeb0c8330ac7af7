"""HTTP face of the library: a FastAPI app factory. Thin: every route calls :mod:`homework`."""

__all__: list[str] = []
