"""Worked-example arithmetic: find an equation a card writes out, change one number, recompute.

Only flat equations are used (``1 + 0.99 × 4 = 4.96``: numbers, + − × · / and one result),
and only when the card's own result is what the left side gives, rounded to the digits the card
shows; anything else (symbols, parentheses, powers, a result that does not check) is skipped,
so an answer key is never guessed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from tutor.sentences import split_sentences

_NUM = r"\d+(?:\.\d+)?"
_OP = r"(?:\s*[×*·/+]\s*|\s+[x\-−]\s+)"
_EQUATION = re.compile(
    rf"(?<![\w.,^(/*+\-−×·=<>])(?P<lhs>{_NUM}(?:{_OP}{_NUM})+)\s*=\s*(?P<rhs>{_NUM})"
    r"(?![\w.,^(]|\s*[×*·/+x\-−]\s*\d)"
)
_TOKEN = re.compile(rf"{_NUM}|[×*·/+x\-−]")
MAX_DIGITS = 4  # a result shown with more decimals than this is not asked for


@dataclass(frozen=True)
class Changed:
    """A worked equation with one number changed, as options and a key."""

    sentence: str  # the card's sentence, verbatim
    stem: str
    options: tuple[str, ...]
    answer: int
    reason: str


def _tokens(lhs: str) -> list[str]:
    out = []
    for t in _TOKEN.findall(lhs):
        out.append({"×": "*", "·": "*", "x": "*", "−": "-"}.get(t, t))
    return out


def evaluate(tokens: list[str], precedence: bool = True) -> Decimal:
    """Value of a flat expression (numbers and + - * /), exact where Decimal is."""
    with localcontext() as ctx:
        ctx.prec = 40
        values = [Decimal(tokens[0])]
        ops: list[str] = []
        for op, num in zip(tokens[1::2], tokens[2::2], strict=True):
            if precedence and op in "*/":
                values[-1] = values[-1] * Decimal(num) if op == "*" else values[-1] / Decimal(num)
            elif not precedence:
                a, b = values[-1], Decimal(num)
                values[-1] = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else a}[op]
            else:
                ops.append(op)
                values.append(Decimal(num))
        total = values[0]
        for op, value in zip(ops, values[1:], strict=True):
            total = total + value if op == "+" else total - value
        return total


def _decimals(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


def _fmt(value: Decimal, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    return str(value.quantize(quantum, rounding=ROUND_HALF_UP))


def _places(value: Decimal, at_least: int) -> int:
    """Decimals to show: as many as the card uses, more where the exact value needs them (up
    to MAX_DIGITS), three when it has no short form (2/3)."""
    for places in range(at_least, MAX_DIGITS + 1):
        if Decimal(_fmt(value, places)) == value:
            return places
    return max(at_least, 3)


def _change(number: str, rng: random.Random) -> str:
    """A nearby number of the same form: an integer +1 or +2, a decimal one step in its last
    digit (down when up would reach the next whole number, so 0.99 stays a probability)."""
    places = _decimals(number)
    value = Decimal(number)
    if places == 0:
        return str(int(value) + rng.choice((1, 2)))
    step = Decimal(1).scaleb(-places) * rng.choice((1, 2))
    up = value + step
    new = up if int(up) == int(value) or value >= 1 else value - step
    return _fmt(new, places) if new > 0 else _fmt(up, places)


def _checked(sentence: str) -> list[re.Match[str]]:
    """Equations of the sentence whose written result is what their left side gives."""
    out = []
    for match in _EQUATION.finditer(sentence):
        tokens = _tokens(match["lhs"])
        places = _decimals(match["rhs"])
        if places > MAX_DIGITS or "/" in tokens and "0" in tokens[2::2]:
            continue
        try:
            if _fmt(evaluate(tokens), places) == _fmt(Decimal(match["rhs"]), places):
                out.append(match)
        except (InvalidOperation, ZeroDivisionError):
            continue
    return out


def _standalone(number: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.,^/]){re.escape(number)}(?![\w^]|[.,]\d)")


def _in_tuple(text: str, at: int) -> bool:
    """Whether position ``at`` is inside a bracketed list ("π = ⟨0.75, 0.25⟩"): a fraction
    there is usually one of several that must sum to 1, so it cannot change alone."""
    opened = max(text.rfind(c, 0, at) for c in "(⟨[")
    closed = max(text.rfind(c, 0, at) for c in ")⟩]")
    return opened > closed and "," in text[opened:]


def _premises(sentence: str, match: re.Match[str]) -> list[tuple[int, re.Match[str]]]:
    """(operand slot, where the sentence states that operand before the equation).

    Only equations whose every operand is stated before them: then the result follows from
    the stated numbers, and none of them is derived from another ("Beta(9, 5) has mean 9/14":
    14 is 9 + 5, and changing 9 alone would give a wrong key). The stated number must not be
    part of another equation or be the result of one ("4 x 9 = 36").
    """
    numbers = re.findall(_NUM, match["lhs"])
    before = sentence[: match.start()]
    taken = [(m.start(), m.end()) for m in _EQUATION.finditer(before)]

    def stated(number: str) -> list[re.Match[str]]:
        return [
            m
            for m in _standalone(number).finditer(before)
            if not any(a <= m.start() < b for a, b in taken)
            and not re.search(r"=\s*$", before[: m.start()])
            and not (Decimal(number) < 1 and _in_tuple(before, m.start()))
        ]

    if not all(stated(n) for n in numbers):
        return []
    out = []
    for slot, number in enumerate(numbers):
        where = stated(number)
        if numbers.count(number) == 1 and len(where) == 1:
            out.append((slot, where[0]))
    return out


def worked_numbers(example: str, rng: random.Random) -> tuple[int, Changed] | None:
    """(index, question parts) for one checked equation of ``example`` whose changed operand is
    stated in the sentence before it, or None.

    The stem is the card's sentence up to the equation with that number changed and the
    equation replaced by "?": the student has to know how the result is worked out.
    """
    sentences = split_sentences(example)
    found = [
        (i, s, m, slot, stated)
        for i, s in enumerate(sentences)
        if s in example
        for m in _checked(s)
        for slot, stated in _premises(s, m)
    ]
    if not found:
        return None
    index, sentence, match, slot, stated = found[rng.randrange(len(found))]
    tokens = _tokens(match["lhs"])
    old = stated.group()
    new = _change(old, rng)
    if tokens[2 * slot - 1 : 2 * slot] == ["/"] and Decimal(new) == 0:
        return None
    changed_tokens = list(tokens)
    changed_tokens[2 * slot] = new
    exact = evaluate(changed_tokens)
    places = _places(exact, max(_decimals(match["rhs"]), _decimals(new)))
    right = _fmt(exact, places)
    rounded = Decimal(right) != exact
    # Likely mistakes: keeping the card's result, reading left to right without precedence,
    # and adding the change to the result when a whole number is multiplied.
    wrong = [_fmt(Decimal(match["rhs"]), places)]
    if len(tokens) > 3:
        wrong.append(_fmt(evaluate(changed_tokens, precedence=False), places))
    beside = {tokens[i] for i in (2 * slot - 1, 2 * slot + 1) if 0 < i < len(tokens)}
    if "*" in beside and "." not in old + new:
        wrong.append(_fmt(Decimal(match["rhs"]) + Decimal(new) - Decimal(old), places))
    options = [right]
    for w in wrong:
        if w not in options and Decimal(w) >= 0:
            options.append(w)
    if len(options) < 2:
        return None
    rng.shuffle(options)
    premise = sentence[: stated.start()] + new + sentence[stated.end() : match.start()]
    # The sentences before it, for context, unless they use the changed number too.
    context = " ".join(sentences[:index])
    if context and not _standalone(old).search(context) and len(context) < 400:
        premise = f"{context} {premise}"
    note = f" (to {places} decimal places)" if rounded else ""
    # What follows the equation is left out: it may restate the old result ("four times").
    stem = f"\u201c{premise}?\u201d ({new} instead of the card's {old}){note}"
    lhs = match["lhs"]
    numbers = list(re.finditer(_NUM, lhs))
    new_lhs = lhs[: numbers[slot].start()] + new + lhs[numbers[slot].end() :]
    reason = (
        f"The card works out {match.group()}; with {new} instead of {old}: {new_lhs} = {right}."
    )
    return index, Changed(sentence, stem, tuple(options), options.index(right), reason)
