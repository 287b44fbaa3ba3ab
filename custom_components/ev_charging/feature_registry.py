"""The site features the config flow menu offers (see ``features.py``)."""

from __future__ import annotations

from .features import Feature

FEATURES: dict[str, Feature] = {}
