"""The int8 ONNX MiniLM: prepared once from the packaged weights, faithful to fp32, self-healing."""

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from knowledge import onnx_embedding
from knowledge.cards import load_cards
from knowledge.common.errors import ModelError
from knowledge.embeddings import EMBEDDING_MODELS, load_embedder
from tests.conftest import MINI_COURSE, TEST_MODELS, erica_env

SPEC = EMBEDDING_MODELS["minilm-l6-int8"]


def prepare(models_dir: Path) -> Path:
    return onnx_embedding.prepared_model(SPEC.name, SPEC.path(), models_dir,
                                         SPEC.max_seq_length)

TEXTS = [c.embedding_text() for c in load_cards([MINI_COURSE])]


@pytest.fixture
def exports(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records every export (the real one still runs)."""
    calls: list[Path] = []
    real = onnx_embedding.export_int8

    def counting(source: Path, target: Path, max_length: int) -> tuple[str, float]:
        calls.append(target)
        return real(source, target, max_length)

    monkeypatch.setattr(onnx_embedding, "export_int8", counting)
    return calls


def test_prepared_once_then_reused(tmp_path: Path, exports: list[Path]) -> None:
    first = prepare(tmp_path)
    stamp = json.loads((tmp_path / f"{SPEC.name}.onnx.json").read_text())
    assert first.is_file() and len(exports) == 1
    assert stamp["recipe"] == onnx_embedding.RECIPE and len(stamp["target"]["sha256"]) == 64
    assert stamp["precision"] == "int8"
    assert stamp["agreement_with_fp32"] >= onnx_embedding.MIN_AGREEMENT
    assert prepare(tmp_path) == first
    assert len(exports) == 1  # stamp matched: nothing exported again


def test_changed_recipe_or_damaged_file_is_made_again(tmp_path: Path,
                                                      exports: list[Path]) -> None:
    path = prepare(tmp_path)
    stamp_file = tmp_path / f"{SPEC.name}.onnx.json"
    stamp = json.loads(stamp_file.read_text())
    stamp_file.write_text(json.dumps({**stamp, "recipe": "an-older-recipe"}))
    prepare(tmp_path)
    assert len(exports) == 2
    # Garbage of the same size and time as the good file: only loading can tell.
    stat = path.stat()
    path.write_bytes(b"\0" * stat.st_size)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    embedder = load_embedder(SPEC.name, tmp_path)
    assert len(exports) == 3
    assert embedder.encode_query("gradient descent").shape == (384,)


def test_fp32_is_kept_where_int8_disagrees(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """On a CPU whose int8 kernels fall short (forced here by an unreachable bar), the
    prepared model is the fp32 export, which matches PyTorch."""
    monkeypatch.setattr(onnx_embedding, "MIN_AGREEMENT", 1.01)
    path = prepare(tmp_path)
    stamp = json.loads((tmp_path / f"{SPEC.name}.onnx.json").read_text())
    assert stamp["precision"] == "fp32" and path.stat().st_size > 80e6  # fp32 weights
    encoder = onnx_embedding.OnnxSentenceEncoder(path, SPEC.path() / "tokenizer.json",
                                                 SPEC.max_seq_length)
    fp32 = load_embedder("minilm-l6", TEST_MODELS).encode(TEXTS)
    assert (encoder(TEXTS) * fp32).sum(axis=1).min() > 0.9999


def test_int8_vectors_match_the_fp32_model(tmp_path: Path) -> None:
    int8 = load_embedder("minilm-l6-int8", TEST_MODELS).encode(TEXTS)
    fp32 = load_embedder("minilm-l6", TEST_MODELS).encode(TEXTS)
    cosine = (int8 * fp32).sum(axis=1)
    assert cosine.min() > 0.97 and cosine.mean() > 0.985
    # Each card's int8 vector finds its own fp32 vector first among all cards.
    assert ((int8 @ fp32.T).argmax(axis=1) == np.arange(len(TEXTS))).all()
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)


def test_tokenizer_truncates_like_sentence_transformers() -> None:
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    ours = Tokenizer.from_file(str(SPEC.path() / "tokenizer.json"))
    ours.enable_truncation(max_length=SPEC.max_seq_length)
    ours.no_padding()  # the file pads to a fixed 128; the encoder pads to the batch's longest
    theirs = AutoTokenizer.from_pretrained(str(SPEC.path()), local_files_only=True)
    for text in [TEXTS[0], " ".join(TEXTS), "Qu'est-ce que l'entropie ? 熵是什么"]:
        expected = theirs(text, truncation=True, max_length=SPEC.max_seq_length)["input_ids"]
        assert ours.encode(text).ids == expected


def test_missing_onnx_package_is_a_clear_error(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if the package were not installed
    with pytest.raises(ModelError) as err:
        prepare(tmp_path)
    assert "onnx" in err.value.cause and "setup.sh" in err.value.fix
    assert not list(tmp_path.glob("*.onnx"))


def test_questions_use_the_model_that_embedded_the_store(tmp_path: Path, use_env) -> None:
    from tutor import runtime
    from tutor.cli import main
    from tutor.settings import load_settings

    use_env(erica_env(tmp_path, ERICA_EMBEDDING_MODEL="minilm-l6"))
    assert main(["kb", "build"]) == 0
    use_env({"ERICA_EMBEDDING_MODEL": "minilm-l6-int8"})
    retriever = runtime.retriever(load_settings())
    assert retriever.embedder.name == "minilm-l6"
    assert retriever.concepts.info().embedding_model == "minilm-l6"
