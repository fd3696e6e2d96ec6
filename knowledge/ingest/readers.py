"""Readers for lecture material: Markdown, plain text, PDF, HTML and transcripts.

Each reader turns one file into a :class:`Document`: a list of :class:`Segment` (text with the
place it came from: a page, a slide, a section heading or a timestamp). A file that cannot be
used raises :class:`SkipFile` with the reason and a fix; the caller reports it and goes on.

Transcripts: SubRip (``.srt``), WebVTT (``.vtt``) and the bracket style of speech-to-text
tools (``[00:01:02.000 --> 00:01:08.000] text``, usually saved as ``.txt``).
"""

from __future__ import annotations

import io
import logging
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from knowledge.common.errors import InvalidInputError

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024  # larger files are refused (``--max-mb`` changes it)
SNIFF_BYTES = 65536

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")
TEXT_SUFFIXES = (".txt", ".text", ".rst", ".asc")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
SUPPORTED_SUFFIXES = (
    MARKDOWN_SUFFIXES + TEXT_SUFFIXES + HTML_SUFFIXES + (".pdf", ".srt", ".vtt")
)
# Files people keep beside their lectures, and what to do with them instead.
_EXPORT_HINTS = {
    ".docx": "export it to PDF and ingest the PDF",
    ".doc": "export it to PDF and ingest the PDF",
    ".odt": "export it to PDF and ingest the PDF",
    ".pptx": "export the slides to PDF and ingest the PDF",
    ".ppt": "export the slides to PDF and ingest the PDF",
    ".odp": "export the slides to PDF and ingest the PDF",
    ".key": "export the slides to PDF and ingest the PDF",
    ".mp4": "transcribe it (e.g. with whisper.cpp) and ingest the .srt/.vtt transcript",
    ".mkv": "transcribe it (e.g. with whisper.cpp) and ingest the .srt/.vtt transcript",
    ".webm": "transcribe it (e.g. with whisper.cpp) and ingest the .srt/.vtt transcript",
    ".mp3": "transcribe it (e.g. with whisper.cpp) and ingest the .srt/.vtt transcript",
    ".wav": "transcribe it (e.g. with whisper.cpp) and ingest the .srt/.vtt transcript",
}
_MAGIC = (
    (b"PK\x03\x04", "a ZIP container (a .docx/.pptx/.odt document or an archive)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x7fELF", "an executable program"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg audio/video file"),
    (b"RIFF", "a RIFF (WAV/AVI) media file"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
)


class SkipFile(InvalidInputError):
    """This file cannot be ingested; ``cause`` says why and ``fix`` what to do."""


@dataclass(frozen=True)
class Location:
    """Where a piece of text sits in its document."""

    kind: str  # "page" | "slide" | "section" | "time" | "line"
    page: int = 0  # 1-based page or slide number
    start_s: float = -1.0  # transcripts: cue start and end in seconds
    end_s: float = -1.0
    heading: str = ""  # the section (or slide title) it belongs to
    line: int = 0  # 1-based line where it starts (text formats)

    def label(self) -> str:
        """Short human form: ``p. 4``, ``slide 12``, ``12:40``, a heading or ``line 30``."""
        if self.kind == "time":
            return format_timestamp(self.start_s)
        if self.kind == "page":
            return f"p. {self.page}"
        if self.kind == "slide":
            return f"slide {self.page}"
        if self.kind == "section" and self.heading:
            return self.heading
        return f"line {self.line}" if self.line else ""


@dataclass
class Segment:
    text: str
    location: Location


@dataclass
class Document:
    """One file's text, in reading order."""

    path: Path
    kind: str  # markdown | text | pdf | html | srt | vtt | transcript
    title: str
    segments: list[Segment]
    encoding: str = ""
    pages: int = 0  # pages or slides (PDF), 0 for other formats
    duration_s: float = 0.0  # transcripts
    warnings: list[str] = field(default_factory=list)

    @property
    def words(self) -> int:
        return sum(len(s.text.split()) for s in self.segments)


def format_timestamp(seconds: float) -> str:
    """``12:40`` below an hour, ``1:02:03`` above."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


_HASHLIKE = re.compile(r"(?<![^\W_])(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}"
                       r"(?![^\W_])|(?<![^\W_])\d{9,}(?![^\W_])")


def pretty_title(path: Path) -> str:
    """A source's name as people say it: ``lecture_03-search.pdf`` -> ``Lecture 03 search``;
    hashes are dropped (``002_ea8592a33ae0c8b7.txt`` -> ``Material 002``)."""
    raw = Path(path).stem
    stem = re.sub(r"[_\s]+", " ", _HASHLIKE.sub(" ", raw)).strip(" -.")
    if not re.search(r"[^\W\d_]", stem):
        stem = f"Material {stem}".strip() if stem or raw != Path(path).stem else "Material"
    stem = re.sub(r"(?<=[A-Za-z])-(?=\d)|(?<=\d)-(?=[A-Za-z])", " ", stem)
    stem = re.sub(r"(?<=[a-z])(?=\d)", " ", stem)  # lecture3 -> lecture 3
    return stem[:1].upper() + stem[1:] if stem else Path(path).name


# ---------------------------------------------------------------------------------- bytes

def check_file(path: Path, max_bytes: int) -> int:
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise SkipFile("file not found", "check the path") from exc
    except PermissionError as exc:
        raise SkipFile("permission denied (cannot even look at the file)",
                       "make it readable (chmod +r) or ask its owner") from exc
    except OSError as exc:
        raise SkipFile(f"cannot be read ({exc.strerror})", "check the file system") from exc
    if not stat.S_ISREG(info.st_mode):
        raise SkipFile("not a regular file", "give files or folders of lecture material")
    if info.st_size > max_bytes:
        raise SkipFile(
            f"{info.st_size / 2**20:,.0f} MB is over the {max_bytes / 2**20:,.0f} MB limit",
            "split it into smaller files (e.g. one per lecture) or raise the limit with "
            "--max-mb",
        )
    if info.st_size == 0:
        raise SkipFile("empty file", "nothing to ingest; remove it or add content")
    return info.st_size


def read_bytes(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes after the size and permission checks."""
    check_file(path, max_bytes)
    if not os.access(path, os.R_OK):
        raise SkipFile("permission denied (not readable by this user)",
                       "make it readable (chmod +r) or ask its owner")
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except PermissionError as exc:
        raise SkipFile("permission denied (not readable by this user)",
                       "make it readable (chmod +r) or ask its owner") from exc
    except OSError as exc:
        raise SkipFile(f"cannot be read ({exc.strerror})", "check the file system") from exc
    if len(data) > max_bytes:
        raise SkipFile(f"over the {max_bytes / 2**20:,.0f} MB limit (it grew while read)",
                       "split it into smaller files")
    return data


def _binary_kind(head: bytes) -> str | None:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head[4:8] == b"ftyp":
        return "an MP4/MOV video"
    return None


_CZECH = set("áéíóúýčďěňřšťůžÁÉÍÓÚÝČĎĚŇŘŠŤŮŽ")
_WESTERN = set("äöüßàâçèêëîïôùûœñÄÖÜÀÂÇÈÊËÎÏÔÙÛŒÑ")
_SAFE_SYMBOLS = set("–—‘’“”„…•°±×§«»€·")
_CYR = re.compile(r"[\u0400-\u04ff]")
_LAT = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD = re.compile(r"\w+")


def _plausibility(text: str) -> float:
    """How much ``text`` looks like Czech, Russian or English prose (higher is better)."""
    score = 0.0
    for ch in text:
        code = ord(ch)
        if code < 128:
            score += 1.0 if (ch.isprintable() or ch in "\n\r\t") else -3.0
        elif 0x80 <= code <= 0x9F:
            score -= 4.0  # C1 control characters: a wrong single-byte code page
        elif ch in _CZECH or _CYR.match(ch):
            score += 1.5
        elif ch in _WESTERN:
            score += 1.0
        elif ch in _SAFE_SYMBOLS:
            score += 0.2
        else:
            score -= 1.0
    for word in _WORD.findall(text):
        if _CYR.search(word) and _LAT.search(word):
            score -= 4.0  # mixed-script words come from the wrong code page
    return score


# Single-byte code pages of the supported languages (English, Czech, Russian)
LEGACY_ENCODINGS = ("cp1250", "iso8859_2", "cp1251", "koi8_r", "cp866", "iso8859_5",
                    "mac_cyrillic", "cp1252", "latin_1")
_RUSSIAN_COMMON = set("оеаинтсрвл")  # the ten most frequent letters: ~2/3 of Russian text
_CASE_FLIP = re.compile(r"[a-zà-žа-яё][A-ZÀ-ŽА-ЯЁ]")


def reads_as_supported_language(text: str) -> bool:
    """True if ``text`` plausibly is English, Czech or Russian, as a right decoding gives.

    A wrong code page shows as letters of no supported language, control characters, words
    mixing scripts, or Cyrillic with the wrong letter frequencies and case ("мЕЛЖХЪ 4" is
    KOI8-R read as cp1251).
    """
    odd = sum(1 for ch in text if 0x80 <= ord(ch) <= 0x9F or ch == "\ufffd")
    foreign = [ch for ch in text if ord(ch) > 127 and ch.isalpha()
               and ch not in _CZECH and ch not in _WESTERN and not _CYR.match(ch)]
    non_ascii = sum(1 for ch in text if ord(ch) > 127 and ch.isalpha()) or 1
    if odd or len(foreign) > 0.05 * non_ascii:
        return False
    words = _WORD.findall(text)
    if sum(1 for w in words if _CYR.search(w) and _LAT.search(w)) > 0.05 * max(1, len(words)):
        return False
    cyrillic = [ch.lower() for ch in text if _CYR.match(ch)]
    if len(cyrillic) >= 20:
        if sum(ch in _RUSSIAN_COMMON for ch in cyrillic) < 0.45 * len(cyrillic):
            return False
        cyr_words = [w for w in words if _CYR.search(w)]
        if sum(1 for w in cyr_words if _CASE_FLIP.search(w)) > 0.1 * len(cyr_words):
            return False
    return True


def _legacy_decoding(data: bytes, fallbacks: Iterable[str]) -> tuple[str, str]:
    """The supported code page under which ``data`` reads as English, Czech or Russian.

    charset-normalizer proposes code pages (by byte and letter statistics); each proposal and
    each fallback is decoded and checked with :func:`reads_as_supported_language`; among the
    plausible ones the one that reads most like prose wins. None plausible: SkipFile, never
    gibberish stored as success.
    """
    from charset_normalizer import from_bytes

    sample = data[:SNIFF_BYTES]
    proposed = [m.encoding for m in from_bytes(sample, cp_isolation=list(LEGACY_ENCODINGS))]
    candidates = list(dict.fromkeys([*proposed, *fallbacks]))
    decoded = {enc: sample.decode(enc, errors="replace") for enc in candidates}
    plausible = [enc for enc in candidates if reads_as_supported_language(decoded[enc])]
    if not plausible:
        raise SkipFile(
            "the text encoding could not be recognised (it is not UTF-8, and no code page "
            f"makes it read as English, Czech or Russian; tried {', '.join(candidates[:6])})",
            "save the file as UTF-8 (e.g. `iconv -f KOI8-R -t UTF-8 FILE`) and ingest it again")
    best = max(plausible, key=lambda enc: _plausibility(decoded[enc]))
    return data.decode(best, errors="replace"), best


def decode_text(data: bytes, fallbacks: Iterable[str] = ("cp1250", "cp1251", "latin_1"),
                ) -> tuple[str, str]:
    """Text and the encoding it was read with; SkipFile for binary data or an encoding that
    cannot be recognised.

    Order: byte-order marks, strict UTF-8, then the supported single-byte code page that
    charset-normalizer or ``fallbacks`` propose and that reads as English, Czech or Russian.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise SkipFile("UTF-16 byte-order mark but the text is broken",
                           "save the file again as UTF-8") from exc
    head = data[:SNIFF_BYTES]
    what = _binary_kind(head)
    if what or b"\x00" in head:
        raise SkipFile(f"binary data, not text ({what or 'it contains NUL bytes'})",
                       "ingest text, Markdown, HTML, PDF or transcript files; "
                       "export documents to PDF first")
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13)) + head.count(127)
    if controls > max(8, len(head) // 100):
        raise SkipFile(f"binary data, not text ({controls} control bytes in the first "
                       f"{len(head)} bytes)", "check that this is really a text file")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    return _legacy_decoding(data, fallbacks)


# ---------------------------------------------------------------------------------- PDF

def read_pdf(path: Path, data: bytes) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))  # tries the empty password of an encrypted file
        encrypted = reader.is_encrypted
    except DependencyError as exc:
        raise _needs_aes() from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError,
            RecursionError, IndexError, AssertionError) as exc:
        raise SkipFile(f"broken PDF ({type(exc).__name__}: {str(exc)[:120]})",
                       "open it in a PDF viewer and save or print it to a new PDF") from exc
    if encrypted:
        try:
            opened = reader.decrypt("")  # an owner password alone still lets anyone read
        except DependencyError as exc:
            raise _needs_aes() from exc
        except Exception as exc:  # pypdf raises several types for odd encryption
            raise SkipFile(f"encrypted PDF that cannot be opened ({exc})",
                           "save an unprotected copy (print to PDF) and ingest that") from exc
        if not opened:
            raise SkipFile("encrypted PDF (a password is needed to open it)",
                           "save an unprotected copy (print to PDF) and ingest that")
    try:
        pages = list(reader.pages)
    except DependencyError as exc:
        raise _needs_aes() from exc
    except Exception as exc:  # a broken page tree
        raise SkipFile(f"broken PDF (its pages cannot be listed: {str(exc)[:120]})",
                       "open it in a PDF viewer and save or print it to a new PDF") from exc
    segments: list[Segment] = []
    warnings: list[str] = []
    failed = 0
    for number, page in enumerate(pages, 1):
        try:
            box = page.mediabox
            kind = "slide" if float(box.width) > float(box.height) * 1.15 else "page"
            text = page.extract_text() or ""
        except DependencyError as exc:  # AES without a decrypter: every page fails alike
            raise _needs_aes() from exc
        except Exception:  # one broken page must not lose the others
            failed += 1
            log.debug("page %d of %s failed", number, path, exc_info=True)
            continue
        text = _tidy(text)
        if text:
            first = text.split("\n", 1)[0].strip()
            title = first if kind == "slide" and len(first.split()) <= 10 else ""
            segments.append(Segment(text, Location(kind, page=number, heading=title)))
    if failed:
        warnings.append(f"{failed} page(s) could not be read")
    if not segments:
        if failed:
            raise SkipFile(f"broken PDF: none of its {len(pages)} page(s) could be read",
                           "open it in a PDF viewer and save or print it to a new PDF")
        raise SkipFile(f"no extractable text in {len(pages)} page(s) (scanned images?)",
                       "run OCR on it first (e.g. ocrmypdf) and ingest the result")
    return Document(path, "pdf", pretty_title(path), segments, pages=len(pages),
                    warnings=warnings)


def _needs_aes() -> SkipFile:
    return SkipFile("encrypted PDF (AES): decrypting it needs the Python package "
                    "'cryptography', which is not installed",
                    "re-run scripts/setup.sh (it installs cryptography), or save an "
                    "unprotected copy (print to PDF) and ingest that")


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00ad", "")
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)  # words hyphenated across lines
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


# ---------------------------------------------------------------------------------- HTML

_HTML_SKIP = {"script", "style", "noscript", "template", "svg", "head", "nav", "footer"}
_HTML_BLOCK = {"p", "div", "li", "ul", "ol", "br", "tr", "table", "section", "article",
               "blockquote", "pre", "dd", "dt", "figcaption", "main", "header", "hr"}


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[tuple[str, list[str], int]] = [("", [], 1)]
        self.title = ""
        self._skip = 0
        self._heading: list[str] | None = None
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag in _HTML_SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._heading = []
        elif tag in _HTML_BLOCK:
            self.sections[-1][1].append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in ("br", "hr"):
            self.sections[-1][1].append("\n")

    def handle_endtag(self, tag):
        if tag in _HTML_SKIP and self._skip:
            self._skip -= 1
        elif tag == "title":
            self._in_title = False
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6") and self._heading is not None:
            heading = " ".join("".join(self._heading).split())
            self._heading = None
            if heading:
                self.sections.append((heading, [], self.getpos()[0]))
        elif tag in _HTML_BLOCK:
            self.sections[-1][1].append("\n")

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif self._skip:
            return
        elif self._heading is not None:
            self._heading.append(data)
        else:
            self.sections[-1][1].append(data)


_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_-]+)", re.IGNORECASE)


def read_html(path: Path, data: bytes) -> Document:
    match = _META_CHARSET.search(data[:4096])
    text, encoding = None, ""
    if match:
        declared = match.group(1).decode("ascii", "replace").lower()
        try:
            text, encoding = data.decode(declared), declared
        except (LookupError, UnicodeDecodeError):
            text = None
    if text is None:
        text, encoding = decode_text(data)
    parser = _HTMLText()
    try:
        parser.feed(text)
        parser.close()
    except Exception as exc:  # html.parser is lenient; this is a last resort
        raise SkipFile(f"HTML that cannot be parsed ({exc})", "save it again as HTML") from exc
    segments = []
    for heading, parts, line in parser.sections:
        body = _tidy("".join(parts))
        body = re.sub(r"\n{3,}", "\n\n", body)
        if body or heading:
            segments.append(Segment(body, Location("section", heading=heading, line=line)))
    segments = [s for s in segments if s.text.strip()]
    if not segments:
        raise SkipFile("no text in this HTML page", "check that it is the page, not a frame")
    return Document(path, "html", " ".join(parser.title.split()) or pretty_title(path),
                    segments, encoding=encoding)


# ---------------------------------------------------------------------------------- text

_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_MD_EMPH = re.compile(r"(\*\*|__|`)")
# *emphasis* only: the star of "A* search" or "IDA*" is part of the name
_MD_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")


def strip_markdown(line: str) -> str:
    line = _MD_IMAGE.sub(r"\1", line)
    line = _MD_LINK.sub(r"\1", line)
    line = _MD_TAG.sub(" ", line)
    return _MD_STAR.sub(r"\1", _MD_EMPH.sub("", line))


def read_markdown(path: Path, text: str, encoding: str) -> Document:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = 0
    if lines and lines[0].strip() == "---":  # YAML front matter
        for i in range(1, min(len(lines), 200)):
            if lines[i].strip() in ("---", "..."):
                start = i + 1
                break
    body = lines[start:]
    separators = sum(1 for line in body if line.strip() == "---")
    slides = separators >= 2 and sum(1 for line in body if _ATX.match(line)) >= separators // 2
    segments: list[Segment] = []
    heading, buf, buf_line, slide = "", [], start + 1, 1
    in_fence = False
    title = ""

    def flush() -> None:
        content = "\n".join(buf).strip()
        if content or (heading and not segments):
            loc = (Location("slide", page=slide, heading=heading, line=buf_line) if slides
                   else Location("section", heading=heading, line=buf_line))
            segments.append(Segment(content, loc))

    for offset, raw in enumerate(body):
        number = start + offset + 1
        if _FENCE.match(raw):
            in_fence = not in_fence
            buf.append(raw)
            continue
        if in_fence:
            buf.append(raw)
            continue
        if slides and raw.strip() == "---":
            flush()
            buf, buf_line, slide = [], number + 1, slide + 1
            heading = ""
            continue
        match = _ATX.match(raw)
        if match:
            flush()
            heading = strip_markdown(match.group(2)).strip()
            title = title or (heading if len(match.group(1)) == 1 else "")
            buf, buf_line = [], number
            continue
        buf.append(strip_markdown(raw))
    flush()
    segments = [s for s in segments if s.text.strip()]
    if not segments:
        raise SkipFile("no text in this Markdown file", "add content or remove the file")
    return Document(path, "markdown", title or pretty_title(path), segments, encoding=encoding,
                    pages=slide if slides else 0)


def read_plain(path: Path, text: str, encoding: str) -> Document:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    segments: list[Segment] = []
    if "\f" in text:  # pdftotext and printers separate pages with form feeds
        for number, page in enumerate(text.split("\f"), 1):
            if page.strip():
                segments.append(Segment(_tidy(page), Location("page", page=number)))
        pages = text.count("\f") + 1
    else:
        pages = 0
        line_no, para, para_line = 0, [], 1
        for line_no, line in enumerate(text.split("\n"), 1):
            if line.strip():
                if not para:
                    para_line = line_no
                para.append(line.rstrip())
            elif para:
                segments.append(Segment("\n".join(para), Location("line", line=para_line)))
                para = []
        if para:
            segments.append(Segment("\n".join(para), Location("line", line=para_line)))
    if not segments:
        raise SkipFile("no text in this file", "add content or remove the file")
    return Document(path, "text", pretty_title(path), segments, encoding=encoding, pages=pages)


# ---------------------------------------------------------------------------------- transcripts

_TS = r"(?:(\d{1,2}):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
_CUE_TIMES = re.compile(rf"^\s*{_TS}\s*-->\s*{_TS}")
_BRACKET = re.compile(rf"^\s*\[\s*{_TS}\s*-->\s*{_TS}\s*\]\s*(.*)$")
_CUE_TAGS = re.compile(r"<[^>]*>|\{\\[^}]*\}")


def _seconds(groups: tuple[str | None, ...]) -> float:
    hours, minutes, secs, millis = groups
    return (int(hours or 0) * 3600 + int(minutes) * 60 + int(secs)
            + int((millis or "0").ljust(3, "0")) / 1000)


def _clean_cue(lines: list[str]) -> str:
    text = " ".join(_CUE_TAGS.sub("", line).strip() for line in lines)
    return " ".join(text.split())


def _transcript(path: Path, kind: str, cues: list[tuple[float, float, str]],
                encoding: str) -> Document:
    cues = [c for c in cues if c[2]]
    if not cues:
        raise SkipFile(f"no cues with text in this {kind.upper()} transcript",
                       "check that the file holds timestamps and text")
    segments = [Segment(t, Location("time", start_s=a, end_s=b)) for a, b, t in cues]
    duration = max(b for _, b, _ in cues)
    return Document(path, kind, pretty_title(path), segments, encoding=encoding,
                    duration_s=duration)


def read_subtitles(path: Path, text: str, encoding: str, kind: str) -> Document:
    """SRT and WebVTT: blocks of (optional id), ``start --> end`` and text lines."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").strip())
    cues: list[tuple[float, float, str]] = []
    for block in blocks:
        lines = block.split("\n")
        if lines[0].startswith(("WEBVTT", "NOTE", "STYLE", "REGION")):
            continue
        for i, line in enumerate(lines[:3]):
            match = _CUE_TIMES.match(line)
            if match:
                groups = match.groups()
                cues.append((_seconds(groups[:4]), _seconds(groups[4:]),
                             _clean_cue(lines[i + 1:])))
                break
    return _transcript(path, kind, cues, encoding)


def read_bracket_transcript(path: Path, text: str, encoding: str) -> Document:
    cues = []
    for line in text.splitlines():
        match = _BRACKET.match(line)
        if match:
            groups = match.groups()
            cues.append((_seconds(groups[:4]), _seconds(groups[4:8]), _clean_cue([groups[8]])))
        elif line.strip() and cues:  # a wrapped line continues the cue above
            start, end, cue = cues[-1]
            cues[-1] = (start, end, f"{cue} {_clean_cue([line])}".strip())
    return _transcript(path, "transcript", cues, encoding)


def sniff_text_kind(text: str) -> str:
    """For ``.txt`` and unknown text: vtt, srt, transcript (bracket), html or text."""
    head = text.lstrip("\ufeff").lstrip()[:4000]
    if head.startswith("WEBVTT"):
        return "vtt"
    lines = [line for line in head.splitlines() if line.strip()][:40]
    if lines and sum(bool(_BRACKET.match(line)) for line in lines) >= max(1, len(lines) // 2):
        return "transcript"
    if lines and sum(bool(_CUE_TIMES.match(line)) for line in lines) >= max(1, len(lines) // 4):
        return "srt"
    if re.match(r"<!doctype html|<html", head, re.IGNORECASE):
        return "html"
    return "text"


# ---------------------------------------------------------------------------------- dispatch

def unsupported(path: Path) -> SkipFile | None:
    """Why a file's type is not read (with what to do instead), or None if it is."""
    suffix = Path(path).suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return None
    return SkipFile(f"unsupported file type {suffix or '(no extension)'}",
                    _EXPORT_HINTS.get(suffix, "ingest .md, .txt, .pdf, .html, .srt or .vtt "
                                              "files"))


def read_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Document:
    """Read one file of any supported kind; :class:`SkipFile` says why it cannot be used."""
    path = Path(path)
    suffix = path.suffix.lower()
    problem = unsupported(path)
    if problem is not None:
        raise problem
    data = read_bytes(path, max_bytes)
    if data.lstrip()[:5] == b"%PDF-":
        return read_pdf(path, data)
    if suffix == ".pdf":
        what = _binary_kind(data[:16])
        raise SkipFile(f"broken PDF (no %PDF header{'; it is ' + what if what else ''})",
                       "re-export it as PDF")
    if suffix in HTML_SUFFIXES:
        return read_html(path, data)
    text, encoding = decode_text(data)
    if not text.strip():
        raise SkipFile("only whitespace in this file", "add content or remove the file")
    if suffix in MARKDOWN_SUFFIXES:
        return read_markdown(path, text, encoding)
    if suffix == ".srt":
        return read_subtitles(path, text, encoding, "srt")
    if suffix == ".vtt":
        return read_subtitles(path, text, encoding, "vtt")
    kind = sniff_text_kind(text)
    if kind == "html":
        return read_html(path, data)
    if kind in ("srt", "vtt"):
        return read_subtitles(path, text, encoding, kind)
    if kind == "transcript":
        return read_bracket_transcript(path, text, encoding)
    return read_plain(path, text, encoding)
