"""Generated lecture material (PDF, transcripts, Markdown) for tests and benchmarks.

:func:`minimal_pdf` writes a real PDF by hand (Helvetica text, one content stream per page),
so nothing outside the standard library is needed to make one.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence

from knowledge.ingest.readers import format_timestamp


def _pdf_escape(text: str) -> str:
    text = text.encode("cp1252", "replace").decode("cp1252")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def minimal_pdf(pages: Sequence[Sequence[str]], landscape: bool = False,
                width_chars: int = 90) -> bytes:
    """A PDF whose page ``i`` shows the lines ``pages[i]`` (wrapped to the page)."""
    width, height = (792, 612) if landscape else (612, 792)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        ("<< /Type /Pages /Kids [" + " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
         + f"] /Count {len(pages)} >>").encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, lines in enumerate(pages):
        wrapped = [w for line in lines for w in (textwrap.wrap(line, width_chars) or [""])]
        body = " ".join(f"({_pdf_escape(line)}) Tj T*" for line in wrapped)
        stream = f"BT /F1 11 Tf 14 TL 50 {height - 60} Td {body} ET".encode("cp1252", "replace")
        objects.append(
            (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
             f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>").encode())
        objects.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream
                       + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
            .encode())
    return bytes(out)


def cues(text: str, seconds_per_cue: float = 4.0, words_per_cue: int = 10,
         start: float = 0.0) -> list[tuple[float, float, str]]:
    """Speech-like cues: ``words_per_cue`` words every ``seconds_per_cue`` seconds."""
    words = text.split()
    out = []
    t = start
    for i in range(0, len(words), words_per_cue):
        out.append((t, t + seconds_per_cue - 0.2, " ".join(words[i:i + words_per_cue])))
        t += seconds_per_cue
    return out


def _ts(seconds: float, sep: str) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"


def srt(cue_list: Iterable[tuple[float, float, str]]) -> str:
    return "\n".join(f"{i}\n{_ts(a, ',')} --> {_ts(b, ',')}\n{text}\n"
                     for i, (a, b, text) in enumerate(cue_list, 1))


def vtt(cue_list: Iterable[tuple[float, float, str]]) -> str:
    body = "\n".join(f"{_ts(a, '.')} --> {_ts(b, '.')} align:start\n<v Lecturer>{text}\n"
                     for a, b, text in cue_list)
    return "WEBVTT - generated lecture\n\nNOTE produced for tests\n\n" + body


def bracket_transcript(cue_list: Iterable[tuple[float, float, str]]) -> str:
    return "".join(f"[{_ts(a, '.')} --> {_ts(b, '.')}]  {text}\n" for a, b, text in cue_list)


def transcript_minutes(cue_list: Sequence[tuple[float, float, str]]) -> float:
    return max((b for _, b, _ in cue_list), default=0.0) / 60


__all__ = ["bracket_transcript", "cues", "format_timestamp", "minimal_pdf", "srt", "vtt"]
