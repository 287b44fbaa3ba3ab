"""The site features the config flow menu offers (see ``features.py``)."""

from __future__ import annotations

from .balancer.setup import FEATURE as LOAD_BALANCER
from .features import Feature
from .sessions.setup import FEATURE as SESSIONS

FEATURES: dict[str, Feature] = {}
FEATURES[SESSIONS.key] = SESSIONS
FEATURES[LOAD_BALANCER.key] = LOAD_BALANCER
