"""python main.py train-siglip: train the small SigLIP embedder from scratch on sim renders.

Renders ``--train-scenes`` tabletop scenes (perception.crops, jittered light/view/resolution),
trains a ``transformers.SiglipModel`` (two 3-layer towers, ~0.25 M parameters, 32 px crops,
word-level tokenizer) with the pairwise sigmoid loss, and writes a complete checkpoint folder
(safetensors weights, config, tokenizer, image processor) that ``SiglipEmbedder.from_pretrained``
loads. Then, on ``--heldout-scenes`` renders with new seeds, light azimuths and viewpoints, it
measures zero-shot colour/shape accuracy (argmax over the 48 'a <colour> <shape>' captions),
calibrates the consistency threshold on one half and reports it on the other; both go into
``training.json`` / ``consistency.json`` beside the weights.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from perception.crops import ObjectCrop, Split, render_crops
from perception.siglip import DEFAULT_CHECKPOINT, SiglipEmbedder
from perception.siglip_captions import all_canonical_captions, random_caption, vocabulary, wrong_caption

#: Scene seeds: training renders, held-out renders (tests use a third range, 3_000_000+).
TRAIN_SEED_BASE = 1_000_000
HELDOUT_SEED_BASE = 2_000_000
PAD, UNK, EOS = "<pad>", "<unk>", "</s>"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=DEFAULT_CHECKPOINT, help="checkpoint folder to write")
    parser.add_argument("--train-scenes", type=int, default=1500, help="scenes rendered for training")
    parser.add_argument("--heldout-scenes", type=int, default=400, help="scenes rendered for evaluation")
    parser.add_argument("--steps", type=int, default=4500, help="optimiser steps")
    parser.add_argument("--batch", type=int, default=64, help="crops (and captions) per step")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak AdamW learning rate (2e-3 collapsed)")
    parser.add_argument("--width", type=int, default=64, help="hidden size of both towers")
    parser.add_argument("--layers", type=int, default=3, help="transformer layers per tower (2 underfits shape)")
    parser.add_argument("--image-size", type=int, default=32, help="crop side fed to the model (pixels)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (the machine is shared)")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="skip training: measure the checkpoint in --out and recalibrate its threshold")
    parser.add_argument("--crop-cache", type=Path, default=None,
                        help="folder to keep rendered crops in (.npz per split), reused when present")


def build_tokenizer(words: Sequence[str], max_length: int) -> Any:
    """Word-level fast tokenizer: lower-cases, drops punctuation, appends </s>, pads with <pad>."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate([PAD, UNK, EOS, *words])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    tok.normalizer = normalizers.Sequence([normalizers.Lowercase(), normalizers.Replace(Regex("[^a-z ]"), " ")])
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(single=f"$A {EOS}", special_tokens=[(EOS, vocab[EOS])])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token=UNK, pad_token=PAD, eos_token=EOS,
                                   model_max_length=max_length, padding_side="right")


def build_embedder(args: argparse.Namespace, max_length: int = 16) -> SiglipEmbedder:
    """Fresh (random) SigLIP with its tokenizer and image processor."""
    import torch
    from transformers import SiglipConfig, SiglipModel
    from transformers.models.siglip import SiglipImageProcessorPil

    tokenizer = build_tokenizer(vocabulary(), max_length)
    width, heads = args.width, max(1, args.width // 16)
    text = dict(vocab_size=len(tokenizer), hidden_size=width, intermediate_size=2 * width,
                num_hidden_layers=args.layers, num_attention_heads=heads, max_position_embeddings=max_length,
                pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.eos_token_id,
                eos_token_id=tokenizer.eos_token_id)
    vision = dict(hidden_size=width, intermediate_size=2 * width, num_hidden_layers=args.layers,
                  num_attention_heads=heads, image_size=args.image_size, patch_size=4)
    model = SiglipModel(SiglipConfig(text_config=text, vision_config=vision))
    # The paper's init (t' = log 10, b = -10); transformers zeroes both, which starts every
    # pair at p = 0.5 with a temperature too flat to learn from quickly.
    with torch.no_grad():
        model.logit_scale.fill_(math.log(10.0))
        model.logit_bias.fill_(-10.0)
    processor = SiglipImageProcessorPil(size={"height": args.image_size, "width": args.image_size},
                                        image_mean=[0.5] * 3, image_std=[0.5] * 3)
    return SiglipEmbedder(model, tokenizer, processor, source="train-siglip")


def sigmoid_loss(logits: Any, labels: Any) -> Any:
    """SigLIP pairwise loss, multi-positive: labels (T, I) in {0, 1}; mean over texts of the row sum."""
    import torch.nn.functional as F

    return -F.logsigmoid((2.0 * labels - 1.0) * logits).sum(dim=1).mean()


def _batch(rng: np.random.Generator, by_color: dict[str, np.ndarray], size: int) -> np.ndarray:
    """Crop indices for one step: half the steps uniform, half from only three colours.

    In a uniform batch almost every negative differs in colour, so colour alone solves the
    loss and shape is never learnt; three-colour batches are full of same-colour objects
    whose shapes differ.
    """
    pool = np.concatenate(list(by_color.values()))
    if rng.uniform() < 0.5:
        colors = rng.choice(sorted(by_color), size=min(3, len(by_color)), replace=False)
        narrow = np.concatenate([by_color[c] for c in colors])
        if len(narrow) >= size:
            pool = narrow
    return rng.choice(pool, size=min(size, len(pool)), replace=False)


def augment(images: Any, rng: np.random.Generator) -> Any:
    """(B, 3, S, S) -> same, each mirrored (p = 0.5), shifted by up to 10% and scaled 0.9-1.1.

    Colour and shape survive all three, and boxes from other proposers are never centred
    exactly like the training crops.
    """
    import torch
    import torch.nn.functional as F

    b = images.shape[0]
    scale = torch.from_numpy(rng.uniform(0.9, 1.1, size=b)).float()
    flip = torch.from_numpy(np.where(rng.uniform(size=b) < 0.5, -1.0, 1.0)).float()
    shift = torch.from_numpy(rng.uniform(-0.1, 0.1, size=(b, 2))).float()
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1] = scale * flip, scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, padding_mode="border", align_corners=False)


def train(embedder: SiglipEmbedder, crops: Sequence[ObjectCrop], args: argparse.Namespace) -> list[dict[str, float]]:
    """Optimise ``embedder.model`` in place; returns the loss log (every 100 steps)."""
    import torch

    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    model = embedder.model.train()
    pixels = torch.cat([embedder.pixel_values([c.image for c in crops[i:i + 512]]) for i in range(0, len(crops), 512)])
    attrs = [(c.color, c.shape) for c in crops]
    colors = np.asarray([c.color for c in crops])
    by_color = {color: np.flatnonzero(colors == color) for color in sorted(set(colors))}
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    warmup = max(1, args.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup)
                                              * 0.5 * (1.0 + math.cos(math.pi * min(1.0, s / args.steps))))
    log, running = [], 0.0
    for step in range(args.steps):
        idx = _batch(rng, by_color, min(args.batch, len(crops)))
        captions = [random_caption(rng, *attrs[i], p_color_only=0.15, p_shape_only=0.3) for i in idx]
        labels = torch.tensor([[float(cap.fits(*attrs[j])) for j in idx] for cap in captions])
        images = augment(pixels[idx], rng)
        img = model.vision_model(pixel_values=images).pooler_output
        txt = model.text_model(input_ids=embedder.input_ids([c.text for c in captions])).pooler_output
        img, txt = img / img.norm(dim=-1, keepdim=True), txt / txt.norm(dim=-1, keepdim=True)
        logits = txt @ img.T * model.logit_scale.exp() + model.logit_bias
        loss = sigmoid_loss(logits, labels)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running += loss.item()
        if (step + 1) % 100 == 0:
            log.append({"step": step + 1, "loss": running / 100})
            print(f"step {step + 1:5d}  loss {running / 100:.4f}  scale {model.logit_scale.exp().item():.1f}"
                  f"  bias {model.logit_bias.item():.2f}", flush=True)
            running = 0.0
    model.eval()
    embedder.clear_cache()
    return log


def zero_shot_accuracy(embedder: SiglipEmbedder, crops: Sequence[ObjectCrop]) -> dict[str, Any]:
    """Colour/shape accuracy of the argmax over the 48 canonical captions, overall and per resolution."""
    vocab = all_canonical_captions()
    image_embeds = np.concatenate([embedder.embed_images([c.image for c in crops[i:i + 512]])
                                   for i in range(0, len(crops), 512)])
    probs = embedder.probabilities(embedder.embed_texts([v.text for v in vocab]), image_embeds)
    guess = [vocab[int(k)] for k in probs.argmax(axis=0)]
    hits: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for crop, g in zip(crops, guess):
        outcome = (g.color == crop.color, g.shape == crop.shape)
        hits["all"].append(outcome)
        hits[f"{crop.resolution}px"].append(outcome)
    return {key: {"crops": len(v), "color": float(np.mean([a for a, _ in v])), "shape": float(np.mean([b for _, b in v]))}
            for key, v in sorted(hits.items())}


def consistency_scores(embedder: SiglipEmbedder, crops: Sequence[ObjectCrop], seed: int) -> dict[str, list[float]]:
    """Scores of one true, one wrong-colour and one wrong-shape description per crop."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[float]] = {"true": [], "wrong_color": [], "wrong_shape": []}
    for crop in crops:
        texts = [random_caption(rng, crop.color, crop.shape, 0.0, 0.0).text,
                 wrong_caption(rng, crop.color, crop.shape, "color").text,
                 wrong_caption(rng, crop.color, crop.shape, "shape").text]
        for key, p in zip(out, embedder.similarity(texts, [crop.image])[:, 0]):
            out[key].append(float(p))
    return out


def consistency_report(embedder: SiglipEmbedder, crops: Sequence[ObjectCrop], seed: int) -> dict[str, Any]:
    """Calibrate the threshold on one half of ``crops``; error rates on the other half."""
    from perception.consistency import calibrate_threshold

    half = len(crops) // 2
    first = consistency_scores(embedder, crops[:half], seed)
    calib = calibrate_threshold(first["true"], first["wrong_color"] + first["wrong_shape"])
    second = consistency_scores(embedder, crops[half:], seed + 1)
    rates = {"false_alarm_rate": float(np.mean(np.asarray(second["true"]) < calib.threshold))}
    for kind in ("wrong_color", "wrong_shape"):
        rates[f"missed_{kind}_rate"] = float(np.mean(np.asarray(second[kind]) >= calib.threshold))
    return {"calibration": calib, "calibration_half": calib.model_dump(),
            "evaluation_half": {**rates, "crops": len(crops) - half}}


def write_model_card(folder: Path, summary: dict[str, Any]) -> Path:
    """README.md beside the weights: what the model is, how it was trained, what it scores."""
    acc = summary["zero_shot_accuracy_heldout"]
    rows = "\n".join(f"| {k} | {v['crops']} | {v['color']:.3f} | {v['shape']:.3f} |" for k, v in acc.items())
    cons = summary["consistency"]
    ev = cons["evaluation_half"]
    render = ("training crops reloaded from a --crop-cache of an earlier run" if summary.get("crops_from_cache")
              else f"rendering took {summary['render_seconds']:.0f} s")
    text = f"""# Small SigLIP for the tabletop (trained from scratch on PyBullet renders)

A `transformers.SiglipModel` ({summary['parameters']:,} parameters; vision: 32 px crops, patch 4;
text: word-level tokenizer, fixed length {summary.get('text_length', 16)}), trained by
`python main.py train-siglip` with the multi-positive pairwise sigmoid loss on
{summary['train_crops']} object crops rendered from scenes {summary['seeds']['train'][0]}-{summary['seeds']['train'][1]}
(jittered light direction/colour/intensity, camera viewpoint and resolution 96-224 px).
Training took {summary['train_seconds']:.0f} s on one CPU thread on a shared 2-core machine ({render}). Load it with `perception.siglip.SiglipEmbedder.from_pretrained(<this folder>)`.

## Zero-shot accuracy on held-out renders
Scenes {summary['seeds']['heldout'][0]}-{summary['seeds']['heldout'][1]}: new layouts, light azimuth sectors and camera
offsets never used in training. Prediction = argmax over the 48 captions 'a <colour> <shape>'.

| camera | crops | colour | shape |
|---|---|---|---|
{rows}

## Consistency threshold (`consistency.json`)
Threshold {cons['calibration_half']['threshold']:.3f} (balanced accuracy, first half of the held-out crops: one true,
one wrong-colour and one wrong-shape description per crop). On the second half: false alarms
{ev['false_alarm_rate']:.3f}; wrong colour passed {ev['missed_wrong_color_rate']:.3f}; wrong shape passed
{ev['missed_wrong_shape_rate']:.3f}.

Size words are in the vocabulary but carry no signal (crops are size-normalised): size is
read from depth by perception. Full numbers: `training.json`.
"""
    path = Path(folder) / "README.md"
    path.write_text(text)
    return path


def cached_crops(cache: Optional[Path], seeds: Sequence[int], split: Split) -> list[ObjectCrop]:
    """Render crops for ``seeds``, or reload them from ``cache`` when rendered before."""
    if cache is None:
        return list(render_crops(seeds, split))
    path = Path(cache) / f"{split}_{seeds[0]}_{seeds[-1]}.npz"
    if path.is_file():
        data = np.load(path, allow_pickle=False)
        return [ObjectCrop(image=data[f"image{i}"], color=str(c), shape=str(s), size=str(z), resolution=int(r),
                           split=split, seed=int(d))
                for i, (c, s, z, r, d) in enumerate(zip(data["color"], data["shape"], data["size"],
                                                        data["resolution"], data["seed"]))]
    crops = list(render_crops(seeds, split))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, color=[c.color for c in crops], shape=[c.shape for c in crops],
                        size=[c.size for c in crops], resolution=[c.resolution for c in crops],
                        seed=[c.seed for c in crops], **{f"image{i}": c.image for i, c in enumerate(crops)})
    return crops


def _train_new(args: argparse.Namespace) -> tuple[SiglipEmbedder, dict[str, Any]]:
    """Render the training crops, build and train a fresh embedder; returns it and its record."""
    seeds = [TRAIN_SEED_BASE + i for i in range(args.train_scenes)]
    reused = args.crop_cache is not None and (Path(args.crop_cache) / f"train_{seeds[0]}_{seeds[-1]}.npz").is_file()
    t0 = time.perf_counter()
    crops = cached_crops(args.crop_cache, seeds, "train")
    t_render = time.perf_counter() - t0
    print(f"{len(crops)} training crops ready in {t_render:.0f} s", flush=True)
    embedder = build_embedder(args)
    t1 = time.perf_counter()
    log = train(embedder, crops, args)
    record = {
        "parameters": sum(p.numel() for p in embedder.model.parameters()), "train_crops": len(crops),
        "render_seconds": round(t_render, 1), "crops_from_cache": reused, "train_seconds": round(time.perf_counter() - t1, 1),
        "torch_threads": args.threads, "config": {k: str(v) for k, v in vars(args).items()},
        "seeds": {"train": [TRAIN_SEED_BASE, TRAIN_SEED_BASE + args.train_scenes - 1]}, "loss_log": log,
    }
    return embedder, record


def run(args: argparse.Namespace) -> int:
    import torch

    from perception.consistency import save_threshold

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    if args.evaluate_only:
        # Re-measure (and re-calibrate the threshold of) an existing checkpoint folder.
        embedder = SiglipEmbedder.from_pretrained(out)
        previous = out / "training.json"
        record = json.loads(previous.read_text()) if previous.is_file() else {}
    else:
        embedder, record = _train_new(args)
        embedder.save_pretrained(out)
    heldout_seeds = [HELDOUT_SEED_BASE + i for i in range(args.heldout_scenes)]
    heldout = cached_crops(args.crop_cache, heldout_seeds, "heldout")
    consistency = consistency_report(embedder, heldout, args.seed)
    save_threshold(out, consistency.pop("calibration"))
    record["seeds"] = {**record.get("seeds", {}), "heldout": [heldout_seeds[0], heldout_seeds[-1]]}
    summary = {**record, "heldout_crops": len(heldout),
               "zero_shot_accuracy_heldout": zero_shot_accuracy(embedder, heldout), "consistency": consistency}
    (out / "training.json").write_text(json.dumps(summary, indent=2) + "\n")
    if "train_seconds" in summary:
        write_model_card(out, summary)
    SiglipEmbedder.from_pretrained(out)  # the written folder must load cleanly
    print(json.dumps({k: summary.get(k) for k in ("parameters", "train_seconds", "zero_shot_accuracy_heldout",
                                                  "consistency")}, indent=2))
    return 0
