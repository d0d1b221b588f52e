"""The four severities, and how other tools' words map onto them."""
from __future__ import annotations

ORDER = ("critique", "eleve", "moyen", "faible")

_ALIASES = {
    "critique": "critique", "critical": "critique", "crit": "critique", "p1": "critique",
    "eleve": "eleve", "élevé": "eleve", "élevée": "eleve", "high": "eleve", "error": "eleve",
    "p2": "eleve",
    "moyen": "moyen", "medium": "moyen", "warning": "moyen", "p3": "moyen",
    "faible": "faible", "low": "faible", "info": "faible", "p4": "faible",
}

# PagerDuty Events API v2 payload.severity values, as PagerDuty documents them.
PAGERDUTY = {"critical": "critique", "error": "eleve", "warning": "moyen", "info": "faible"}

LABELS = {
    "fr": {"critique": "critique", "eleve": "élevé", "moyen": "moyen", "faible": "faible"},
    "en": {"critique": "critical", "eleve": "high", "moyen": "medium", "faible": "low"},
}

# The label after a feminine noun ("gravité élevée", "sévérité moyenne"): templates write it
# {sev_f}.  LABELS stay as they are elsewhere ("#12 ÉLEVÉ" heads an SMS, a badge).
AFTER_FEMININE = {
    "fr": {"critique": "critique", "eleve": "élevée", "moyen": "moyenne", "faible": "faible"},
    "en": LABELS["en"],
}


def normalise(value: str) -> str | None:
    return _ALIASES.get(value.strip().lower())
