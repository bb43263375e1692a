"""What file names and a repo's name say: file parts, weight formats and shape, quantized names."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ptmgraph.records import WEIGHT_FORMATS
from ptmgraph.relations import WeightShape

# Adapter files (PEFT, diffusers LoRA conventions, single-file LoRAs), anywhere in the repo.
_ADAPTER_FILES = re.compile(
    r"(^|/)(adapter_config\.json|adapter_model\.(safetensors|bin)|pytorch_lora_weights\.(safetensors|bin))$"
    r"|(^|/)[^/]*(?<![a-z])lora(?![a-z])[^/]*\.(safetensors|bin|pt|pth|ckpt)$",
    re.IGNORECASE,
)
# Whole-model weight files, at the root or in a pipeline component folder (unet/, text_encoder/, onnx/ ...).
_FULL_WEIGHTS = re.compile(
    r"^([^/]+/)?(model|pytorch_model|diffusion_pytorch_model|consolidated|tf_model|flax_model)"
    r"([-.]\d+(-of-\d+)?)?\.(safetensors|bin|pth|pt|h5|msgpack|onnx)$",
    re.IGNORECASE,
)
# GGML weights in a `.bin` file (llama.cpp before GGUF): the file name says "ggml" (`ggml-model-q4_0.bin`,
# `x.ggmlv3.q4_0.bin`) or ends in a llama.cpp quantization type (`x.q4_0.bin`, `x-q5_K_M.bin`). Such a file is
# a flat tensor dump, not a pickle: loading it runs no code.
_GGML_BIN = re.compile(r"(?:ggml[^/]*|[._-]q[2-8]_(?:[01]|k(?:_[sml])?))\.bin$", re.IGNORECASE)
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pth", ".pt", ".h5", ".msgpack", ".onnx")
_TRAINING_STATE = re.compile(r"^(checkpoint|global_step|epoch|step)[-_]?\d+/", re.IGNORECASE)
# Files that only quantization tools write: EXL2's measurement, GPTQ's and AWQ's quantizer configs.
_QUANT_FILES = {"measurement.json": "exl2", "quantize_config.json": "gptq", "quant_config.json": "awq"}
# Quantization methods as they appear in repo names ("-GGUF", "-AWQ", "-4bit", "Q4_K_M", "4.0bpw", ...).
# Precision words (16bit, fp16, bf16, fp32, float16) are not quantization: they are not matched.
_QUANT_NAME = re.compile(
    r"(?<![a-z0-9])(gguf|ggml|gptq|awq|exl2|exl3|bnb|hqq|aqlm|eetq|mlx-?[1-8]-?bits?|[1-8]-?bits?|int[48]|"
    r"nf4|fp8|fp4|\d(\.\d+)?bpw|q[2-8](_k)?(_[msl])?|iq[1-4]_\w+|w4a16|w8a8)(?![a-z0-9])",
    re.IGNORECASE,
)


# The same patterns and tables under public names, for the columnar reader (sources/hub_columnar.py),
# which applies them with Polars and must agree with this module exactly.
FULL_WEIGHTS = _FULL_WEIGHTS
TRAINING_STATE = _TRAINING_STATE
GGML_BIN = _GGML_BIN
WEIGHT_SUFFIXES = _WEIGHT_SUFFIXES
QUANT_FILES = _QUANT_FILES


# What a file is to the model (file_part). Weights, config, tokenizer and code decide what a user loads;
# the card, images, licences, evaluation results and training state do not.
_TOKENIZER_FILE = re.compile(
    r"(^|/)(tokenizer[^/]*|special_tokens_map\.json|added_tokens\.json|vocab\.(json|txt)|merges\.txt|"
    r"[^/]*\.tiktoken|[^/]*sentencepiece[^/]*\.model|spiece\.model|chat_template\.(jinja|json)|"
    r"(preprocessor|processor|feature_extractor)_config\.json)$",
    re.IGNORECASE,
)
_CONFIG_FILE = re.compile(
    r"(^|/)([^/]*config[^/]*\.(json|ya?ml)|model_index\.json|params\.json|modules\.json|measurement\.json)$",
    re.IGNORECASE,
)
_WEIGHT_INDEX = re.compile(r"\.(safetensors|bin|pt|pth)\.index(\.[a-z0-9_]+)?\.json$", re.IGNORECASE)
_NOT_WEIGHTS = re.compile(
    r"(^|/)(training_args\.bin|optimizer\.(pt|bin)|scheduler\.pt|rng_state[^/]*\.pth|scaler\.pt)$", re.IGNORECASE
)
FILE_PARTS = ("weights", "config", "tokenizer", "code", "other")
"""What a file is to the model (:func:`file_part`); all but ``other`` change what a user loads."""


def file_part(path: str) -> str:
    """What the file at ``path`` is to the model: ``weights`` (a weight file, :data:`WEIGHT_FORMATS` or a GGML
    ``.bin``, or a shard index such as ``model.safetensors.index.json``; not a trainer's optimizer or
    arguments), ``tokenizer`` (tokenizer, vocabulary, chat template, processor), ``config``
    (``*config*.json``/``.yaml``, ``model_index.json``, ``params.json``, ...), ``code`` (``*.py``, which
    ``trust_remote_code`` runs) or ``other`` (card, images, licence, results, ...).
    Anything under a ``checkpoint-N/`` training state is ``other``."""
    if _TRAINING_STATE.match(path):
        return "other"
    lower = path.lower()
    if _TOKENIZER_FILE.search(path):
        return "tokenizer"
    if _CONFIG_FILE.search(path):
        return "config"
    if lower.endswith(".py"):
        return "code"
    if _WEIGHT_INDEX.search(path):  # which shard holds which tensor
        return "weights"
    if (lower.endswith(tuple(WEIGHT_FORMATS)) or _GGML_BIN.search(path)) and not _NOT_WEIGHTS.search(path):
        return "weights"
    return "other"


def weight_format(name: str) -> str | None:
    """The weight-format family of one file (see :data:`WEIGHT_FORMATS`), or None for other files.

    The one rule for every reader (the columnar reader applies the same suffix table and :data:`GGML_BIN`):
    the suffix decides, except that a ``.bin`` whose name shows GGML (:data:`GGML_BIN`) is ``ggml``, not
    ``pickle``. Other ``.bin`` files count as pickle: ``pytorch_model.bin``, and ``training_args.bin`` or
    ``optimizer.pt`` too, which execute code when loaded just the same.
    """
    lower = name.lower()
    for suffix, family in WEIGHT_FORMATS.items():
        if lower.endswith(suffix):
            return "ggml" if suffix == ".bin" and _GGML_BIN.search(name) else family
    return None


def weight_formats(files: Iterable[str]) -> list[str]:
    """Weight-format families present among ``files`` (:func:`weight_format` of each), sorted."""
    return sorted({family for family in map(weight_format, files) if family is not None})


def has_adapter_files(files: Iterable[str]) -> bool:
    # The substring test first: the pattern is slow, and most names hold neither word.
    return any(("adapter" in n or "lora" in n.lower()) and _ADAPTER_FILES.search(n) for n in files)


def has_full_weights(files: Iterable[str]) -> bool:
    """Whole-model weights at the root or in a component folder (not a ``checkpoint-N/`` training state)."""
    return any(
        n.endswith(_WEIGHT_SUFFIXES) and _FULL_WEIGHTS.match(n) and not ("/" in n and _TRAINING_STATE.match(n))
        for n in files
    )


def weight_shape(files: list[str], quantization: str | None) -> WeightShape:
    """What a repo's files show about its weights (:class:`~ptmgraph.relations.WeightShape`).

    ``quantization`` is the method its files or config show (:func:`quantization_hint`), or None when
    there is none or its base shares it. Adapter files win over a quantization config, since a QLoRA
    adapter may carry its base's ``config.json``.
    """
    if not files:
        return WeightShape.UNKNOWN
    full, adapter = has_full_weights(files), has_adapter_files(files)
    if adapter and not full and quantization not in ("gguf", "ggml"):
        return WeightShape.ADAPTER_ONLY
    if quantization is not None:
        return WeightShape.QUANTIZED
    if full:
        return WeightShape.MERGED_ADAPTER if adapter else WeightShape.FULL
    return WeightShape.NO_WEIGHTS


def has_merge_signs(files: Iterable[str], tags: Iterable[str]) -> bool:
    """A mergekit config among the files, or a ``merge`` / ``mergekit`` tag."""
    return any(n.rsplit("/", 1)[-1] == "mergekit_config.yml" for n in files) or bool(
        {t.lower() for t in tags} & {"merge", "mergekit", "merged-model"}
    )


def quantization_from_name(model_id: str) -> str | None:
    """The quantization method a repo name advertises (``TheBloke/X-GPTQ`` -> ``gptq``), or None."""
    match = _QUANT_NAME.search(model_id.rsplit("/", 1)[-1])
    if not match:
        return None
    word = match.group(1).lower()
    for method in ("gguf", "ggml", "gptq", "awq", "exl2", "exl3", "bnb", "hqq", "aqlm", "eetq", "mlx"):
        if word.startswith(method):
            return method
    return "exl2" if word.endswith("bpw") else word


# One word of a quantized copy's name suffix: methods, bit widths, GGUF/EXL2 levels, imatrix markers.
_SUFFIX_WORD = (r"(?:gguf|ggml|gptq|awq|exl2|exl3|mlx|bnb|hqq|aqlm|eetq|[1-8]-?bits?|int[48]|nf4|fp8|fp4|w4a16|"
                r"w8a8|\d(?:\.\d+)?bpw|h[4-8]|i?q[1-8](?:_[a-z0-9]{1,3}){0,2}|i1|imatrix|imat)")
_QUANT_SUFFIX = re.compile(rf"(?:[-_.]{_SUFFIX_WORD})+$", re.IGNORECASE)


NAME_KEY_DROP = r"[-_.]hf$"
"""What two model names may differ by and still name one model, after letter case: a trailing ``-hf`` (the
Hub's "converted to Transformers" mark, which quantizers drop: ``Llama-2-7b-chat-hf`` ->
``Llama-2-7B-Chat-GGUF``). A regular expression for Polars and ``re`` alike."""


def name_parent_stem(model_id: str) -> str | None:
    """The name a quantized copy's name says it copies: ``mradermacher/Foo-7B-i1-GGUF`` -> ``Foo-7B``.

    The name (after the author) ends in words of a quantization suffix (``-GGUF``, ``-GPTQ``, ``-AWQ``,
    ``-exl2``, ``-MLX``, ``-i1-GGUF``, ``-bnb-4bit``, ``-fp8``, ``-4.0bpw-h6-exl2``, ``-Q4_K_M-GGUF``, ...,
    any letter case), at least one of them a quantization marker (:func:`quantization_from_name`) or
    ``MLX`` (a conversion the Hub lists among quantizations); the stem is what is left, or None when
    nothing is. Rule ``name_parent`` (:mod:`ptmgraph.relations`)."""
    name = model_id.rsplit("/", 1)[-1]
    match = _QUANT_SUFFIX.search(name)
    if match is None or match.start() == 0:
        return None
    suffix = match.group(0)
    if not (_QUANT_NAME.search(suffix) or "mlx" in suffix.lower()):
        return None
    return name[: match.start()]
