"""SigLIP joint image-text embedder: words and object crops in one space, sigmoid-calibrated.

:class:`SiglipEmbedder` wraps any ``transformers.SiglipModel`` checkpoint (a local folder such as
``checkpoints/siglip`` or a hub id such as ``google/siglip-base-patch16-224`` on a machine that
has it) with its tokenizer and image processor. SigLIP scores a (text, image) pair as
``sigmoid(exp(logit_scale) * cos(text, image) + logit_bias)``, a probability learnt with the
pairwise sigmoid loss, so scores are comparable across calls without a softmax over a batch.

Contract:
  * images are ``uint8`` arrays ``(H, W, 3)`` (RGB, any size; the processor resizes);
  * embeddings are ``float32`` numpy arrays ``(N, D)`` with unit L2 norm;
  * :meth:`similarity` returns ``(n_texts, n_images)`` probabilities in ``[0, 1]``;
  * a missing, corrupt or mismatched checkpoint raises :class:`CheckpointError` saying what is
    wrong, never a silently random-initialised model.

Text is padded to the model's fixed length (``max_position_embeddings``) and sent without an
attention mask, as SigLIP was trained: it pools the text at the last position.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

#: Folder of the small SigLIP trained on sim renders by ``python main.py train-siglip``.
DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "siglip"
#: Most text embeddings kept (each D floats); beyond it the cache starts over.
TEXT_CACHE_SIZE = 4096


class CheckpointError(RuntimeError):
    """A SigLIP checkpoint is missing, corrupt or does not match its tokenizer/processor."""


class SiglipEmbedder:
    """Embeds texts and RGB crops with a SigLIP model; see the module docstring for the contract."""

    def __init__(self, model: Any, tokenizer: Any, image_processor: Any, *, source: str = "") -> None:
        import torch

        self.model = model.eval()
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        #: where the weights came from (folder or hub id), for reports
        self.source = source
        #: fixed text length (tokens) the model was trained with
        self.max_length = int(model.config.text_config.max_position_embeddings)
        self._device = next(model.parameters()).device
        self._torch = torch
        # Captions repeat every step ("a red cube", the colour/shape vocabulary): cache them.
        self._text_cache: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ loading / saving
    @classmethod
    def from_pretrained(cls, path_or_hub_id: str | Path = DEFAULT_CHECKPOINT, *, device: str = "cpu") -> "SiglipEmbedder":
        """Load model + tokenizer + image processor from a folder or hub id; check they agree."""
        from transformers import AutoTokenizer, SiglipConfig, SiglipModel
        from transformers.models.siglip import SiglipImageProcessorPil

        source = str(path_or_hub_id)
        local = Path(source)
        # Anything that exists or looks like a path is a folder; "org/name" is a hub id.
        if local.exists() or source.startswith((".", "/", "~")) or source.count("/") > 1:
            if not local.is_dir():
                raise CheckpointError(f"SigLIP checkpoint folder {source!r} does not exist "
                                      "(train one with `python main.py train-siglip` or pass a hub id)")
            config_file = local / "config.json"
            if not config_file.is_file():
                raise CheckpointError(f"{source}: no config.json; not a transformers checkpoint folder")
            try:
                payload = json.loads(config_file.read_text(encoding="utf-8"))
            except UnicodeDecodeError as exc:
                raise CheckpointError(f"{config_file}: not a UTF-8 text file (byte {exc.start}: {exc.reason}); "
                                      "is it corrupt?") from None
            except json.JSONDecodeError as exc:
                raise CheckpointError(f"{config_file} is not valid JSON: {exc}") from None
            if not isinstance(payload, dict):
                raise CheckpointError(f"{config_file}: expected a JSON object, got {type(payload).__name__}")
            model_type = payload.get("model_type")
            if model_type != "siglip":
                raise CheckpointError(f"{source} holds a {model_type!r} model, expected 'siglip' (SiglipModel)")
        try:
            config = SiglipConfig.from_pretrained(source)
            model, info = SiglipModel.from_pretrained(source, config=config, output_loading_info=True)
        except CheckpointError:
            raise
        except Exception as exc:  # transformers raises OSError/ValueError/SafetensorError variously
            raise CheckpointError(f"cannot load SigLIP weights from {source!r}: {type(exc).__name__}: {exc}") from exc
        bad = {k: v for k, v in info.items() if k in ("missing_keys", "mismatched_keys") and v}
        if bad:
            raise CheckpointError(f"SigLIP weights in {source!r} do not match its config: {_short(bad)}")
        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
        except Exception as exc:
            raise CheckpointError(f"cannot load the tokenizer of {source!r} ({type(exc).__name__}: {exc}); "
                                  "hub SigLIP tokenizers need `pip install sentencepiece`") from exc
        try:
            image_processor = SiglipImageProcessorPil.from_pretrained(source)
        except Exception as exc:
            raise CheckpointError(f"cannot load the image processor of {source!r}: {exc}") from exc
        _check_consistent(source, config, tokenizer, image_processor)
        return cls(model.to(device), tokenizer, image_processor, source=source)

    def save_pretrained(self, folder: str | Path) -> None:
        """Write weights (safetensors), config, tokenizer and image processor to ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
        self.image_processor.save_pretrained(folder)

    # ------------------------------------------------------------------ embedding
    @property
    def dim(self) -> int:
        """Embedding width D."""
        return int(self.model.config.text_config.projection_size or self.model.config.text_config.hidden_size)

    def pixel_values(self, images: Sequence[np.ndarray]) -> Any:
        """Crops -> (N, 3, S, S) float tensor, normalised as the checkpoint expects."""
        arrays = [_as_rgb_uint8(im) for im in images]
        batch = self.image_processor(images=arrays, return_tensors="pt")
        return batch["pixel_values"].to(self._device)

    def input_ids(self, texts: Sequence[str]) -> Any:
        """Texts -> (N, max_length) token ids, padded to the fixed length (no attention mask)."""
        batch = self.tokenizer(list(texts), padding="max_length", truncation=True,
                               max_length=self.max_length, return_tensors="pt")
        return batch["input_ids"].to(self._device)

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB crops ``(H, W, 3)`` uint8 -> (N, D) unit-norm float32 embeddings."""
        if len(images) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._torch.inference_mode():
            pooled = self.model.vision_model(pixel_values=self.pixel_values(images)).pooler_output
        return _unit(pooled.float().cpu().numpy())

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Texts -> (N, D) unit-norm float32 embeddings (cached per string)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._text_cache]
        if len(self._text_cache) + len(missing) > TEXT_CACHE_SIZE:
            self._text_cache.clear()  # a long session's one-off phrasings; the vocabulary refills fast
        if missing:
            with self._torch.inference_mode():
                pooled = self.model.text_model(input_ids=self.input_ids(missing)).pooler_output
            for text, row in zip(missing, _unit(pooled.float().cpu().numpy())):
                self._text_cache[text] = row
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._text_cache[t] for t in texts])

    def clear_cache(self) -> None:
        """Forget cached text embeddings (after the weights change, e.g. during training)."""
        self._text_cache.clear()

    # ------------------------------------------------------------------ scores
    def probabilities(self, text_embeds: np.ndarray, image_embeds: np.ndarray) -> np.ndarray:
        """(T, D) x (I, D) embeddings -> (T, I) sigmoid probabilities with the model's scale/bias."""
        scale = float(self.model.logit_scale.detach().exp())
        bias = float(self.model.logit_bias.detach())
        logits = scale * (np.asarray(text_embeds) @ np.asarray(image_embeds).T) + bias
        return 1.0 / (1.0 + np.exp(-logits))

    def similarity(self, texts: Sequence[str], images: Sequence[np.ndarray]) -> np.ndarray:
        """Probability that each text describes each image: (len(texts), len(images)) in [0, 1]."""
        return self.probabilities(self.embed_texts(texts), self.embed_images(images))


def _check_consistent(source: str, config: Any, tokenizer: Any, image_processor: Any) -> None:
    """Fail loudly when the tokenizer or processor does not fit the model's config."""
    vocab = int(config.text_config.vocab_size)
    if len(tokenizer) > vocab:
        raise CheckpointError(f"{source}: tokenizer has {len(tokenizer)} tokens but the model's text "
                              f"embedding has only {vocab} rows (tokenizer from another checkpoint?)")
    size = image_processor.size or {}
    side = size.get("height") or size.get("shortest_edge")
    expected = int(config.vision_config.image_size)
    if side is not None and int(side) != expected:
        raise CheckpointError(f"{source}: image processor resizes to {side} px but the vision model "
                              f"expects {expected} px (processor from another checkpoint?)")


def _as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3) RGB crop, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {arr.dtype}")
    return np.ascontiguousarray(arr[:, :, :3])


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.clip(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12, None)).astype(np.float32)


def _short(info: dict[str, Any], limit: int = 5) -> str:
    return "; ".join(f"{k}: {list(v)[:limit]}{' ...' if len(v) > limit else ''}" for k, v in info.items())
