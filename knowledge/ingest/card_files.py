"""The card files an ingestion writes: one per source (unit), never overwriting a teacher's
edits, with stable unit names and ids."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from knowledge.cards import Concept, card_files, load_card_file
from knowledge.ingest import cards_out
from knowledge.ingest.cards_out import Manifest, unit_slug
from knowledge.ingest.files import natural_key
from knowledge.ingest.passages import Passage
from knowledge.ingest.report import IngestReport


def write_card_files(report: IngestReport, manifest: Manifest, course_dir: Path, state_dir: Path,
                 regenerate: set[str], gone: set[str], unit_of: dict[str, str],
                 files_out: dict[str, str]) -> None:
    """Write (or remove) the card file of each regenerated (or removed) source, never
    overwriting a file the teacher edited."""
    course_dir.mkdir(parents=True, exist_ok=True)
    for source in sorted(regenerate | gone):
        name = manifest.file_for(source) or f"{unit_of.get(source, unit_slug(source))}.yaml"
        path = course_dir / name
        text = files_out.get(name) if source not in gone else None
        entry = manifest.cards.get(name)
        ours = entry is not None
        if path.exists() and (not ours or manifest.edited(course_dir, name)):
            report.cards_kept.append(name)  # the teacher's edits (or own file) win
            if text is not None:
                cards_out.write_atomic(state_dir / "proposed" / name, text)
            continue
        if text is None:
            if path.exists():
                path.unlink()
                report.cards_removed.append(name)
            if source in gone:
                manifest.cards.pop(name, None)
            else:  # a source without new concepts: remembered so it is not redone
                manifest.cards[name] = {"source": source, "sha": ""}
            continue
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            cards_out.write_atomic(path, text)
            report.cards_written.append(name)
        manifest.cards[name] = {"source": source, "sha": cards_out.sha256_text(text)}


def write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        cards_out.write_atomic(path, text)


def unique_id(base: str, used: set[str]) -> str:
    if base not in used:
        return base
    n = 2
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


def unit_names(source_names: dict[str, str], manifest: Manifest) -> dict[str, str]:
    """A unit id per source (stable: the manifest's earlier choice wins)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name, entry in manifest.cards.items():
        src = entry.get("source")
        if src:
            out[src] = Path(name).stem
            used.add(Path(name).stem)
    for source, shown in sorted(source_names.items(), key=lambda kv: natural_key(kv[1])):
        if source not in out:
            out[source] = unique_id(unit_slug(shown), used)
            used.add(out[source])
    return out


def configured_cards(course_dirs: Sequence[Path], course_dir: Path) -> list[Concept]:
    """Cards of the configured course folders, without this course's own folder."""
    own = course_dir.resolve()
    files = [f for f in card_files(course_dirs)
             if not f.resolve().is_relative_to(own)]
    cards: list[Concept] = []
    for f in files:
        cards.extend(load_card_file(f))
    seen: set[str] = set()
    out = []
    for c in cards:
        if c.id not in seen:
            seen.add(c.id)
            out.append(c)
    return out


def without_heading(p: Passage) -> str:
    """A passage's text without its slide title or heading repeated as the first line."""
    heading = p.location.heading
    text = p.text.lstrip()
    if heading and text.startswith(heading) and len(text) > len(heading) + 20:
        return text[len(heading):].lstrip(" \n:.-")
    return text
