"""Safe rendering of note text and answers: everything from notes or the model is escaped before it is shown.

Note text is data. It reaches the page only as escaped markdown (`md_text`) or as HTML built here from
`html.escape`d pieces (`passage_html`, `answer_html`), and `st.html` sanitizes that again (DOMPurify).
Nothing here passes note content to `unsafe_allow_html`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from studygraph.records import Citation
from studygraph.text import CJK_CHARS, is_cjk

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^\"'])")
_CITE = re.compile(r"\[(\d{1,3})\]")
# A sentence ends at CJK or Latin end punctuation (with the [n] markers that follow it), at a blank line, or
# before a list item, heading or table row; a single line break inside a paragraph does not end it.
_SENTENCE = re.compile(r"\S.*?(?:[。！？!?；;]+(?:\s*\[\d+\])*|\.(?:\s*\[\d+\])*(?=\s|$)|(?=\n\s*\n)"
                       r"|(?=\n\s*(?:[-*+]\s|\d+[.)]\s|#|\|))|$)", re.S)
_TOKEN = re.compile(rf"[A-Za-z][A-Za-z0-9_\-]+|[0-9]+|[{CJK_CHARS}]")

STYLE = """
<style>
.sg-passage { white-space: pre-wrap; font-size: 0.9rem; line-height: 1.5; max-height: 16rem; overflow-y: auto;
  padding: 0.5rem 0.75rem; border-left: 3px solid #9aa5b1; background: rgba(127,127,127,0.06); margin: 0; }
.sg-passage mark { background: #ffe58a; color: inherit; padding: 0 1px; }
.sg-answer { white-space: pre-wrap; line-height: 1.6; }
.sg-answer sup { color: #1f6feb; font-weight: 600; }
.sg-answer .sg-unsupported { background: #ffd6d6; text-decoration: underline wavy #c62828; }
.sg-chip { display: inline-block; padding: 1px 8px; margin: 2px 4px 2px 0; border-radius: 10px;
  font-size: 0.8rem; border: 1px solid rgba(127,127,127,0.35); }
</style>
"""


def md_text(text: str) -> str:
    """Markdown that shows `text` literally: every markdown, HTML and Streamlit directive character escaped."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    return escaped.replace("\n", "  \n")


def location(source: str, heading_path: Sequence[str], line_start: int, line_end: int) -> str:
    """`file › heading › subheading · lines a–b`, as plain text."""
    heading = " › ".join(h for h in heading_path if h)
    lines = f"line {line_start}" if line_start == line_end else f"lines {line_start}–{line_end}"
    return " › ".join(p for p in (source, heading) if p) + f" · {lines}"


def tokens(text: str) -> set[str]:
    """Words and CJK characters with their bigrams, lower-cased (for overlap only)."""
    found = [t.lower() for t in _TOKEN.findall(text)]
    cjk = [t for t in found if is_cjk(t)]
    return set(found) | {a + b for a, b in zip(cjk, cjk[1:], strict=False)}


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of a passage (Chinese and English punctuation, line ends)."""
    spans = []
    for m in _SENTENCE.finditer(text):
        body = m.group()
        if body.strip():
            start = m.start() + len(body) - len(body.lstrip())
            spans.append((start, m.start() + len(body.rstrip())))
    return spans


def cited_spans(passage: str, cited: str, claims: Iterable[str] = ()) -> list[tuple[int, int]]:
    """What to highlight in a passage: the cited text when it is a part of it; else the claims citing it that
    the passage holds word for word (quoted answers); else the passage sentences sharing most words with them."""
    cited = cited.strip()
    if cited and cited != passage.strip() and cited in passage:
        start = passage.index(cited)
        return [(start, start + len(cited))]
    claims = [_CITE.sub("", c).strip() for c in claims]
    quoted = [(passage.index(c), passage.index(c) + len(c)) for c in claims if len(c) > 3 and c in passage]
    if quoted:
        return quoted
    spans: set[tuple[int, int]] = set()
    passage_sentences = [(start, end, tokens(passage[start:end])) for start, end in sentences(passage)]
    for claim in claims:
        wanted = tokens(claim)
        # overlap coefficient; short lines (a list item, a bold label) count as 8 tokens, so that one shared
        # word does not make them the best match
        scored = [(len(own & wanted) / max(min(len(own), len(wanted)), 8), start, end)
                  for start, end, own in passage_sentences if wanted]
        best = max(scored, default=(0.0, 0, 0))
        if best[0] >= 0.3:
            spans.add((best[1], best[2]))
    return sorted(spans)


def passage_html(passage: str, spans: Sequence[tuple[int, int]] = ()) -> str:
    """The passage as escaped text, with the given spans in `<mark>`."""
    parts, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        parts.append(html.escape(passage[pos:start]))
        parts.append(f"<mark>{html.escape(passage[start:end])}</mark>")
        pos = end
    parts.append(html.escape(passage[pos:]))
    return f'<div class="sg-passage">{"".join(parts)}</div>'


def answer_html(answer: str, unsupported: Sequence[str] = ()) -> str:
    """The answer as escaped text: `[n]` as superscripts, unsupported sentences marked."""
    marks = sorted(_find_all(answer, unsupported))
    parts, pos = [], 0
    for start, end in marks:
        if start < pos:
            continue
        parts.append(_with_citations(answer[pos:start]))
        parts.append(f'<span class="sg-unsupported" title="not supported by its cited source">'
                     f"{_with_citations(answer[start:end])}</span> ⚠")
        pos = end
    parts.append(_with_citations(answer[pos:]))
    return f'<div class="sg-answer">{"".join(parts)}</div>'


def claims_citing(answer: str, n: int) -> list[str]:
    """The sentences of an answer that carry the marker `[n]`."""
    return [answer[s:e] for s, e in sentences(answer) if f"[{n}]" in answer[s:e]]


def unmatched(answer: str, unsupported: Sequence[str]) -> list[str]:
    """Unsupported sentences that are not found verbatim in the answer (shown in a list instead)."""
    return [s for s in unsupported if s.strip() and s.strip() not in answer]


def _find_all(answer: str, needles: Sequence[str]) -> list[tuple[int, int]]:
    spans = []
    for needle in needles:
        needle = needle.strip()
        if needle and needle in answer:
            start = answer.index(needle)
            spans.append((start, start + len(needle)))
    return spans


def _with_citations(text: str) -> str:
    escaped = html.escape(text)
    return _CITE.sub(lambda m: f"<sup>[{m.group(1)}]</sup>", escaped)


def citation_label(citation: Citation) -> str:
    """`[n] file › heading · lines a–b`, as plain text."""
    return f"[{citation.n}] " + location(citation.source, citation.heading_path, citation.line_start,
                                         citation.line_end)
