"""Checkpoint folders: safetensors weights + config + tokenizer + normalisation statistics.

Layout of a checkpoint folder::

    model.safetensors    network weights (backbone, state projection, action queries, head)
    config.json          {"policy": PolicyConfig fields, "tokenizer_fingerprint": ..., "meta": {...}}
    tokenizer.json ...   the tokenizer (transformers save_pretrained files)
    stats.json           action/state normalisation statistics (policy.model.normalize)
    namer.safetensors    optional: the object namer (policy/model/object_namer.py) and its
    namer.json           config, written by ``main.py train-namer``

:func:`load_checkpoint` checks that the parts agree and raises :class:`CheckpointError` with a
message that names the part at fault (missing file, corrupt weights, another tokenizer, stats of
the wrong width).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import torch
from transformers import PreTrainedTokenizerBase

from policy.model.config import PolicyConfig
from policy.model.modeling import VLAModel, build_model
from policy.model.normalize import CheckpointError, NormStats
from policy.model.object_namer import ObjectNamer, load_namer
from policy.model.tokenizer import tokenizer_fingerprint

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
FORMAT_VERSION = 1


@dataclass
class LoadedPolicy:
    """Everything a runtime needs, loaded and cross-checked."""

    model: VLAModel
    tokenizer: PreTrainedTokenizerBase
    stats: NormStats
    config: PolicyConfig
    meta: dict[str, Any] = field(default_factory=dict)
    # The second look at listed objects; None when the folder has none.
    namer: Optional[ObjectNamer] = None


def special_token_ids(tokenizer: PreTrainedTokenizerBase, state_token: str) -> dict[str, int]:
    """The token ids a PolicyConfig must carry for this tokenizer."""
    ids = {
        "image_token_id": tokenizer.convert_tokens_to_ids("<image>"),
        "state_token_id": tokenizer.convert_tokens_to_ids(state_token),
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
    }
    return {k: int(v) for k, v in ids.items() if v is not None}


def save_checkpoint(
    folder: str | Path,
    model: VLAModel,
    tokenizer: PreTrainedTokenizerBase,
    stats: NormStats,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write all four parts; returns the folder."""
    from safetensors.torch import save_model

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stats.check(model.config.action_dim, model.config.state_dim)
    save_model(model, str(folder / WEIGHTS_FILE))
    tokenizer.save_pretrained(str(folder))
    stats.save(folder)
    payload = {
        "format_version": FORMAT_VERSION,
        "policy": model.config.to_dict(),
        "tokenizer_fingerprint": tokenizer_fingerprint(tokenizer),
        "meta": meta or {},
    }
    (folder / CONFIG_FILE).write_text(json.dumps(payload, indent=1))
    return folder


def read_config(folder: str | Path) -> tuple[PolicyConfig, dict[str, Any]]:
    """Parse config.json -> (PolicyConfig, whole payload)."""
    path = Path(folder) / CONFIG_FILE
    if not path.exists():
        raise CheckpointError(f"{path} is missing: {folder} is not a policy checkpoint folder")
    try:
        payload = json.loads(path.read_text())
        return PolicyConfig.from_dict(payload["policy"]), payload
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a valid policy config: {exc}") from exc


def load_tokenizer(folder: str | Path) -> PreTrainedTokenizerBase:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(folder))
    except (OSError, ValueError, TypeError) as exc:
        raise CheckpointError(f"no loadable tokenizer in {folder}: {exc}") from exc


def load_checkpoint(folder: str | Path, *, device: str = "cpu", dtype: torch.dtype = torch.float32) -> LoadedPolicy:
    """Load and cross-check a checkpoint folder (see module docstring)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_model

    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint folder {folder} does not exist")
    config, payload = read_config(folder)
    tokenizer = load_tokenizer(folder)
    fingerprint = tokenizer_fingerprint(tokenizer)
    if fingerprint != payload.get("tokenizer_fingerprint"):
        raise CheckpointError(
            f"the tokenizer in {folder} (fingerprint {fingerprint}) is not the one the weights were "
            f"trained with ({payload.get('tokenizer_fingerprint')}): token ids would mean different words"
        )
    expected = special_token_ids(tokenizer, config.state_token)
    wrong = {k: (getattr(config, k), v) for k, v in expected.items() if getattr(config, k) != v}
    if wrong:
        raise CheckpointError(f"config and tokenizer disagree on special token ids (config, tokenizer): {wrong}")
    if len(tokenizer) > config.vocab_size:
        raise CheckpointError(f"tokenizer has {len(tokenizer)} tokens but the model only {config.vocab_size}")
    stats = NormStats.load(folder)
    stats.check(config.action_dim, config.state_dim)
    weights = folder / WEIGHTS_FILE
    if not weights.exists():
        raise CheckpointError(f"{weights} is missing")
    # The config says which geometry; weights come from this folder, never from the hub.
    model = build_model(config.replace(pretrained=None), weights_follow=True)
    try:
        missing, unexpected = load_model(model, str(weights), strict=False, device=device)
    except (SafetensorError, OSError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{weights} is corrupt or does not fit the config: {exc}") from exc
    # lm_head is tied to the input embeddings and may be stored once.
    missing = [k for k in missing if not k.endswith("lm_head.weight")]
    if missing or unexpected:
        raise CheckpointError(f"{weights} does not match the config: missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.to(device=device, dtype=dtype).eval()
    namer = load_namer(folder, config.image_size, device=device)
    return LoadedPolicy(model=model, tokenizer=tokenizer, stats=stats, config=config, meta=payload.get("meta", {}),
                        namer=namer)
