"""LoRA adapters through peft: language model only by default, optionally the vision tower.

Target modules are chosen by a regex on the module path, because bare names such as
``q_proj`` also match SigLIP's attention (NOTES). The state projection, action queries and
action head are new layers without pretrained weights, so they train fully
(``modules_to_save``). An adapter folder holds peft's ``adapter_model.safetensors`` +
``adapter_config.json``; :func:`merge_lora` folds the adapters into plain weights so the result
saves as an ordinary checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from policy.model.modeling import VLAModel

LM_PROJECTIONS = "q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj"
VISION_PROJECTIONS = "q_proj|k_proj|v_proj|out_proj|fc1|fc2"
#: New (non-pretrained) parts of VLAModel that always train in full.
HEAD_MODULES = ["state_proj", "action_queries", "action_head"]


@dataclass(frozen=True)
class LoraSettings:
    """Rank, scaling and where adapters go."""

    # Rank of the low-rank update.
    rank: int = 16
    # Scale numerator: the update is (alpha / rank) * B @ A.
    alpha: int = 32
    dropout: float = 0.0
    # Also adapt the SigLIP vision tower (default: language model only).
    vision: bool = False

    def target_regex(self) -> str:
        parts = [rf".*language_model.*\.({LM_PROJECTIONS})"]
        if self.vision:
            parts.append(rf".*vision_tower.*\.({VISION_PROJECTIONS})")
        return "|".join(f"({p})" for p in parts)


def apply_lora(model: VLAModel, settings: LoraSettings = LoraSettings()) -> nn.Module:
    """Wrap ``model`` with LoRA adapters; only adapters and the head modules stay trainable."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=settings.target_regex(),
        modules_to_save=list(HEAD_MODULES),
    )
    return get_peft_model(model, config)


def adapted_module_names(peft_model: nn.Module) -> list[str]:
    """Paths of modules that received a LoRA adapter (for checks and reports)."""
    return sorted({name.rsplit(".lora_A", 1)[0] for name, _ in peft_model.named_modules() if name.endswith(".lora_A")})


def trainable_fraction(model: nn.Module) -> float:
    total = sum(p.numel() for p in model.parameters())
    train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return train / max(total, 1)


def save_adapter(peft_model: nn.Module, folder: str | Path) -> Path:
    """Write only the adapter (and head) weights."""
    folder = Path(folder)
    peft_model.save_pretrained(str(folder))
    return folder


def load_adapter(model: VLAModel, folder: str | Path, *, trainable: bool = False) -> nn.Module:
    """Attach a saved adapter to a base model with the same geometry."""
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(folder), is_trainable=trainable)


def merge_lora(peft_model: nn.Module) -> VLAModel:
    """Fold adapters into the base weights; returns a plain VLAModel."""
    merged = peft_model.merge_and_unload()
    if not isinstance(merged, VLAModel):
        raise TypeError(f"merge produced {type(merged).__name__}, expected VLAModel")
    return merged
