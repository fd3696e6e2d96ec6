"""Which language a student's question is in: English, Czech, Russian, or another.

Short questions defeat statistical detectors ("MLE vs MAP?", "co je CNN"), so the rules are
explicit: any Cyrillic letter means Russian (the course's only Cyrillic language; a Ukrainian
or Bulgarian letter means "other"); Czech diacritics mean Czech; Japanese, Chinese, Arabic,
... scripts mean "other". Latin text without diacritics is scored by common function words
of English, Czech, and transliterated Russian ("chto takoe"), so "konvolucni neuronova sit"
is Czech; technical terms and acronyms carry no vote and English wins ties.
"""

from __future__ import annotations

import re
import unicodedata

LANGUAGES = ("en", "cs", "ru")

# One short line per language, shown in a lesson: the card sections quoted from the course
# notes are in English even when the model's part is in the student's language.
COURSE_TEXT_NOTE: dict[str, str] = {
    "en": "The sections quoted from the course notes are in English.",
    "cs": "Části převzaté z poznámek kurzu jsou v angličtině.",
    "ru": "Разделы, взятые из конспекта курса, приведены на английском языке.",
}

LANGUAGE_NAMES: dict[str, str] = {"en": "English", "cs": "Czech", "ru": "Russian"}

_CZECH_ONLY = set("čďěňřšťůž")  # letters that mark Czech among Latin-script languages
_CZECH_SHARED = set("áéíóúý")  # also French, Spanish, Slovak, ...
_OTHER_CYRILLIC = set("іїєґўђјљњћџѓќѕ")  # Ukrainian, Belarusian, Serbian, Macedonian
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words and common question words (lower case, without diacritics; "do" is Czech
# too: "prohledavani do hloubky"). Words shared by
# the languages ("a", "to", "na" ...) are left out of the ones that would mislead.
_EN = _words("""
the a an is are was were be been does did how what why when which who whom where whose
of in on for to from with without by about and or but not no yes can could should would will
it its this that these those there their they them we you i my me your our
than then between difference explain example mean means meaning use used using
get got make work works does doesnt dont isnt whats hows im ive pls please help instead
""")
_CS = _words("""
co je jsou jak proc jaky jaka jake jakou jakeho ktery ktera ktere kterou kdy kde kdo
mezi rozdil vysvetli vysvetlete prosim muzes muzete mi me se si ze pro pri pred po nad pod
nebo ale jestli zda aby kdyz tak take taky jeste uz jen jenom vlastne treba neco nejak
funguje fungujeme pouziva pouzivat pouzit znamena znamenat rozumim nerozumim nechapu
toho tohle tomu tento tato toto techto tim tech jejich jeho jeji ono oni
sit site neuronova neuronove neuronovych uceni strojove uceni hledani prohledavani
algoritmus algoritmu pravdepodobnost funkce hodnota hodnoty metoda model modelu
""")
_RU_TRANSLIT = _words("""
chto takoe kak kakoy kakaya kakie pochemu zachem kogda gde kto mezhdu raznitsa raznica
obyasni obyasnite pozhaluysta mozhno nuzhno eto etot eta eti ego ee ikh oni ili no esli
chem dlya pri posle rabotaet ispolzuetsya oznachaet znachit ponimayu neyronnaya set
obuchenie poisk algoritm veroyatnost funktsiya znachenie
""")
# A few function words of other Latin-script languages (French, German, Spanish, Polish).
_OTHER_LATIN = _words("""
le les des une est qu quoi pourquoi comment dans avec sont der die das und ist nicht wie
warum eine ein el los las una por para como porque que jest czym dlaczego jak sie
""") - _CS - _EN


def _fold(text: str) -> str:
    """Lower case without diacritics ("Proč" -> "proc")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def detect_language(text: str) -> str:
    """"en", "cs", "ru" or "other" for a question (robust on short and mixed text).

    Mixed script: any Cyrillic word makes it Russian, a Czech letter (č, ř, ě, ů ...) Czech
    (a Czech question quoting an English term is still Czech).
    """
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "en"
    lowered = text.lower()
    cyrillic = sum(1 for ch in letters if "CYRILLIC" in unicodedata.name(ch, ""))
    if cyrillic:
        if any(ch in _OTHER_CYRILLIC for ch in lowered):
            return "other"
        return "ru"
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    if latin < len(letters) / 2:
        return "other"  # CJK, Arabic, Greek, Hebrew, ...
    if any(ch in _CZECH_ONLY for ch in lowered):
        return "cs"
    accented = {ch for ch in lowered if ch.isalpha() and not ch.isascii()}
    if accented - _CZECH_SHARED:
        return "other"  # ü, ß, ç, ñ, ł, à ...: a Latin-script language the course lacks
    words = _WORD.findall(_fold(text))
    votes = {"en": sum(w in _EN for w in words), "cs": sum(w in _CS for w in words),
             "ru": sum(w in _RU_TRANSLIT for w in words),
             "other": sum(w in _OTHER_LATIN for w in words)}
    if accented:
        votes["cs"] += 1  # á, é, í ... lean Czech, the course's accented Latin language
    best = max(("cs", "ru", "other"), key=lambda lang: votes[lang])
    return best if votes[best] > votes["en"] else "en"
