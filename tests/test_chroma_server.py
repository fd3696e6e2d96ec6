"""Scale-out: the same commands against a real Chroma server on 127.0.0.1."""

import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import erica_env, free_port, running_server
from tutor.cli import main


@pytest.fixture
def chroma_server(tmp_path: Path):
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert exe, "the chroma CLI ships with chromadb"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [exe, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port",
               str(port)]
    with running_server(command, f"{url}/api/v2/heartbeat", tmp_path / "chroma.log",
                        "chroma server"):
        yield url


def test_build_and_retrieve_through_server(tmp_path: Path, chroma_server, use_env, capsys):
    use_env(erica_env(tmp_path / "data", ERICA_CHROMA_URL=chroma_server))
    assert main(["kb", "build"]) == 0
    assert chroma_server in capsys.readouterr().out
    assert main(["retrieve", "a model that matches images with text captions", "--k", "1",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["matches"][0]["id"] == "clip"
    assert not (tmp_path / "data" / "chroma").exists()  # nothing written locally


def test_unreachable_server_is_a_clear_error(tmp_path: Path, use_env, capsys):
    use_env(erica_env(tmp_path / "d", ERICA_CHROMA_URL=f"http://127.0.0.1:{free_port()}"))
    assert main(["kb", "stats"]) == 4
    err = capsys.readouterr().err
    assert "cannot be reached" in err and "chroma run" in err
