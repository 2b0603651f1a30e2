"""Policy configuration: named presets, every field overridable, serialised with the checkpoint.

``tiny`` is trained from scratch on CPU in this repository; ``paligemma-3b-224`` has the exact
geometry of google/paligemma-3b-pt-224 and takes its weights from a local folder or hub id.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Optional

from transformers import GemmaConfig, PaliGemmaConfig, SiglipVisionConfig

from policy.model.geometry import CameraCalibration


@dataclass(frozen=True)
class PolicyConfig:
    """Everything needed to rebuild the policy network (not the weights)."""

    # Preset this config started from (informative; the fields below are what count).
    preset: str = "tiny"
    # Square image side fed to SigLIP, pixels; (image_size / patch_size)^2 image tokens.
    image_size: int = 96
    # SigLIP patch side, pixels.
    patch_size: int = 16
    # SigLIP width / depth / heads / MLP width.
    vision_hidden: int = 64
    vision_layers: int = 2
    vision_heads: int = 2
    vision_intermediate: int = 128
    # Gemma width / depth / query heads / key-value heads / MLP width / head dim.
    text_hidden: int = 128
    text_layers: int = 2
    text_heads: int = 4
    text_kv_heads: int = 1
    text_intermediate: int = 256
    head_dim: int = 32
    # Vocabulary size; for ``tiny`` it is set from the word-level tokenizer at build time.
    vocab_size: int = 1400
    # Token ids of special tokens (from the tokenizer).
    image_token_id: int = 4
    pad_token_id: int = 0
    bos_token_id: int = 1
    eos_token_id: int = 2
    state_token_id: int = 5
    # Actions per chunk emitted in one forward pass, and per-action width (dxyz, drpy, gripper).
    chunk_size: int = 8
    action_dim: int = 7
    # Proprio state width: ee xyz (m), ee rpy (rad), gripper opening 0..1.
    state_dim: int = 8
    # Hidden width of the action-head MLP.
    action_head_hidden: int = 256
    # The action head also reads the reasoning's TARGET/PLACE boxes as numbers
    # (policy/model/geometry.py); False for checkpoints trained before that input existed.
    head_geometry: bool = False
    # Calibration of the camera the demos were recorded with: the geometry input then also
    # holds each box's object position relative to the hand (policy/model/geometry.py). None = boxes
    # only. A robot running the checkpoint must see through a camera mounted the same way.
    geometry_camera: Optional[CameraCalibration] = None
    # Longest reasoning suffix the runtime will generate, tokens.
    max_reasoning_tokens: int = 128
    # String of the placeholder token whose embedding is replaced by the projected state.
    state_token: str = "<state>"
    # Local folder or hub id of pretrained PaliGemma weights (None = random init).
    pretrained: Optional[str] = None
    # From-scratch builds start with sine/cosine patch positions and loc-token embeddings
    # (policy/model/structured_init.py). Ignored when ``pretrained`` weights are loaded.
    structured_init: bool = False

    @property
    def num_image_tokens(self) -> int:
        return (self.image_size // self.patch_size) ** 2

    def replace(self, **overrides: Any) -> "PolicyConfig":
        unknown = set(overrides) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown PolicyConfig fields: {sorted(unknown)}")
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PolicyConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"config has fields this code does not know: {sorted(unknown)}")
        data = dict(data)
        if isinstance(data.get("geometry_camera"), dict):
            data["geometry_camera"] = CameraCalibration.from_dict(data["geometry_camera"])
        return cls(**data)

    def backbone_config(self) -> PaliGemmaConfig:
        """The transformers PaliGemmaConfig for this geometry."""
        vision = SiglipVisionConfig(
            hidden_size=self.vision_hidden,
            intermediate_size=self.vision_intermediate,
            num_hidden_layers=self.vision_layers,
            num_attention_heads=self.vision_heads,
            image_size=self.image_size,
            patch_size=self.patch_size,
            vision_use_head=False,
        )
        text = GemmaConfig(
            vocab_size=self.vocab_size,
            hidden_size=self.text_hidden,
            intermediate_size=self.text_intermediate,
            num_hidden_layers=self.text_layers,
            num_attention_heads=self.text_heads,
            num_key_value_heads=self.text_kv_heads,
            head_dim=self.head_dim,
            pad_token_id=self.pad_token_id,
            bos_token_id=self.bos_token_id,
            eos_token_id=self.eos_token_id,
        )
        # projection_dim must equal the text width (NOTES): image features land in text space.
        return PaliGemmaConfig(
            vision_config=vision,
            text_config=text,
            image_token_index=self.image_token_id,
            vocab_size=self.vocab_size,
            projection_dim=self.text_hidden,
            hidden_size=self.text_hidden,
            pad_token_id=self.pad_token_id,
        )


#: Named presets (openpi style): pick by name, override any field.
PRESETS: dict[str, PolicyConfig] = {
    # 0.6 M params: trains from scratch on one CPU core (the first embedded checkpoint).
    "tiny": PolicyConfig(structured_init=True),
    # 3.3 M params, 8-px patches (144 image tokens): the embedded default, trained on a GPU in
    # minutes (or on CPU in hours); ~13 MB of float32 safetensors, runs on a laptop CPU.
    "small": PolicyConfig(
        preset="small",
        patch_size=8,
        vision_hidden=128,
        vision_layers=4,
        vision_heads=4,
        vision_intermediate=512,
        text_hidden=256,
        text_layers=4,
        text_heads=4,
        text_kv_heads=1,
        text_intermediate=512,
        head_dim=64,
        action_head_hidden=512,
        structured_init=True,
    ),
    # google/paligemma-3b-pt-224: SigLIP So400m/14 at 224 px (256 image tokens) + Gemma 2B.
    "paligemma-3b-224": PolicyConfig(
        preset="paligemma-3b-224",
        image_size=224,
        patch_size=14,
        vision_hidden=1152,
        vision_layers=27,
        vision_heads=16,
        vision_intermediate=4304,
        text_hidden=2048,
        text_layers=18,
        text_heads=8,
        text_kv_heads=1,
        text_intermediate=16384,
        head_dim=256,
        vocab_size=257216,
        image_token_id=257152,
        pad_token_id=0,
        bos_token_id=2,
        eos_token_id=1,
        state_token_id=7,  # "<unused0>" in the Gemma vocabulary
        chunk_size=8,
        action_head_hidden=1024,
        max_reasoning_tokens=160,
        state_token="<unused0>",
        pretrained="google/paligemma-3b-pt-224",
    ),
}


#: Presets meant to be trained here from random weights (no pretrained checkpoint exists).
FROM_SCRATCH_PRESETS = frozenset({"tiny", "small"})


def make_config(preset: str, **overrides: Any) -> PolicyConfig:
    """Preset by name with field overrides, e.g. ``make_config("tiny", chunk_size=12)``."""
    if preset not in PRESETS:
        raise KeyError(f"unknown policy preset {preset!r}; known: {sorted(PRESETS)}")
    return PRESETS[preset].replace(**overrides)


def presets() -> list[str]:
    return sorted(PRESETS)


__all__ = ["FROM_SCRATCH_PRESETS", "PolicyConfig", "PRESETS", "make_config", "presets"]
