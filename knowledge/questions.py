"""Checking a student's question before any model sees it."""

from __future__ import annotations

import re
import unicodedata

from knowledge.common.errors import InvalidInputError

MAX_QUESTION_CHARS = 2000
_FOLLOW_UP = re.compile(
    r"^\s*(and|but|so|also|then|what about|how about|why|ok|okay)\b"
    r"|\b(it|its|it's|they|them|their|this|that|these|those|he|she|one)\b",
    re.IGNORECASE,
)
# The same cues in Czech (also without diacritics) and Russian: leading "a"/"ale"/"а"/"но",
# "a co", "a jak", pronouns ("to", "ten", "jeho", "это", "его", "она", "он" ...).
_FOLLOW_UP_CS = re.compile(
    r"^\s*(a|ale|tak|takze|takže|dobre|dobře|ok|okay|a co|a jak|a proc|a proč|proc|proč)\b"
    r"|\b(to|toho|tomu|tím|tim|ten|ta|tu|tom|jeho|její|jeji|jejich|ono|oni|ona|něj|nej|ní|"
    r"tohle|tento|tato|toto|ho|mu|ji|jí)\b",
    re.IGNORECASE,
)
_FOLLOW_UP_RU = re.compile(
    r"^\s*(а|но|и|так|ок|окей|ладно|хорошо|почему|зачем)(?![а-яё])"
    r"|(?<![а-яё])(это|этот|эта|эти|этого|этой|этим|его|её|ее|их|он|она|оно|они|ему|ей|им|"
    r"ним|ней|нём|нем|тогда|там|тут|такой|такие)(?![а-яё])",
    re.IGNORECASE,
)
_FOLLOW_UP_BY_LANGUAGE = {"cs": _FOLLOW_UP_CS, "ru": _FOLLOW_UP_RU}
# "Co je to X?", "Что это такое, X?": the pronoun belongs to the phrase, not to a topic.
_SET_PHRASES = re.compile(r"\bco (je|jsou) to\b|\bco to (je|jsou)\b|что это( такое)?",
                          re.IGNORECASE)


_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def recover_text(text: str) -> str:
    """``text`` without lone surrogates, which no tokenizer or UTF-8 stream accepts.

    A terminal that is not UTF-8 (Latin-1, Windows-1252) hands Python bytes that are not UTF-8
    as *surrogate escapes* (``Qu\\xe9`` arrives as ``Qu\\udce9``): those bytes are decoded
    again as Windows-1252, which gives back what the student typed (``Qué``). Any other lone
    surrogate (from JSON, say) becomes U+FFFD.
    """
    if not _LONE_SURROGATE.search(text):
        return text

    def decode(match: re.Match[str]) -> str:
        raw = bytes(ord(ch) - 0xDC00 for ch in match.group())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1252", errors="replace")

    return _LONE_SURROGATE.sub("\ufffd", _ESCAPED_BYTES.sub(decode, text))


def clean_question(text: str | None) -> str:
    """The question, stripped; InvalidInputError if it is empty, too long or not text."""
    if text is None or not text.strip():
        raise InvalidInputError("the question is empty", "type a question about the course")
    text = unicodedata.normalize("NFC", recover_text(text)).strip()
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidInputError(
            f"the question is {len(text):,} characters long; the limit is "
            f"{MAX_QUESTION_CHARS:,}",
            "ask a shorter question, or paste only the part you need help with",
        )
    control = sum(1 for ch in text if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn")
                  and ch not in "\n\t\r")
    if control > max(2, len(text) // 20):
        raise InvalidInputError(
            "the question looks like binary data, not text",
            "type the question as plain text",
        )
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def looks_like_follow_up(question: str, language: str = "en") -> bool:
    """True for questions that lean on the previous turn ("and how is it trained?",
    "a jak se to trénuje?", "а как его обучают?").

    A short question that names its topic ("What is CLIP?") is not a follow-up: only
    pronouns and leading connectives count. ``language``: knowledge.language's code; the
    English cues always count (students mix languages).
    """
    extra = _FOLLOW_UP_BY_LANGUAGE.get(language)
    if extra:
        question = _SET_PHRASES.sub(" ", question)
    return bool(_FOLLOW_UP.search(question) or (extra and extra.search(question)))
