"""A concept store under attack: damaged files, no permission, kill -9, interrupted builds
(issue 15, items 6 and 9, and the store part of the catalogue). Real ChromaDB folders, real
processes killed with SIGKILL."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, erica_env
from tutor import runtime
from tutor.cli import main

SHIPPED_COURSE = ROOT / "knowledge" / "courses" / "intro_ai"


def _forget_clients() -> None:
    """Chroma caches one system per folder in a process; a test that damages a folder must
    not find the healthy one in that cache."""
    from chromadb.api.shared_system_client import SharedSystemClient

    runtime._client.cache_clear()
    runtime._retriever.cache_clear()
    SharedSystemClient.clear_system_cache()


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


@pytest.fixture
def store(tmp_path: Path, mini_store: Path, use_env) -> Path:
    """A private copy of the built mini-course data folder, with ERICA_* pointing at it."""
    data = tmp_path / "data"
    shutil.copytree(mini_store, data, ignore=shutil.ignore_patterns("writer.lock"))
    use_env(erica_env(data))
    _forget_clients()
    yield data
    _forget_clients()


@pytest.mark.catalogue(case="store: 0-byte chroma.sqlite3",
                       expect="'damaged', fixed by kb build --reset")
def test_zero_byte_database_is_damaged_not_empty(store: Path, capsys):
    (store / "chroma" / "chroma.sqlite3").write_bytes(b"")
    assert main(["retrieve", "what is clip"]) == 4
    err = capsys.readouterr().err
    assert "damaged" in err and "empty (0 bytes)" in err and "kb build --reset" in err
    assert "is empty\n" not in err  # not "build it", as if nothing had ever been built
    assert main(["kb", "build", "--reset"]) == 0
    capsys.readouterr()
    assert main(["retrieve", "what is clip", "--json"]) == 0


@pytest.mark.catalogue(case="store: garbage chroma.sqlite3",
                       expect="'damaged', fixed by kb build --reset")
def test_garbage_database_is_damaged(store: Path, capsys):
    database = store / "chroma" / "chroma.sqlite3"
    database.write_bytes(os.urandom(database.stat().st_size))
    assert main(["retrieve", "what is clip"]) == 4
    err = capsys.readouterr().err
    assert "kb build --reset" in err and "Traceback" not in err
    assert main(["kb", "build", "--reset"]) == 0
    assert "moved the old store" in capsys.readouterr().out


def _without_root_powers() -> list[str]:
    """Run a command without the capabilities that let root ignore file modes, so the
    modes are checked as for any user (tests run as root in the container)."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is needed to drop root's file capabilities")
    drop = "-dac_override,-dac_read_search"
    return ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}"]


@pytest.mark.catalogue(case="store: permission denied",
                       expect="'permission denied', never sent to --reset")
def test_permission_denied_store_is_a_permission_problem(store: Path, tmp_path: Path):
    chroma = store / "chroma"
    before = sorted(p.name for p in store.iterdir())
    command = [*_without_root_powers(), sys.executable, "-m", "tutor.cli", "retrieve",
               "what is clip"]
    env = _env(**erica_env(store))
    try:
        for damage in ("folder", "database"):
            if damage == "folder":
                chroma.chmod(0o000)
            else:
                chroma.chmod(0o755)
                (chroma / "chroma.sqlite3").chmod(0o444)
            done = subprocess.run(command, capture_output=True, text=True, env=env,
                                  cwd=tmp_path, timeout=300)
            assert done.returncode == 4, done.stderr
            assert "permission denied" in done.stderr, done.stderr
            assert "do not use --reset" in done.stderr and "Traceback" not in done.stderr
    finally:
        chroma.chmod(0o755)
        (chroma / "chroma.sqlite3").chmod(0o644)
    assert sorted(p.name for p in store.iterdir()) == before  # nothing moved aside


def _lock_held(data: Path) -> bool:
    if not (data / "writer.lock").is_file():
        return False
    with open(data / "writer.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def kill_when_writing(command: list[str], data: Path, env: dict[str, str], cwd: Path,
                      after_s: float) -> None:
    """Start ``command``, wait until it holds the data folder's writer lock (it is then
    building or ingesting), let it work ``after_s`` seconds, then SIGKILL it."""
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not _lock_held(data):
            assert proc.poll() is None, "it ended before it began writing"
            assert time.monotonic() < deadline, "it never took the writer lock"
            time.sleep(0.1)
        time.sleep(after_s)
        assert proc.poll() is None, "it finished before it could be killed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)


@pytest.mark.catalogue(case="kill -9 during kb build",
                       expect="old store still answers; next build works")
def test_kill_9_during_build_leaves_the_store_usable(store: Path, tmp_path: Path, capsys):
    env = _env(**erica_env(store, SHIPPED_COURSE))  # 1,246 cards: time enough to be killed
    kill_when_writing([sys.executable, "-m", "tutor.cli", "kb", "build"], store, env,
                      tmp_path, after_s=3.0)
    assert not _lock_held(store)  # the kernel released the dead writer's lock
    assert main(["kb", "stats", "--json"]) == 0
    assert '"concepts_in_chromadb": 15' in capsys.readouterr().out  # the old build answers
    assert main(["retrieve", "what is clip", "--json", "--k", "1"]) == 0
    assert '"id": "clip"' in capsys.readouterr().out
    assert main(["kb", "build"]) == 0  # the mini course again: up to date or rebuilt


# What a build killed while writing leaves: its new collection, half written, no pointer.
_INTERRUPTED_BUILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import numpy as np
    from knowledge import store
    from knowledge.chroma_client import open_client
    from knowledge.course import card_metadata
    from knowledge.synthetic import synthetic_cards

    def die(*args, **kwargs):  # the records are written; the pointer never moves
        os.kill(os.getpid(), signal.SIGKILL)

    store.verify_collection = die
    cards = synthetic_cards(3000, seed=int(sys.argv[2]))
    vectors = np.random.default_rng(int(sys.argv[2])).normal(size=(len(cards), 384))
    records = [store.Record(c.id, v.astype(np.float32), None, card_metadata(c))
               for c, v in zip(cards, vectors)]
    store.VersionedCollection(open_client(Path(sys.argv[1])), "concepts").build(
        records, f"{int(sys.argv[2]):02d}" * 32, "random")
""")


def _footprint(chroma: Path) -> tuple[int, int]:
    """(bytes on disk of the store folder, index folders)."""
    size = sum(p.stat().st_size for p in chroma.rglob("*") if p.is_file())
    return size, sum(1 for p in chroma.iterdir() if p.is_dir())


@pytest.mark.catalogue(case="interrupted builds: orphan collections and index folders",
                       expect="removed by the next build; size back down")
def test_next_build_removes_what_interrupted_builds_left(store: Path, tmp_path: Path,
                                                         capsys):
    chroma = store / "chroma"
    before, folders = _footprint(chroma)
    for seed in range(3):
        done = subprocess.run([sys.executable, "-c", _INTERRUPTED_BUILD, str(chroma), str(seed)],
                              env=_env(), cwd=tmp_path, capture_output=True, timeout=300)
        assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    grown, orphaned = _footprint(chroma)
    assert grown > before + 5 * 2**20 and orphaned >= folders + 3
    _forget_clients()
    assert main(["kb", "build"]) == 0
    out = capsys.readouterr().out
    assert "removed 3 collection(s) left by interrupted builds" in out
    assert "already up to date" in out  # the active build itself is untouched
    after, remaining = _footprint(chroma)
    assert remaining == folders and after < before + 2**20, (before, grown, after)
    with sqlite3.connect(chroma / "chroma.sqlite3") as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM collections")}
        segments = {row[0] for row in conn.execute("SELECT id FROM segments")}
    # erica-meta and the active build of each namespace (concepts, the cross-language index)
    assert {n.split("-")[0] for n in names} == {"erica", "concepts", "crosslingual"}
    assert len(names) == 3
    assert {p.name for p in chroma.iterdir() if p.is_dir()} <= segments
    assert main(["retrieve", "what is clip", "--json", "--k", "1"]) == 0
    assert '"id": "clip"' in capsys.readouterr().out
