"""The VLA network: PaliGemma backbone + proprio state token + parallel action-chunk head.

Sequence layout (B = batch, N = image tokens, C = chunk size, H = text width)::

    [image x N] <bos> prompt <state> \\n | reasoning <eos> | [action query x C] [pad ...]
    token types: 0 ........................ 0 | 1 ...............1 | 1 ..................1

* The ``<state>`` placeholder's embedding is replaced by ``state_proj(state)`` (B, 8) -> (B, H).
* The C action-query embeddings are learned (OpenVLA-OFT style); they sit after the reasoning,
  so the causal suffix lets them read the image, prompt, state and the chain of thought. Their
  last hidden states go through an MLP to C x 7 continuous (normalised) actions in ONE forward;
  with ``config.head_geometry`` that MLP also reads the reasoning's TARGET/PLACE boxes as numbers
  (``GeometryActionHead``, ``policy/model/geometry.py``).
* token_type_ids make the prefix bidirectional and the suffix causal (PaliGemma prefix-LM).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Optional

import torch
from torch import nn
from transformers import PaliGemmaForConditionalGeneration

from policy.model.config import FROM_SCRATCH_PRESETS, PolicyConfig
from policy.model.kv_cache import crop
from policy.model.geometry import geometry_dim


@dataclass
class VLAOutput:
    """Forward result: next-token logits (B, L, V) or None, normalised actions (B, C, 7) or None."""

    logits: Optional[torch.Tensor]
    actions: Optional[torch.Tensor]
    hidden: torch.Tensor  # (B, L, H) final-norm hidden states


class ActionHead(nn.Module):
    """Per-query MLP: (B, C, H) hidden states -> (B, C, action_dim) normalised actions."""

    def __init__(self, hidden: int, width: int, action_dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(hidden), nn.Linear(hidden, width), nn.GELU(), nn.Linear(width, action_dim)
        )

    def forward(self, h: torch.Tensor, geometry: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``geometry`` is ignored (this head has no such input)."""
        return self.net(h)


class GeometryActionHead(nn.Module):
    """Action head that also reads the reasoning's TARGET/PLACE boxes as numbers.

    (B, C, H) hidden states and a (B, geometry_dim) vector (``policy/model/geometry.py``) ->
    (B, C, action_dim): both are projected to the MLP width and added, then two more layers.
    A separate path for the boxes because a small network decodes positions from ``<loc>``
    tokens through attention poorly (see ``policy/model/geometry.py``); with the extra layer the
    held-out carry error of a refit was 1.2 cm, against 1.9 cm for the boxes added into the
    one-layer head."""

    def __init__(self, hidden: int, width: int, action_dim: int, geometry_dim: int) -> None:
        super().__init__()
        self.geometry_dim = geometry_dim
        self.hidden_in = nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, width))
        self.geometry_in = nn.Sequential(nn.Linear(geometry_dim, width), nn.GELU(), nn.Linear(width, width))
        self.out = nn.Sequential(nn.GELU(), nn.Linear(width, width), nn.GELU(), nn.Linear(width, action_dim))

    def forward(self, h: torch.Tensor, geometry: Optional[torch.Tensor] = None) -> torch.Tensor:
        if geometry is None or tuple(geometry.shape) != (h.shape[0], self.geometry_dim):
            got = None if geometry is None else tuple(geometry.shape)
            raise ValueError(f"this action head reads a ({h.shape[0]}, {self.geometry_dim}) geometry vector "
                             f"(policy/model/geometry.py), got {got}")
        return self.out(self.hidden_in(h) + self.geometry_in(geometry.to(h.dtype)).unsqueeze(1))


def make_action_head(config: PolicyConfig) -> nn.Module:
    """The head ``config`` asks for: with the geometry input or without."""
    if config.head_geometry:
        return GeometryActionHead(config.text_hidden, config.action_head_hidden, config.action_dim, geometry_dim(config))
    return ActionHead(config.text_hidden, config.action_head_hidden, config.action_dim)


class VLAModel(nn.Module):
    """PaliGemma with a state input and an action-chunk head (see module docstring)."""

    def __init__(self, config: PolicyConfig, backbone: Optional[PaliGemmaForConditionalGeneration] = None):
        super().__init__()
        self.config = config
        self.backbone = backbone if backbone is not None else PaliGemmaForConditionalGeneration(config.backbone_config())
        hidden = config.text_hidden
        self.state_proj = nn.Sequential(nn.Linear(config.state_dim, hidden), nn.GELU(), nn.Linear(hidden, hidden))
        self.action_queries = nn.Embedding(config.chunk_size, hidden)
        self.action_head = make_action_head(config)
        # transformers 5.24 calls the KV cache ``cache``; 5.17 still ``past_key_values``.
        params = inspect.signature(self.backbone.model.forward).parameters
        self._cache_kwarg = "cache" if "cache" in params else "past_key_values"

    # -- embedding -------------------------------------------------------------------------
    def embed(
        self,
        input_ids: torch.Tensor,
        pixel_values: Optional[torch.Tensor],
        state: Optional[torch.Tensor],
        action_mask: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """Token embeddings with image features, projected state and action queries scattered in.

        input_ids (B, L); pixel_values (B, 3, S, S) in [-1, 1]; state (B, state_dim) normalised;
        action_mask (B, L) bool with exactly C True per row (or None).
        """
        cfg = self.config
        embeds = self.backbone.get_input_embeddings()(input_ids)
        if pixel_values is not None:
            image_mask = input_ids == cfg.image_token_id
            n_img = int(image_mask.sum())
            if n_img != input_ids.shape[0] * cfg.num_image_tokens:
                raise ValueError(f"expected {cfg.num_image_tokens} image tokens per row, found {n_img} in total")
            feats = self.backbone.model.get_image_features(pixel_values.to(embeds.dtype)).pooler_output
            embeds = embeds.masked_scatter(image_mask.unsqueeze(-1), feats.to(embeds.dtype))
        if state is not None:
            state_mask = input_ids == cfg.state_token_id
            if not bool(state_mask.any()):
                raise ValueError("state given but the sequence has no state token")
            # One state token per row: scatter the (B, H) projection into those positions.
            proj = self.state_proj(state.to(embeds.dtype))
            embeds = torch.where(state_mask.unsqueeze(-1), proj.unsqueeze(1).expand_as(embeds), embeds)
        if action_mask is not None:
            queries = self.action_queries.weight.to(embeds.dtype)  # (C, H)
            B = input_ids.shape[0]
            embeds = embeds.masked_scatter(action_mask.unsqueeze(-1), queries.unsqueeze(0).expand(B, -1, -1))
        return embeds

    # -- forward ---------------------------------------------------------------------------
    def run_backbone(
        self,
        inputs_embeds: torch.Tensor,
        token_type_ids: Optional[torch.Tensor],
        attention_mask: Optional[torch.Tensor] = None,
        cache: Any = None,
    ) -> torch.Tensor:
        """Language model over ready embeddings; returns (B, L, H) final hidden states."""
        kwargs = {self._cache_kwarg: cache, "use_cache": cache is not None}
        out = self.backbone.model(
            inputs_embeds=inputs_embeds,
            token_type_ids=token_type_ids,
            attention_mask=attention_mask,
            **kwargs,
        )
        return out.last_hidden_state

    def forward(
        self,
        input_ids: torch.Tensor,
        token_type_ids: torch.Tensor,
        pixel_values: Optional[torch.Tensor] = None,
        state: Optional[torch.Tensor] = None,
        attention_mask: Optional[torch.Tensor] = None,
        action_mask: Optional[torch.Tensor] = None,
        compute_logits: bool = True,
        geometry: Optional[torch.Tensor] = None,
    ) -> VLAOutput:
        """Full-sequence forward. ``compute_logits=False`` skips the (B, L, V) vocabulary
        projection (training projects only the scored positions, the costliest matmul).
        ``geometry`` (B, geometry_dim(config)): the reasoning's boxes, for a ``head_geometry`` head."""
        embeds = self.embed(input_ids, pixel_values, state, action_mask)
        hidden = self.run_backbone(embeds, token_type_ids, attention_mask)
        logits = self.backbone.lm_head(hidden) if compute_logits else None
        actions = None
        if action_mask is not None:
            B = input_ids.shape[0]
            actions = self.action_head(hidden[action_mask].view(B, self.config.chunk_size, -1), geometry)
        return VLAOutput(logits=logits, actions=actions, hidden=hidden)

    def predict_actions_from_cache(self, cache: Any, geometry: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Append the C action queries after a cached prefix(+reasoning); (1, C, 7) normalised.

        One forward over C tokens. The cache is cropped back afterwards so it can be reused.
        """
        queries = self.action_queries.weight.unsqueeze(0)  # (1, C, H)
        types = torch.ones(1, self.config.chunk_size, dtype=torch.long, device=queries.device)
        hidden = self.run_backbone(queries, types, None, cache)
        crop(cache, self.config.chunk_size)
        return self.action_head(hidden, geometry)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def build_model(config: PolicyConfig, *, dtype: torch.dtype = torch.float32, weights_follow: bool = False) -> VLAModel:
    """New model for ``config``; backbone weights from ``config.pretrained`` when it is set.

    With ``pretrained`` None the backbone is randomly initialised, which is right for ``tiny``
    (trained here) and only for timing the big geometry; that case warns loudly unless
    ``weights_follow`` says the caller loads trained weights next (a checkpoint).
    """
    if config.pretrained:
        backbone = PaliGemmaForConditionalGeneration.from_pretrained(config.pretrained, dtype=dtype)
        return VLAModel(config, backbone).to(dtype)
    if config.preset not in FROM_SCRATCH_PRESETS and not weights_follow:
        import warnings

        warnings.warn(
            f"!!! {config.preset}: RANDOMLY INITIALISED backbone (no pretrained weights); "
            "fit for timing benchmarks only, it will not act sensibly !!!",
            stacklevel=2,
        )
    return VLAModel(config).to(dtype)
