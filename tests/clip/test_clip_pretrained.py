"""The pretrained open_clip path, exactly as users run it: a Hugging Face cache that this test
prepares (random ViT-B-32 weights in the real repo layout), HF_HUB_OFFLINE=1, HF_HOME set.

Nothing is mocked: the subprocesses run ``python -m tutor.cli`` and open_clip resolves the
tag to ``laion/CLIP-ViT-B-32-laion2B-s34B-b79K`` / ``open_clip_model.safetensors`` through
huggingface_hub's cache lookup. (The only thing that cannot run here is the real download;
its failure path is tested against a closed local port.)
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clip.conftest import scene_image

ROOT = Path(__file__).resolve().parents[2]
REPO = "models--laion--CLIP-ViT-B-32-laion2B-s34B-b79K"
REVISION = "d7b5e7c1e0a1f0b2c3d4e5f60718293a4b5c6d7e"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hf_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float, Path]:
    """HF_HOME with hub/<repo>/{blobs,refs/main,snapshots/<rev>/open_clip_model.safetensors}."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    home = tmp_path_factory.mktemp("hf-home")
    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-32", pretrained=None)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    probe = float(state["visual.proj"].float().sum())
    repo = home / "hub" / REPO
    (repo / "blobs").mkdir(parents=True)
    tmp = repo / "blobs" / "incoming"
    save_file(state, str(tmp))
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    blob = repo / "blobs" / digest
    tmp.rename(blob)
    snapshot = repo / "snapshots" / REVISION
    snapshot.mkdir(parents=True)
    (snapshot / "open_clip_model.safetensors").symlink_to(Path("../../blobs") / digest)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REVISION)
    return home, probe, snapshot / "open_clip_model.safetensors"


def run_cli(code: str, env_extra: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ERICA_", "HF_"))}
    env.update({"HF_HUB_OFFLINE": "1", "ERICA_CONFIG": "", "ERICA_DATA_DIR": str(tmp_path),
                "PYTHONPATH": str(ROOT)})
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300, cwd=ROOT)


SCRIPT = """
import json, os, sys
from tutor.cli import main
from tutor.clip.models import load_model
from tutor.settings import load_settings

def label():
    rc = main(["clip", "label", {image!r}, "--labels", "a red circle, a cat",
               "--templates", "photo", "--json"])
    if rc == 0:
        m = load_model(load_settings())
        print("PROBE", float(m.model.visual.proj.float().sum()), flush=True)
    print("RC", rc, flush=True)

for step in json.loads(sys.argv[1]):
    if step[0] == "env":
        os.environ[step[1]] = step[2]
    elif step[0] == "label":
        label()
    else:
        print("RC", main(["clip", "get-weights", *step[1:]]), flush=True)
"""


def run_steps(steps: list, env_extra: dict[str, str], tmp_path: Path
              ) -> tuple[list[int], list[float], str, str]:
    """Run the steps in one fresh interpreter (one torch import for several CLI calls);
    returns (exit codes, probes, stdout, stderr)."""
    image = tmp_path / "img.png"
    scene_image("red", "circle").save(image)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ERICA_", "HF_"))}
    env.update({"HF_HUB_OFFLINE": "1", "ERICA_CONFIG": "", "ERICA_DATA_DIR": str(tmp_path),
                "PYTHONPATH": str(ROOT)})
    env.update(env_extra)
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(image=str(image)),
                           json.dumps(steps)], env=env, capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    lines = done.stdout.splitlines()
    codes = [int(x.split()[1]) for x in lines if x.startswith("RC ")]
    probes = [float(x.split()[1]) for x in lines if x.startswith("PROBE ")]
    return codes, probes, done.stdout, done.stderr


def test_tag_from_the_prepared_cache_and_get_weights(hf_home, tmp_path: Path):
    home, probe, snapshot_file = hf_home
    codes, probes, out, err = run_steps(
        [["label"], ["get-weights"]],
        {"HF_HOME": str(home), "ERICA_CLIP_MODEL": "ViT-B-32",
         "ERICA_CLIP_PRETRAINED": "laion2b_s34b_b79k"}, tmp_path)
    assert codes == [0, 0], err
    rows = json.loads(out[: out.index("PROBE")])
    assert {r["label"] for r in rows} == {"a red circle", "a cat"}
    assert "model: ViT-B-32 / laion2b_s34b_b79k" in err
    assert probes[0] == pytest.approx(probe, rel=1e-6)  # the cache's weights, not random ones
    assert "already in the Hugging Face cache" in out and str(snapshot_file.parent) in out


def test_local_weights_file(hf_home, tmp_path: Path):
    _, probe, snapshot_file = hf_home
    codes, probes, _, err = run_steps(
        [["label"],
         # the blob itself has no suffix: open_clip expects a torch pickle and refuses it
         ["env", "ERICA_CLIP_PRETRAINED", str(snapshot_file.resolve())], ["label"]],
        {"HF_HOME": str(tmp_path / "empty-hf"), "ERICA_CLIP_MODEL": "ViT-B-32",
         "ERICA_CLIP_PRETRAINED": str(snapshot_file)}, tmp_path)
    assert codes == [0, 5], err
    assert probes == [pytest.approx(probe, rel=1e-6)]
    assert "cannot be loaded" in err and ".safetensors" in err and "Traceback" not in err


def test_missing_weights_and_failed_download(tmp_path: Path):
    # a closed local port stands in for "huggingface.co cannot be reached"
    codes, _, _, err = run_steps(
        [["label"], ["get-weights", "--model", "ViT-B-32"]],
        {"HF_HOME": str(tmp_path / "empty-hf"), "ERICA_CLIP_MODEL": "ViT-B-32",
         "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_ETAG_TIMEOUT": "2",
         "HF_HUB_DOWNLOAD_TIMEOUT": "2"}, tmp_path)
    assert codes == [5, 5], err  # ModelError both times, no traceback
    assert "Traceback" not in err
    assert "are not on this machine" in err
    assert "erica clip get-weights --model ViT-B-32 --pretrained laion2b_s34b_b79k" in err
    assert "could not download ViT-B-32 / laion2b_s34b_b79k" in err
    assert err.count("ERICA_CLIP_PRETRAINED") >= 2
