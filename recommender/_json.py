"""Versioned JSON for fitted models (never pickle): ``{"format", "version", "model", "params", "state"}``."""

from __future__ import annotations

import json
from collections.abc import Hashable
from typing import Any

import numpy as np

from recommender._errors import DataFormatError

FORMAT = "recommender.mastery"
VERSION = 1


def dump(model: str, params: dict[str, Any], state: dict[str, Any]) -> str:
    """Serialise a model's parameters and fitted state."""
    doc = {"format": FORMAT, "version": VERSION, "model": model, "params": params, "state": state}
    return json.dumps(doc, default=_plain, separators=(",", ":"))


def load(text: str, model: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parse what :func:`dump` wrote; wrong format, version or model class is a DataFormatError."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"<json>: line {exc.lineno}, field 'document': not JSON ({exc.msg})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DataFormatError(f"<json>: field 'format': expected {FORMAT!r}")
    if doc.get("version") != VERSION:
        raise DataFormatError(f"<json>: field 'version': {doc.get('version')!r} is not supported (this is {VERSION})")
    if doc.get("model") != model:
        raise DataFormatError(f"<json>: field 'model': {doc.get('model')!r} cannot be loaded as {model}")
    return doc["params"], doc["state"]


def _plain(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def ids_to_json(ids: list[Hashable]) -> list[Any]:
    """Ids as a JSON list (a list keeps int and str apart, unlike object keys)."""
    return [_plain(v) if isinstance(v, np.generic) else v for v in ids]


def ids_from_json(ids: list[Any]) -> list[Hashable]:
    return [tuple(v) if isinstance(v, list) else v for v in ids]
