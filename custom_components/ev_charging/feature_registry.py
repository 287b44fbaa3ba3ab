"""The site features the config flow menu offers (see ``features.py``)."""

from __future__ import annotations

from .features import Feature
from .sessions.setup import FEATURE as SESSIONS

FEATURES: dict[str, Feature] = {}
FEATURES[SESSIONS.key] = SESSIONS
