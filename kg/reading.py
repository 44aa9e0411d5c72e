"""What to read for a concept on a study path, and how long it takes: passages and a reading-time estimate."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from studygraph.records import Chunk, Concept, SourceRef
from studygraph.text import cjk_count

# The reading-speed assumption behind StudyStep.minutes (said wherever minutes are shown).
CJK_CHARS_PER_MINUTE = 300
ENGLISH_WORDS_PER_MINUTE = 200
READING_ASSUMPTION = (f"~{CJK_CHARS_PER_MINUTE} CJK characters or ~{ENGLISH_WORDS_PER_MINUTE} English words "
                      "a minute, rounded up to half minutes")

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’\-_.][A-Za-z0-9]+)*")


def reading_minutes(texts: Iterable[str]) -> float:
    """Estimated reading time of passages (see READING_ASSUMPTION); 0 when there is nothing to read."""
    cjk = words = 0
    for text in texts:
        cjk += cjk_count(text)
        words += len(_WORD.findall(text))
    if not cjk and not words:
        return 0.0
    return max(0.5, math.ceil((cjk / CJK_CHARS_PER_MINUTE + words / ENGLISH_WORDS_PER_MINUTE) * 2) / 2)


def concept_sources(concept: Concept, chunks: Mapping[str, Chunk]) -> list[Chunk]:
    """The passages to read for a concept: those that define it, else the first two that mention it."""
    found = [chunks[c] for c in concept.chunks if c in chunks]
    if not found:
        found = [chunks[c] for c in concept.mentions if c in chunks][:2]
    return sorted(dict.fromkeys(found), key=lambda c: (c.source, c.line_start, c.id))


def source_ref(chunk: Chunk) -> SourceRef:
    """The citation of a passage: chunk id, file, heading path and line range."""
    return SourceRef(chunk_id=chunk.id, **chunk.model_dump(include={"source", "heading_path", "line_start", "line_end"}))
