"""A de-identification check: texts that look as if they still hold dates, phone numbers, e-mail addresses or
record numbers are counted and the user is warned before a model learns from (or a report shows) them."""

from __future__ import annotations

import logging
import re

log = logging.getLogger("medtransfer")

PATTERNS = {
    "date": re.compile(
        r"\b(\d{1,2}([/.-])\d{1,2}\2\d{2,4}(?![.\d])|\d{4}-\d{2}-\d{2}|(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)"
        r"[a-z]*\.? \d{1,2}(st|nd|rd|th)?,? \d{4})\b",
        re.IGNORECASE,
    ),
    "phone number": re.compile(r"(\(\d{3}\)\s?|\b\d{3}[-. ])\d{3}[-. ]\d{4}\b"),
    "e-mail address": re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b"),
    "ID-like token": re.compile(r"\b(mrn|ssn|dob|record|acc(ession)?)\s*(no\.?|number|#)?\s*[:#]?\s*\d{4,}\b|"
                                r"\b\d{3}-\d{2}-\d{4}\b|\b\d{7,}\b", re.IGNORECASE),  # fmt: skip
}


def identifier_hits(texts: list[str], where: list[str]) -> dict[str, list[str]]:
    """Per kind of identifier, where it was found (the row or file of each text that holds one)."""
    hits: dict[str, list[str]] = {}
    for text, place in zip(texts, where, strict=True):
        for kind, pattern in PATTERNS.items():
            if pattern.search(text):
                hits.setdefault(kind, []).append(place)
    return hits


def warn_identifiers(texts: list[str], where: list[str], source: str) -> dict[str, int]:
    """Log one warning naming what was found and where first; returns the counts (for the report)."""
    hits = identifier_hits(texts, where)
    if hits:
        found = "; ".join(f"{len(v)} with a {k} (first: {v[0]})" for k, v in hits.items())
        log.warning(
            "%s may not be de-identified: %s of %d texts. Remove or mask identifiers before training or sharing "
            "a model or report built on them.", source, found, len(texts),
        )  # fmt: skip
    return {k: len(v) for k, v in hits.items()}
