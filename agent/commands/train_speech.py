"""python main.py train-speech: adapt whisper's decoder to the robot's speech (a LoRA, peft).

The phrases come from the suites on a training seed block (default 30000-39999; the speech
benchmark's blocks are 12000-12999 (dev) and 14000-14999 (held-out)): commands, answers to "which
one?", corrections naming objects on their table, lexicon phrases, and everyday sentences. Each is
spoken once per ``--repeats`` by a training voice in a training condition
(`perception.speech.adapter`), encoded by the frozen encoder (``--workers`` processes), and the
LoRA learns to decode it after the prompt the recognizer would use with it: the scene prompt
(three clips in four) or the plain domain prompt. The encoded clips are cached
(``<cache>/speech-adapter/<fingerprint>.npy``), so a second run with other training settings
starts at once. Writes peft's adapter files and training.json to ``--out``; the recognizer loads
it with ``--speech-adapter DIR`` (default: `perception.speech.models.EMBEDDED_ADAPTER`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from perception.speech.models import EMBEDDED_ADAPTER

    parser.add_argument("--out", type=Path, default=Path(EMBEDDED_ADAPTER), help="adapter folder to write")
    parser.add_argument("--seeds", default="30000-39999", help="suite seed block the phrases are drawn from")
    parser.add_argument("--commands", type=int, default=1800)
    parser.add_argument("--answers", type=int, default=420)
    parser.add_argument("--corrections", type=int, default=700)
    parser.add_argument("--lexicon", type=int, default=300)
    parser.add_argument("--non-speech", type=int, default=900, help="clips of coughs, knocks, beeps, ... "
                        "taught to decode as nothing")
    parser.add_argument("--repeats", type=int, default=1, help="clips per phrase (other voice and condition each)")
    parser.add_argument("--validation", type=float, default=0.05, help="share of phrases kept for validation loss")
    parser.add_argument("--model", default="tiny.en", help="whisper model the adapter is for")
    parser.add_argument("--workers", type=int, default=2, help="processes synthesizing and encoding clips")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads while training")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=None, help="encoded-clip cache (default: <cache>/speech-adapter)")


def training_examples(seeds: range, commands: int, answers: int, corrections: int, lexicon: int,
                      repeats: int, seed: int) -> list:
    """Every (phrase, prompt) example with its clip seed."""
    from agent.speech_phrases import project_phrases
    from perception.speech.adapter import EVERYDAY, Example
    from perception.speech.stt import CORRECTION_PROMPT, DOMAIN_PROMPT
    from perception.speech.testset import clip_seed
    from perception.speech.understanding import scene_prompt

    phrases, contexts = project_phrases(seeds, commands, answers, corrections, lexicon)
    rng = np.random.default_rng(seed)
    items = [(p.text, scene_prompt(contexts[p.key].vocabulary, expected=contexts[p.key].expected)) for p in phrases]
    items += [(text, CORRECTION_PROMPT if k % 2 else DOMAIN_PROMPT) for k, text in enumerate(EVERYDAY)]
    examples = []
    for r in range(repeats):
        for text, prompt in items:
            use = prompt if rng.random() < 0.75 else DOMAIN_PROMPT
            examples.append(Example(text, use, "", "", clip_seed(seed, text, r)))
    return examples


def non_speech_examples(count: int, seed: int, prompts: list) -> list:
    """`count` non-speech clips (target: nothing), each after a prompt drawn from `prompts` (the
    speech examples' prompts: scene, correction and domain prompts alike)."""
    from perception.speech.adapter import Example
    from perception.speech.testset import clip_seed

    rng = np.random.default_rng(seed + 1)
    return [Example("", prompts[int(rng.integers(len(prompts)))], "", "", clip_seed(seed, "non-speech", k))
            for k in range(count)]


def encode_all(examples: list, model: str, workers: int, cache: Path) -> tuple[np.ndarray, list]:
    """Features of every example (cached by the examples' texts, seeds and the model)."""
    from perception.speech.adapter import encode_examples

    key = hashlib.sha1(json.dumps([model, 1] + [(e.text, e.seed) for e in examples]).encode()).hexdigest()[:12]
    path, meta = cache / f"{key}.npy", cache / f"{key}.json"
    if path.exists() and meta.exists():
        return np.load(path, mmap_mode="r"), json.loads(meta.read_text())
    cache.mkdir(parents=True, exist_ok=True)
    jobs = [(e.text, e.seed) for e in examples]
    chunks = [jobs[k::workers] for k in range(workers)]
    start = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(encode_examples, chunks, [model] * workers, [1] * workers))
    features = np.zeros((len(jobs), *parts[0][0].shape[1:]), np.float16)
    info: list = [None] * len(jobs)
    for k, (feats, inf) in enumerate(parts):
        features[k::workers] = feats
        info[k::workers] = inf
    print(f"encoded {len(jobs)} clips in {time.perf_counter() - start:.0f} s")
    partial = path.with_suffix(".partial.npy")
    np.save(partial, features)
    partial.rename(path)
    meta.write_text(json.dumps(info))
    return features, info


def run(args: argparse.Namespace) -> int:
    import dataclasses

    import torch

    from agent.suites import parse_seeds
    from perception.speech.adapter import AdapterConfig, save_adapter, train_adapter
    from perception.speech.models import default_cache_dir, load_whisper

    seeds = parse_seeds(args.seeds)
    examples = training_examples(range(seeds[0], seeds[-1] + 1), args.commands, args.answers, args.corrections,
                                 args.lexicon, args.repeats, args.seed)
    quiet = non_speech_examples(args.non_speech, args.seed, [e.prompt for e in examples])
    cache = args.cache or default_cache_dir() / "speech-adapter"
    features, info = encode_all(examples, args.model, args.workers, cache)
    if quiet:
        extra, extra_info = encode_all(quiet, args.model, args.workers, cache)
        features, info, examples = np.concatenate([features, extra]), info + extra_info, examples + quiet
    examples = [dataclasses.replace(e, voice=v, condition=c) for e, (v, c, _) in zip(examples, info)]
    heard = [k for k, (_, _, ok) in enumerate(info) if ok]
    texts = sorted({examples[k].text for k in heard if examples[k].text})
    held = set(np.random.default_rng(args.seed).permutation(texts)[: int(len(texts) * args.validation)])
    train_idx = [k for k in heard if examples[k].text not in held]
    val_idx = [k for k in heard if examples[k].text in held]
    print(f"{len(examples)} clips ({len(examples) - len(heard)} with no speech found, dropped): "
          f"{len(train_idx)} training, {len(val_idx)} validation ({len(held)} phrases)")
    torch.set_num_threads(args.threads)
    model = load_whisper(args.model)
    for p in model.parameters():
        p.requires_grad_(False)
    config = AdapterConfig(rank=args.rank, alpha=2 * args.rank, learning_rate=args.lr, epochs=args.epochs,
                           batch_size=args.batch, seed=args.seed)
    all_features = torch.from_numpy(np.ascontiguousarray(features[train_idx]))
    val_features = torch.from_numpy(np.ascontiguousarray(features[val_idx]))
    start = time.perf_counter()
    decoder = train_adapter(model, all_features, [examples[k] for k in train_idx], config,
                            validation=(val_features, [examples[k] for k in val_idx]) if val_idx else None)
    voices = sorted({e.voice for e in examples})
    save_adapter(decoder, args.out, {
        "model": args.model, "config": dataclasses.asdict(config), "seeds": args.seeds,
        "phrases": {"commands": args.commands, "answers": args.answers, "corrections": args.corrections,
                    "lexicon": args.lexicon, "non_speech": args.non_speech}, "repeats": args.repeats, "clips": len(train_idx),
        "validation_clips": len(val_idx), "voices": voices, "train_seconds": round(time.perf_counter() - start),
    })
    print(f"adapter written to {args.out} ({len(voices)} voices heard)")
    return 0
