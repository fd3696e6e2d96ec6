"""``erica practice``: questions from the cards in the terminal, mastery and what to study next.

Answers are read from stdin (one option number per line), so the command also works with
piped input; ``--json`` prints the questions with their keys and asks nothing.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Callable

from knowledge.cards import load_cards
from knowledge.common.errors import InvalidInputError
from knowledge.course import Course
from tutor.practice.progress import ProgressError, ProgressStore, check_learner
from tutor.practice.session import Progress, answer, load_progress, parse_choice
from tutor.practice.study_next import unmastered_first
from tutor.settings import Settings

log = logging.getLogger(__name__)
MAX_COUNT = 50
TRIES = 3


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "practice",
        help="answer practice questions; see mastery and what to study next",
        description="Ask questions built from the course cards, record the answers in "
        "DATA_DIR/progress.sqlite3 under a learner name, and say what to study next. Without "
        "a concept or a question, the questions follow 'study next'. A learner name is a "
        "label on this machine, not a login: anyone who types it shares that progress.",
    )
    p.add_argument(
        "question",
        nargs="?",
        default=None,
        help="practise the concepts that answer this question (in quotes)",
    )
    p.add_argument("--concept", default=None, help="practise this concept (a card id)")
    p.add_argument(
        "--learner", default=None, help="learner name (default: your user name on this machine)"
    )
    p.add_argument(
        "--count", type=int, default=5, help=f"how many questions (1-{MAX_COUNT}, default 5)"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the questions with their answer keys as JSON and ask nothing "
        "(with --progress: the progress as JSON)",
    )
    p.add_argument(
        "--progress",
        action="store_true",
        help="print the learner's mastery per concept and what to study next",
    )
    p.add_argument(
        "--export",
        metavar="FILE",
        default=None,
        help="write everything stored about the learner as JSON to FILE ('-': stdout)",
    )
    p.add_argument(
        "--delete",
        action="store_true",
        help="delete the learner and all their answers (asks to confirm)",
    )
    p.add_argument("--yes", action="store_true", help="confirm --delete without asking")
    p.set_defaults(func=cmd_practice)


def default_learner() -> str:
    try:
        return check_learner(getpass.getuser())
    except (InvalidInputError, KeyError, OSError):
        raise InvalidInputError(
            "no learner name given and your user name cannot be used as one", "pass --learner NAME"
        ) from None


def cmd_practice(
    args: argparse.Namespace, settings: Settings, read: Callable[[], str] | None = None
) -> int:
    if args.question is not None and args.concept is not None:
        raise InvalidInputError(
            "give a concept or a question, not both", "drop --concept or the question text"
        )
    if not 1 <= args.count <= MAX_COUNT:
        raise InvalidInputError(
            f"--count must be between 1 and {MAX_COUNT} (got {args.count})",
            f"pass --count 1..{MAX_COUNT}",
        )
    learner = check_learner(args.learner) if args.learner is not None else default_learner()
    store = ProgressStore.in_data_dir(settings.data_dir)
    if args.delete:
        return _delete(store, learner, args.yes, read or _read_line)
    if args.export is not None:
        return _export(store, learner, args.export)
    from tutor.practice.questions import course_from_cards

    course = course_from_cards(load_cards(settings.course_dirs))
    try:
        progress = load_progress(store, learner, course.graph, settings.mastery_threshold)
    except ProgressError as exc:
        if args.progress:
            raise
        print(
            f"warning: {exc.cause}\nfix: {exc.fix}\nYour answers will not be saved.",
            file=sys.stderr,
        )
        store, progress = None, None
    if args.progress:
        return _show_progress(progress, course, args.json)
    concepts = _concepts(args, settings, course, progress)
    questions = _questions(
        course, concepts, args.count, seed=len(progress.answers) if progress else 0
    )
    if not questions:
        raise InvalidInputError(
            "the cards give no practice question for "
            f"{', '.join(concepts[:3]) or 'these concepts'}",
            "try another concept (erica practice --concept ID)",
        )
    if args.json:
        print(
            json.dumps(
                {
                    "learner": learner,
                    "concepts": concepts,
                    "questions": [q.to_dict() for q in questions],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    return _ask(store, learner, course, questions, read or _read_line)


def _read_line() -> str:
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    if not sys.stdin.isatty():
        print(line.rstrip("\n"))  # echo piped answers so the transcript reads right
    return line


def _concepts(
    args: argparse.Namespace, settings: Settings, course: Course, progress: Progress | None
) -> list[str]:
    """What to practise: the concept (or the question's best match) after its direct
    prerequisites that are not mastered; else what 'study next' proposes."""
    if args.concept is not None:
        cid = args.concept.strip()
        if cid not in course.cards:
            found = course.find(cid)
            if not found:
                raise InvalidInputError(
                    f"no concept {cid!r} in the course",
                    "use a card id or name, e.g. --concept breadth-first-search",
                )
            cid = found[0].id
        return _with_prerequisites(cid, course, progress)
    if args.question is not None:
        from tutor.tutor import Tutor

        matches = Tutor(settings).retriever.retrieve(args.question, k=3, depth=0).matched
        close = [m for m in matches if m.score >= settings.min_match_score]
        if not close:
            raise InvalidInputError(
                "the course does not cover that question",
                "ask about a concept of the course, or use --concept",
            )
        return _with_prerequisites(close[0].id, course, progress)
    if progress is None:
        roots = sorted(n for n in course.graph if course.graph.in_degree(n) == 0)
        return roots[: args.count]
    return [s.concept_id for s in progress.next(course.graph, limit=args.count)]


def _with_prerequisites(cid: str, course: Course, progress: Progress | None) -> list[str]:
    pres = list(course.graph.predecessors(cid))
    if progress is not None:
        pres = [
            p for p in unmastered_first(progress.tracker, pres) if not progress.tracker.mastered(p)
        ]
    return [*pres, cid]


def _questions(course: Course, concepts: list[str], count: int, seed: int) -> list:
    """``count`` questions, taking turns over the concepts (in their order)."""
    from tutor.practice.questions import questions_for

    per = max(1, -(-count // max(1, len(concepts))))
    pool = questions_for(course, concepts, per_concept=min(per + 1, 8), seed=seed)
    by_concept: dict[str, list] = {}
    for q in pool:
        by_concept.setdefault(q.concept_id, []).append(q)
    out = []
    while len(out) < count and any(by_concept.values()):
        for cid in concepts:
            if by_concept.get(cid) and len(out) < count:
                out.append(by_concept[cid].pop(0))
    return out


def _ask(
    store: ProgressStore | None,
    learner: str,
    course: Course,
    questions: list,
    read: Callable[[], str],
) -> int:
    right = asked = 0
    for i, q in enumerate(questions, 1):
        # A "which concept" question would be answered by its concept's name in the header.
        name = "" if q.kind == "choice" else f" · {course.cards[q.concept_id].name}"
        print(f"\nQuestion {i} of {len(questions)}{name} · {q.kind.replace('_', '/')}")
        print(q.stem)
        for n, option in enumerate(q.options, 1):
            print(f"  {n}. {option}")
        choice = _read_choice(read, len(q.options))
        if choice is None:
            print("(stopped)")
            break
        asked += 1
        if store is None:
            correct, text = q.check(choice), q.feedback(choice)
        else:
            try:
                result = answer(store, learner, q, choice, client="cli")
                correct, text = result.correct, result.feedback
            except ProgressError as exc:
                print(f"warning: {exc.cause}\nfix: {exc.fix}", file=sys.stderr)
                store = None
                correct, text = q.check(choice), q.feedback(choice)
        right += correct
        print(text)
    print(f"\n{right} of {asked} right." if asked else "\nNo answers.")
    if store is not None:
        progress = load_progress(store, learner, course.graph)
        _print_next(progress, course)
    return 0


def _read_choice(read: Callable[[], str], options: int) -> int | None:
    """A 0-based option from the input; None at end of input or 'q'."""
    for _ in range(TRIES):
        print(f"Your answer (1-{options}, q to stop): ", end="", flush=True)
        try:
            line = read()
        except EOFError:
            print()
            return None
        if line.strip().lower() in ("q", "quit"):
            return None
        try:
            return parse_choice(line, options)
        except InvalidInputError as exc:
            print(f"{exc.cause}: {exc.fix}")
    print("Skipping this question.")
    return None


def _print_next(progress: Progress, course: Course) -> None:
    suggestions = progress.next(course.graph)
    if not suggestions:
        return
    print("\nStudy next:")
    for s in suggestions:
        label = "review" if s.kind == "review" else "learn"
        print(
            f"- {course.cards[s.concept_id].name} ({label}; mastery {s.mastery:.2f}; "
            f"{s.why})  erica practice --concept {s.concept_id}"
        )


def _show_progress(progress: Progress, course: Course, as_json: bool) -> int:
    if as_json:
        print(
            json.dumps(progress.to_dict(course.cards, course.graph), indent=2, ensure_ascii=False)
        )
        return 0
    rows = progress.rows(course.cards)
    print(
        f"Learner {progress.learner}: {len(progress.answers)} answers, mastered at "
        f"P(known) >= {progress.tracker.threshold:.2f}."
    )
    for r in rows:
        mark = "mastered" if r["mastered"] else ""
        print(
            f"  {r['mastery']:.2f}  {r['right']}/{r['answers']} right  {r['concept']} "
            f"({r['id']}) {mark}".rstrip()
        )
    if not rows:
        print("  No answers yet: try `erica practice`.")
    _print_next(progress, course)
    return 0


def _export(store: ProgressStore, learner: str, target: str) -> int:
    data = json.dumps(store.export(learner), indent=2, ensure_ascii=False)
    if target == "-":
        print(data)
        return 0
    try:
        with open(target, "w", encoding="utf-8") as out:
            out.write(data + "\n")
    except OSError as exc:
        raise InvalidInputError(
            f"cannot write {target}: {exc.strerror}", "pass a writable file path, or '-' for stdout"
        ) from exc
    print(f"wrote {target}", file=sys.stderr)
    return 0


def _delete(store: ProgressStore, learner: str, yes: bool, read: Callable[[], str]) -> int:
    if not yes:
        print(
            f"Delete learner {learner!r} and all their answers? Type the name to confirm: ",
            end="",
            flush=True,
        )
        try:
            typed = read().strip()
        except EOFError:
            typed = ""
        if typed.casefold() != learner.casefold():
            print("Not deleted.", file=sys.stderr)
            return 1
    count = store.delete(learner)
    print(f"Deleted learner {learner} ({count} answers).")
    return 0
