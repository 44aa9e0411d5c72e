"""The model composes, our code checks: generated text cut into sentences as it streams, each sentence checked
against the unit it cites, and shown only once it passed (or replaced by that unit, quoted)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from assistant.claims import DEFAULT_SUPPORT, ClaimCheck, ClaimLexicon, check_claim, support
from assistant.evidence import Evidence, quote
from assistant.text import content_tokens, markers_in, split_sentences, strip_markers, without_markers
from assistant.units import without_links

_PARTIAL_MARKER = re.compile(r"^\s*(?:\[\s*\d{0,3}\s*\]?)?\s*$")
_LEADING_MARKERS = re.compile(r"^\s*(?:\[\s*\d{1,3}\s*\]\s*)+")
_MIN_CHARS = 4


@dataclass(frozen=True)
class Outcome:
    """What became of one generated sentence: shown as written (passed), replaced by its unit, or dropped.

    Attributes:
        text: what the reader sees ('' when dropped).
        kind: 'model' (passed its check), 'quote' (replaced by the unit it cited) or 'dropped'.
        written: the model's sentence.
        cited: the units (1-based) it cites.
        check: the claim check, when one was made.
    """

    text: str
    kind: Literal["model", "quote", "dropped"]
    written: str
    cited: tuple[int, ...] = ()
    check: ClaimCheck | None = None


_SPAN = re.compile(r"\$\$.*?(?:\$\$|$)|\$[^$\n]*(?:\$|$)|```.*?(?:```|$)|`[^`\n]*(?:`|$)", re.DOTALL)


def generated_sentences(text: str) -> list[str]:
    """Sentences of generated text, never cut inside a formula ($...$, $$...$$) or code (`...`, ```...```)."""
    spans = [m.span() for m in _SPAN.finditer(text)]
    if not spans:
        return split_sentences(text)
    # hide terminators inside formulas and code from the splitter, then cut the original at the same offsets
    masked = list(text)
    for start, end in spans:
        for i in range(start, end):
            if masked[i] in "。！？!?；;.\n":
                masked[i] = "\x00"
    pieces = split_sentences("".join(masked))
    out, pos = [], 0
    for piece in pieces:
        at = "".join(masked).find(piece, pos)
        out.append(text[at : at + len(piece)])
        pos = at + len(piece)
    return out


def complete_sentences(buffer: str, final: bool = False) -> tuple[list[str], str]:
    """Split streamed text into the sentences that are complete and the rest still being written.

    A sentence is complete once text follows it that is not its own citation marker; at the end of the stream
    (`final`), everything is.
    """
    sentences = generated_sentences(buffer)
    if final or len(sentences) < 2:
        return (sentences, "") if final else ([], buffer)
    rest_at = buffer.rfind(sentences[-1])
    rest = buffer[rest_at:] if rest_at >= 0 else sentences[-1]
    if _PARTIAL_MARKER.match(rest):
        return [], buffer  # "。[" may still become "。[1]", which belongs to the sentence before it
    return sentences[:-1], rest


class SentenceChecker:
    """Checks each generated sentence against the units it cites (numbered as in the prompt).

    Args:
        selection: the units the model was given, [1]..[m].
        language: the answer's language.
        weight: IDF of a word over the notes.
        lexicon: the claim word lists.
        question: the question (a sentence must add something to it).
        threshold: least support share (settings: assistant.support_threshold).
    """

    def __init__(self, selection: Sequence[Evidence], language: str, weight: Callable[[str], float] | None = None,
                 lexicon: ClaimLexicon | None = None, question: str = "", threshold: float = DEFAULT_SUPPORT):
        self.selection = list(selection)
        self.question = question
        self.threshold = threshold
        self.language = language
        self.weight = weight
        self.lexicon = lexicon
        self.quoted: set[int] = set()

    def _cites(self, sentence: str) -> tuple[int, ...]:
        valid = tuple(n for n in dict.fromkeys(markers_in(sentence)) if 1 <= n <= len(self.selection))
        if valid:
            return valid
        # an uncited sentence is judged against the units that hold its words: the best one, and a second one
        # when the sentence joins two ("BERT 是编码器，而 GPT 是解码器")
        ranked = sorted(range(1, len(self.selection) + 1),
                        key=lambda n: -support(sentence, self.selection[n - 1].check_text))
        if not ranked:
            return ()
        best = support(sentence, self.selection[ranked[0] - 1].check_text)
        pair = "\n".join(self.selection[n - 1].check_text for n in ranked[:2])
        return tuple(ranked[:2]) if len(ranked) > 1 and support(sentence, pair) > best else (ranked[0],)

    def check(self, sentence: str) -> Outcome:
        """The outcome of one complete sentence."""
        sentence = _LEADING_MARKERS.sub("", sentence).strip()
        plain = strip_markers(sentence)
        if len(plain) < _MIN_CHARS or len(content_tokens(without_links(plain))) < 2:
            # a fragment ("Similar to the [[") or a bare link to a picture ("[1604673235564](assets/…png)") states
            # nothing
            return Outcome("", "dropped", sentence)
        cited = self._cites(sentence)
        if not cited:
            return Outcome("", "dropped", sentence)
        result = self._check(plain, cited)
        if result.ok:
            needed = self._needed(plain, cited)
            shown = sentence
            if needed != cited:  # "残差连接的代码如下 [1][2]" where [2] adds nothing: it cites [1]
                result = self._check(plain, needed)
                shown = without_markers(sentence, set(cited) - set(needed))
            if not markers_in(shown):
                shown = f"{plain} {''.join(f'[{n}]' for n in needed)}"
            return Outcome(shown, "model", sentence, needed, result)
        # a small model often cites the fact next to the one it used: a sentence that fails against the unit it
        # cites but passes, whole, against another unit is shown with that unit's number instead
        for n in range(1, len(self.selection) + 1):
            if n not in cited:
                other = self._check(plain, (n,))
                if other.ok:
                    return Outcome(f"{plain} [{n}]", "model", sentence, (n,), other)
        return Outcome("", "dropped", sentence, cited, result)

    def _needed(self, plain: str, cited: tuple[int, ...]) -> tuple[int, ...]:
        """The units a passing sentence needs: a cited unit it passes without is not its source."""
        needed = list(cited)
        for n in cited:
            rest = tuple(m for m in needed if m != n)
            if rest and self._check(plain, rest).ok:
                needed = list(rest)
        return tuple(needed)

    def _check(self, plain: str, cited: tuple[int, ...]) -> ClaimCheck:
        evidence = "\n".join(self.selection[n - 1].check_text for n in cited)
        return check_claim(plain, evidence, self.language, lexicon=self.lexicon, weight=self.weight,
                           given=self.question, threshold=self.threshold)

    def quotes_for_the_rest(self, outcomes: Sequence[Outcome]) -> list[Outcome]:
        """Quotes of the units that failed sentences cited and no passing sentence cites, in order: the facts the
        model got wrong, said by the notes themselves; and of the best unit, when no passing sentence cites its
        passage (a small model may write true sentences around the answer and leave the answer out). Shown after the
        model's sentences, never instead of them."""
        passed = {n for o in outcomes if o.kind == "model" for n in o.cited}
        wanted = [n for o in outcomes if o.kind == "dropped" for n in o.cited]
        if self.selection:
            best = 1 + max(range(len(self.selection)), key=lambda i: self.selection[i].score)
            answered = {self.selection[n - 1].chunk.id for n in passed}
            if self.selection[best - 1].chunk.id not in answered:
                wanted.append(best)
        out = []
        for n in dict.fromkeys(wanted):
            if n not in passed and n not in self.quoted:
                self.quoted.add(n)
                out.append(Outcome(quote(self.selection[n - 1], n), "quote", "", (n,)))
        return out


def checked_sentences(stream: Iterable[str], checker: SentenceChecker) -> Iterator[Outcome]:
    """Outcomes of the sentences of a token stream, each as soon as the sentence is complete."""
    buffer = ""
    for piece in stream:
        buffer += piece
        done, buffer = complete_sentences(buffer)
        for sentence in done:
            yield checker.check(sentence)
    done, _ = complete_sentences(buffer, final=True)
    for sentence in done:
        yield checker.check(sentence)
