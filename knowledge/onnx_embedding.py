"""A packaged sentence-transformers model run as int8 ONNX with ONNX Runtime.

Why: on 2 CPU cores the int8 MiniLM embeds about 2.5x faster than PyTorch fp32 (cosine ~0.99
to the fp32 vectors, the same retrieval quality: ``erica bench quality``), which is what makes a
course build fast; queries then need neither torch nor sentence-transformers.

The ONNX file is derived once from the weights in the installed package (export, then dynamic
int8 quantization, both offline) into the models folder, with a stamp saying what it was made
from; a changed package, recipe or damaged file makes it again.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.common.errors import ModelError
from knowledge.common.hashing import file_record, stamp_matches, write_stamp

log = logging.getLogger(__name__)

# Bump when the export or the quantization changes: prepared files are then made again.
RECIPE = "bert-eager-opset17/int8-per-channel/fp32-layer0-ffn-out/checked-v3"
WEIGHTS = "model.safetensors"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Mean cosine to PyTorch fp32 that int8 must reach on CHECK_TEXTS (0.994 measured on
# AVX-512 VNNI; CPUs without VNNI can saturate in int8 kernels).
MIN_AGREEMENT = 0.98
CHECK_TEXTS = (
    "What is CLIP and how is it used in computer vision?",
    "A* search expands the node with the lowest f = g + h; with an admissible heuristic it "
    "finds an optimal path.",
    "how does backprop compute gradients through a network layer",
    "Entropy measures the uncertainty of a probability distribution, in bits.",
    "Q-learning updates action values toward the reward plus the discounted best next value.",
    "Qu'est-ce qu'un réseau de neurones convolutif ?",
    "k-means alternates assigning points to the nearest centroid and moving each centroid.",
    "Bayes' rule: posterior is proportional to likelihood times prior.",
    "attention weights are a softmax over query-key dot products scaled by sqrt(d)",
    "overfitting",
    "Support vector machines maximise the margin; kernels make the boundary non-linear.",
    "Gradient descent steps against the gradient of the loss with a learning rate.",
)


def prepared_model(name: str, source: Path, models_dir: Path, max_length: int) -> Path:
    """The ONNX file for the model folder ``source``, exported first if needed.

    The stamp beside it records the recipe and both files by content, so a models folder
    that was copied or is shared through a link is reused as it is.
    """
    target = models_dir / f"{name}.onnx"
    stamp_file = models_dir / f"{name}.onnx.json"
    weights = source / WEIGHTS
    if target.is_file() and stamp_matches(stamp_file, {"recipe": RECIPE},
                                          {"source": weights, "target": target}):
        return target
    precision, agreement = export_int8(source, target, max_length)
    write_stamp(stamp_file, {"recipe": RECIPE, "source": file_record(weights),
                             "target": file_record(target), "precision": precision,
                             "agreement_with_fp32": round(agreement, 5)})
    return target


def export_int8(source: Path, target: Path, max_length: int) -> tuple[str, float]:
    """Export the transformer in ``source`` to ONNX and quantize it to int8 into ``target``.

    Eager attention exports as plain MatMul/Softmax nodes, which dynamic quantization
    handles (the SDPA export is slower once quantized). The int8 model is checked against
    PyTorch fp32 on this machine (int8 kernels differ between CPUs): below MIN_AGREEMENT the
    fp32 ONNX model is kept instead. Returns the precision kept and the agreement (mean
    cosine). Written atomically (temp + rename).
    """
    try:
        import onnx  # noqa: F401  (needed by the quantizer)
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise ModelError(f"preparing the int8 embedding model needs {exc.name}",
                         "reinstall Erica's dependencies: `bash scripts/setup.sh`") from exc
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    log.info("preparing %s: exporting to ONNX and quantizing to int8 (once)", target.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        model = AutoModel.from_pretrained(str(source), attn_implementation="eager",
                                          local_files_only=True).eval()
        tokenizer = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
    except Exception as exc:  # many library errors mean the same: files unusable
        raise ModelError(f"the embedding model in {source} cannot be loaded: {exc}",
                         "reinstall the model package (scripts/setup.sh)") from exc

    class LastHiddenState(torch.nn.Module):
        def __init__(self, bert) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    wrapped = LastHiddenState(model)
    check = tokenizer(list(CHECK_TEXTS), padding=True, truncation=True, max_length=max_length,
                      return_tensors="pt")
    axes = {n: {0: "batch", 1: "tokens"} for n in (*INPUTS, "hidden")}
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        fp32, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            # The reference comes first: after the (tracing) export the module in memory
            # no longer computes the same outputs (seen: cosine 0.93-0.97); the file does.
            hidden = wrapped(*(check[n] for n in INPUTS)).numpy()
            torch.onnx.export(wrapped, tuple(check[n] for n in INPUTS), str(fp32),
                              input_names=list(INPUTS), output_names=["hidden"],
                              dynamic_axes=axes, opset_version=17, dynamo=False)
            logging.disable(logging.WARNING)  # the quantizer advises on the root logger
            try:
                quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8,
                                 per_channel=True, nodes_to_exclude=_kept_fp32(fp32))
            finally:
                logging.disable(logging.NOTSET)
        reference = mean_pool(hidden, check["attention_mask"].numpy())
        got = OnnxSentenceEncoder(int8, source / "tokenizer.json", max_length)(CHECK_TEXTS)
        agreement = float((reference * got).sum(axis=1).mean())
        precision = "int8"
        if agreement < MIN_AGREEMENT:
            log.warning("int8 %s agrees with fp32 at only %.4f on this CPU: keeping fp32",
                        target.name, agreement)
            precision, int8 = "fp32", fp32
        os.replace(int8, target)
    return precision, agreement


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sentence-transformers' mean pooling over real tokens, then L2 normalisation."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def _kept_fp32(model_file: Path) -> list[str]:
    """MatMuls left in fp32: the first layer's feed-forward output, where int8 lost the most
    (mean cosine to fp32 0.9929 -> 0.9942 with it kept, at no measurable speed cost)."""
    import onnx

    graph = onnx.load(str(model_file), load_external_data=False).graph
    return [n.name for n in graph.node
            if n.op_type == "MatMul" and n.name.endswith("layer.0/output/dense/MatMul")]


class OnnxSentenceEncoder:
    """Tokenize, run the int8 transformer, mean-pool over real tokens, L2-normalise."""

    def __init__(self, model_file: Path, tokenizer_file: Path, max_length: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(max_length=max_length)
        pad = self._tokenizer.token_to_id("[PAD]")
        self._tokenizer.enable_padding(pad_id=0 if pad is None else pad, pad_token="[PAD]")
        options = ort.SessionOptions()
        # The CPUs this process may use (a container's share, not the host's count); more
        # than 8 threads only add synchronisation to a model this small.
        options.intra_op_num_threads = min(8, len(os.sched_getaffinity(0)))
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(model_file), options,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise ModelError(f"the prepared embedding model {model_file} is damaged: {exc}",
                             f"delete {model_file} and its .json stamp; it is made again "
                             "at the next start") from exc
        self.dim = int(self._session.get_outputs()[0].shape[-1])

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(list(texts))
        feeds = {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }
        return mean_pool(self._session.run(None, feeds)[0], feeds["attention_mask"])
