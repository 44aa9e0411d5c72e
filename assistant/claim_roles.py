"""Who does what in a claim: a word put with the wrong side of a direction or said of the wrong term, two terms in
swapped roles, a relation the unit never states. Each check compares how a sentence and its unit bind their words."""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

from assistant.claim_words import (
    CLAUSE_BREAK,
    SENTENCE_END,
    backed,
    phrases,
    positions,
    segments,
    signed_numbers,
    terms_in,
    words_of,
)
from assistant.text import EN_STOPWORDS, ZH_STOPWORDS
from studygraph.text import language_of

if TYPE_CHECKING:
    from assistant.claims import ClaimLexicon

_FORMULA = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$", re.DOTALL)
_LIST_JOINER = re.compile(r"[\s、,，/&]+|\b(?:and|or)\b|和|与|及|或")


def _marks(text: str, group: tuple[frozenset[str], ...]) -> list[tuple[int, int, int]]:
    """Occurrences of a direction group's words in a text, as (start, end, side), longest words first."""
    found: list[tuple[int, int, int]] = []
    for side, word in sorted(((i, w) for i, words in enumerate(group) for w in words), key=lambda x: -len(x[1])):
        for start, end in positions(text, word):
            if not any(start < e and s < end for s, e, _ in found):
                found.append((start, end, side))
    return found


def _bound_sides(segment: str, word: str, marks: Sequence[tuple[int, int, Hashable]],
                 breaks: re.Pattern[str] = CLAUSE_BREAK) -> set[Hashable] | None:
    """The side (of a direction group, or the number) each occurrence of `word` in a segment goes with: the nearest
    mark in its own clause, else the one side the segment's marks take. None when an occurrence goes with no side or
    with both."""
    cuts = [0, *(m.end() for m in breaks.finditer(segment)), len(segment) + 1]
    sides: set[Hashable] = set()
    for start, end in positions(segment, word):
        if any(start < e and s < end for s, e, _ in marks):
            continue  # the word is part of a directional word (拟合 in 过拟合)
        lo = max(c for c in cuts if c <= start)
        hi = min(c for c in cuts if c >= end)
        near = [(max(s - end, start - e, 0), side) for s, e, side in marks if lo <= s and e <= hi]
        if near:
            nearest = min(g for g, _ in near)
            sides |= {side for g, side in near if g == nearest}
        elif len({side for _, _, side in marks}) == 1:
            sides.add(marks[0][2])
        else:
            return None
    return sides if len(sides) == 1 else None


def _binding_words(segment: str, group_words: set[str]) -> list[str]:
    """The ordinary words of a text: not stopwords, not its terms and names (whose directions the subject checks of
    assistant/claims.py compare: the Transformer has both an encoder and a decoder)."""
    names = {t.lower() for t in terms_in(segment, language_of(segment))}
    lowered = segment.lower()
    words = [w for w in words_of(lowered) if len(w) >= 2 and w not in group_words and w not in names
             and w not in EN_STOPWORDS and w not in ZH_STOPWORDS]
    # not the pieces of a hyphenated name ("text" of "text-to-image")
    return [w for w in dict.fromkeys(words) if positions(lowered, w)]


def direction_binding(sentence: str, unit: str, lexicon: ClaimLexicon) -> list[str]:
    """A word a sentence puts with one directional word that the unit puts with its opposite: "too low makes the
    loss explode" where the unit says "too high makes the loss explode, while ... too low makes progress slow";
    "编码器利用解码器的输出" where it says "解码器使用编码器的输出". A word goes with the nearest directional word
    of its own clause, else with the only side its segment (cut at sentence ends and contrast words) names."""
    unit_segments = [u.lower() for u in segments(unit)]
    reasons = []
    for original in segments(sentence):
        segment = original.lower()
        for group in lexicon.directions:
            marks = _marks(segment, group)
            if not marks:
                continue
            held_marks = [(u, _marks(u, group)) for u in unit_segments]
            group_words = {w for side in group for w in side}
            words = _binding_words(original, group_words)
            for word in words:
                said = _bound_sides(segment, word, marks)
                held = [_bound_sides(u, word, m) for u, m in held_marks if m and positions(u, word)]
                if not said or not held or any(h is None for h in held):
                    continue
                # the unit must say the sentence's side somewhere, with some of the sentence's other words: a unit
                # segment that is only "but are different for the decoder" shows nothing about what goes with it
                if not any(side in said and any(positions(u, w) for w in words if w != word)
                           for u, m in held_marks for *_, side in m):
                    continue
                sides = set().union(*held)
                if not said & sides:
                    # name the side by the word the unit uses
                    side = min(group[min(sides)], key=lambda w: (not any(positions(u, w) for u in unit_segments), len(w)))
                    reasons.append(f"the passage says '{word}' with '{side}'")
    return reasons


_NUMBER_PHRASE = re.compile(r"\n|[，,；;。!?！？]")


def number_binding(sentence: str, unit: str) -> list[str]:
    """A word a sentence gives one number that the unit gives another, when both numbers are in the unit ("红豆对应
    -1" where the unit says "红豆（+1）或者绿豆（-1）"). A word goes with the nearest number of its phrase."""
    body = "\n".join(line for line in unit.splitlines() if not is_heading(line.strip()))  # "2.感知机" is no count
    unit_segments = [(u.lower(), signed_numbers(u.lower())) for u in segments(body)]
    stated = {value for _, marks in unit_segments for *_, value in marks}
    reasons = []
    for original in segments(sentence):
        segment = original.lower()
        marks = signed_numbers(segment)
        if not marks or not {value for *_, value in marks} <= stated:
            continue  # a number the unit does not state is reported as such
        for word in _binding_words(original, set()):
            said = _bound_sides(segment, word, marks, _NUMBER_PHRASE)
            held = [_bound_sides(u, word, m, _NUMBER_PHRASE) for u, m in unit_segments if m and positions(u, word)]
            if said and held and not any(h is None for h in held) and not said & set().union(*held):
                reasons.append(f"the passage gives '{word}' {', '.join(map(str, sorted(set().union(*held))))}")
    return reasons


def term_binding(sentence: str, unit: str, language: str) -> list[str]:
    """An ordinary word a sentence says of one term that the unit says only of other terms: "the Softmax classifier
    uses the hinge loss" where the unit has "the SVM classifier uses the hinge loss" and "the Softmax classifier uses
    the cross-entropy loss". Every phrase of the unit holding the word must name a term, none of the sentence's."""
    unit_language = language_of(unit)
    held = [(p.lower(), {t.lower() for t in terms_in(p, unit_language)}) for p in phrases(unit)]
    known = set().union(*(terms for _, terms in held)) if held else set()
    reasons = []
    for phrase in phrases(sentence):
        named = {t.lower() for t in terms_in(phrase, language)}
        if not named or not named <= known:
            continue
        for word in _binding_words(phrase, set()):
            owners = [terms for text, terms in held if positions(text, word)]
            if not owners or not all(owners) or any(terms & named for terms in owners):
                continue
            others = sorted(o for o in set().union(*owners) if any(_peers(o, n, unit) for n in named))
            if others:
                reasons.append(f"the passage says '{word}' of {', '.join(others)}, not of {', '.join(sorted(named))}")
    return reasons


def _peers(a: str, b: str, text: str) -> bool:
    """Whether two terms play the same part in a text: some content word stands right before or after both ("the
    SVM classifier", "the Softmax classifier")."""
    words = [w for w in words_of(text.lower()) if w not in EN_STOPWORDS and w not in ZH_STOPWORDS]

    def beside(term: str) -> set[str]:
        return {words[j] for i, w in enumerate(words) if w == term for j in (i - 1, i + 1) if 0 <= j < len(words)}

    return bool((beside(a) & beside(b)) - {a, b})


def order_swap(sentence: str, unit: str, language: str, lexicon: ClaimLexicon) -> list[str]:
    """Two terms a sentence phrase puts around a word in the opposite order to the unit: "SGD 缓解了 SGD-M 的问题"
    where the unit says "SGD-M 缓解了 SGD 的问题". A passive phrase (被, by) may turn the order round."""
    passive = set().union(*lexicon.passive.values()) if lexicon.passive else set()
    unit_language = language_of(unit)
    held = [(p.lower(), [t.lower() for t in terms_in(p, unit_language)]) for p in phrases(unit)]
    reasons = []
    for phrase in phrases(sentence):
        lowered = phrase.lower()
        if any(positions(lowered, w) for w in passive):
            continue
        said = _single_places(lowered, [t.lower() for t in terms_in(phrase, language)])
        for text, terms in held:
            places = _single_places(text, terms)
            for a, b in ((a, b) for a in said for b in said if a in places and b in places):
                # a before b in the unit, b before a in the sentence, one word between them in both
                if not places[a] < places[b] or not said[b] < said[a]:
                    continue
                between = [w for w in _binding_words(phrase[said[b]:said[a]], set()) if w not in (a, b)]
                if any(places[a] < at < places[b] for w in between for at in _single_places(text, [w]).values()):
                    reasons.append(f"the passage puts {a} before {b}: the roles are swapped")
    return list(dict.fromkeys(reasons))


def _single_places(text: str, words: Sequence[str]) -> dict[str, int]:
    """Where each word that occurs exactly once in a text starts."""
    found = {w: positions(text, w) for w in words}
    return {w: spans[0][0] for w, spans in found.items() if len(spans) == 1}


def unrelated_pairs(sentence: str, unit: str, language: str, lexicon: ClaimLexicon) -> list[str]:
    """A relation the unit never states: a sentence phrase joins two concepts the unit names ("Adam", "随机梯度下降")
    by a word between them the unit does not use (结合), while no sentence of the unit holds both, or it only lists them side by
    side (平均池化、最大池化、K-max池化). Concepts are terms and glossary names; what the heading names is related
    to everything the unit says."""
    lines = [line.strip() for line in unit.lower().splitlines() if line.strip()]
    # heading lines ("6.2 GPT", "Momentum > 特点"; one per unit when a sentence cites two) head all that follows
    headings = [line for line in lines if len(lines) > 1 and is_heading(line)]
    heading = "\n".join(headings)
    held = [u for u in SENTENCE_END.split("\n".join(line for line in lines if line not in headings)) if u.strip()]
    verb_last = set().union(*lexicon.verb_last.values()) if lexicon.verb_last else set()
    reasons = []
    for phrase in phrases(_FORMULA.sub(" ", sentence)):  # a formula's symbols ($Param_{conv2d}$) are not concepts
        lowered = phrase.lower()
        if lexicon.compares(phrase):
            continue  # "BERT differs from GPT in ..." relates the two by comparing what the unit says of each
        named = [t.lower() for t in terms_in(phrase, language)]
        named += [n.lower() for n in (lexicon.named_in(phrase) if lexicon.named_in else ())]
        anchors = [a for a in dict.fromkeys(named) if positions(lowered, a) and any(positions(u, a) for u in held)
                   and not positions(heading, a)]
        new = [w for w in _binding_words(phrase, set()) if not backed(w, unit, lexicon)]
        for i, a in enumerate(anchors):
            for b in anchors[i + 1:]:
                if a in b or b in a or any(_related(text, a, b, anchors) for text in held):
                    continue
                lo, hi = sorted((positions(lowered, a)[0][0], positions(lowered, b)[0][0]))
                if any(lo < at < hi for w in verb_last for at, _ in positions(lowered, w)):
                    hi = len(lowered)  # "A 由 B 和 C 组合而成": the verb comes after both
                joining = [w for w in new if any(lo < at < hi for at, _ in positions(lowered, w))]
                if joining:
                    reasons.append(f"the passage does not relate {a} and {b} ('{joining[0]}')")
    return list(dict.fromkeys(reasons))


def is_heading(line: str) -> bool:
    return len(line) <= 40 and not re.search(r"[。！？!?；;:：，,.]$", line)


def _related(text: str, a: str, b: str, listed: Sequence[str]) -> bool:
    """Whether a unit sentence holds both words with something said between them, not only a list of concepts
    (平均池化、最大池化、K-max池化)."""
    for first, second in (sorted((x, y)) for x in positions(text, a) for y in positions(text, b)):
        between = text[first[1]:second[0]]
        for name in sorted(listed, key=len, reverse=True):
            between = between.replace(name, " ")
        if _LIST_JOINER.sub("", between):
            return True
    return False


_EN_ALTERNATIVES = re.compile(
    r"\b([a-z][\w-]*)((?:\s*,\s*[a-z][\w-]*)*)\s*,?\s+(?:and|or|vs\.?|versus)\s+([a-z][\w-]*)\b", re.IGNORECASE)


def alternatives_in(question: str) -> list[frozenset[str]]:
    """The sets of words an English question lists side by side ("what do add, max and multiply gates do"): the
    things it asks about in parallel, each of which an answer must keep apart. (Chinese questions list terms, which
    `_entity_swap` already keeps apart; jieba's cut of everyday words around 和 is too loose to trust.)"""
    if language_of(question) != "en":
        return []
    found = []
    for match in _EN_ALTERNATIVES.finditer(question):
        items = [match.group(1), *re.findall(r"[a-z][\w-]*", match.group(2), re.IGNORECASE), match.group(3)]
        words = {w.lower() for w in items if w.lower() not in EN_STOPWORDS}
        if len(words) >= 2:
            found.append(frozenset(words))
    return found


def alternative_swap(sentence: str, unit: str, question: str, lexicon: ClaimLexicon) -> list[str]:
    """A sentence that says of one of the question's parallel items what its unit says of another: "the multiply
    gate distributes the gradient equally" citing "the add gate ... distributes it equally", to "what do add, max
    and multiply gates do". The item the sentence names is missing from the unit, which names another."""
    if not question:
        return []
    lowered = unit.lower()
    reasons = []
    for group in alternatives_in(question):
        said = [w for w in group if backed(w, sentence.lower(), lexicon)]
        there = [w for w in group if backed(w, lowered, lexicon)]
        for word in said:
            others = [w for w in there if w not in said]
            if not backed(word, lowered, lexicon) and others:
                reasons.append(f"said of {word}, where the passage says {others[0]}")
    return reasons
