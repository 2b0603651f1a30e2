"""Training loop: next-token loss on the chain of thought + L1 on normalised action chunks.

``train(settings)`` builds (or resumes) a policy in ``settings.out``: the first run builds the
word-level tokenizer (``tiny``) and fits normalisation statistics from the demos; every
``save_every`` steps it writes a full checkpoint folder plus ``training_state.pt`` (optimizer,
step, RNG), so a killed run continues where it stopped. Episodes are split by index: the last
``eval_fraction`` of episodes only measure the periodic eval loss.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F

from policy.model.checkpoint import LoadedPolicy, load_checkpoint, save_checkpoint, special_token_ids
from policy.model.config import PolicyConfig, make_config
from policy.training.dataset import Batch, DemoDataset, DemoTable, collate, load_demos, split_held_out
from policy.model.modeling import VLAModel, build_model
from policy.training.motion_eval import motion_agreement
from policy.model.normalize import NormStats
from policy.training.reasoning_eval import reasoning_accuracy, twin_answer_accuracy
from policy.model.tokenizer import build_word_tokenizer, first_loc_id

STATE_FILE = "training_state.pt"
LOG_FILE = "train_log.jsonl"


@dataclass(frozen=True)
class TrainSettings:
    """What ``python main.py train`` sets."""

    data: str
    out: str
    preset: str = "tiny"
    # Optimiser steps in total (a resumed run stops at the same total).
    steps: int = 3000
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.01
    # Weight of the L1 action loss relative to the token cross-entropy.
    action_weight: float = 1.0
    warmup: int = 100
    eval_every: int = 250
    save_every: int = 500
    eval_fraction: float = 0.05
    seed: int = 0
    threads: int = 1
    lora: bool = False
    lora_rank: int = 16
    lora_vision: bool = False
    # Share of rows trained with the reasoning of an earlier step (see policy/training/dataset.py).
    stale_prob: float = 0.0
    # Share of the stale rows that take the episode's first reasoning (policy/training/dataset.py).
    stale_from_start: float = 0.0
    # Share of sampling spread evenly over episodes instead of rows (policy/training/dataset.py).
    scene_balance: float = 0.0
    # Share of sampling spread evenly over motion phases (approach, carry, ...; policy/training/dataset.py).
    phase_balance: float = 0.0
    # Start from this checkpoint folder (fine-tuning, e.g. with --lora) instead of from scratch.
    init_from: Optional[str] = None
    # PolicyConfig field overrides, e.g. {"chunk_size": 12}.
    overrides: dict = field(default_factory=dict)
    # "auto" = cuda when available, else cpu. On cuda the forward runs under bf16 autocast.
    device: str = "auto"
    # DataLoader worker processes (PNG decoding + tokenising); 0 = in the training process.
    workers: int = 0
    # Std-dev, in bins, of the Gaussian soft target over neighbouring <loc> tokens (0 = hard CE).
    loc_sigma: float = 0.0
    # Stop (and save) after this many seconds of training even if ``steps`` is not reached.
    time_limit: Optional[float] = None
    # Stop (and save) at this step while the learning-rate schedule still runs to ``steps``: a run
    # ended part-way down its cosine, as a stage of the embedded checkpoint was (stopped by hand).
    stop_at: Optional[int] = None
    # Held-out scenes whose first frame is reasoned about at each eval (TARGET name + box IoU).
    target_eval_scenes: int = 32
    # "l1" (OpenVLA-OFT) or "l1+mse-xy": L1 plus a squared term on the sideways dimensions, which
    # keeps the carry from collapsing to the closed-gripper median (see ``action_loss``).
    action_loss: str = "l1"
    # Held-out rows per motion phase whose chunks are compared with the expert's (policy/training/motion_eval.py).
    motion_eval_rows: int = 32

    @property
    def last_step(self) -> int:
        """The step the run ends at: ``steps``, or ``stop_at`` when that comes first."""
        return min(self.steps, self.stop_at or self.steps)


@dataclass
class LossParts:
    total: torch.Tensor
    text: float
    action: float


def compute_loss(model: torch.nn.Module, batch: Batch, action_weight: float, loc_first: Optional[int] = None,
                 loc_sigma: float = 0.0, action_kind: str = "l1") -> LossParts:
    """Token CE over suffix tokens (shifted) + ``action_loss`` (L1 by default) over the (B, C, 7)
    normalised actions.

    With ``loc_sigma`` > 0 a ``<locNNNN>`` target (ids ``loc_first`` .. +1023) is scored against
    a Gaussian over neighbouring bins instead of the one bin: a coordinate off by one bin costs
    almost nothing, one off by 300 bins costs a lot (box tokens act like a regression).
    """
    out = model(
        input_ids=batch.input_ids,
        token_type_ids=batch.token_type_ids,
        pixel_values=batch.pixel_values,
        state=batch.state,
        attention_mask=batch.attention_mask,
        action_mask=batch.action_mask,
        compute_logits=False,
        geometry=batch.geometry,
    )
    # Position t predicts token t+1; project to the vocabulary only where a suffix token follows.
    scored = batch.loss_mask[:, 1:]
    if scored.any():
        logits = model.backbone.lm_head(out.hidden[:, :-1][scored]).float()  # peft forwards .backbone too
        targets = batch.input_ids[:, 1:][scored]
        if loc_sigma > 0 and loc_first is not None:
            text = soft_loc_cross_entropy(logits, targets, loc_first, loc_sigma)
        else:
            text = F.cross_entropy(logits, targets)
    else:  # every row of the batch carried stale reasoning: actions only
        text = out.hidden.new_zeros(())
    action = action_loss(out.actions, batch.actions, action_kind)
    return LossParts(total=text + action_weight * action, text=float(text.detach()), action=float(action.detach()))


ACTION_LOSSES = ("l1", "mse", "l1+mse", "l1+mse-xy")


def action_loss(pred: torch.Tensor, target: torch.Tensor, kind: str = "l1") -> torch.Tensor:
    """Loss on (B, C, 7) normalised chunks.

    ``l1``: L1 on every dimension. ``mse``: squared error. ``l1+mse``: both on every dimension.
    ``l1+mse-xy``: L1 on every dimension plus a squared term on x, y only. Under L1 alone the
    embedded policy's head output exactly zero sideways motion for every closed-gripper row
    (the median: most of them do not move sideways), so it never carried; the squared term on
    x, y keeps the carry, while L1 keeps the gripper command crisp (a squared term there
    blurred it and cost grasps). Measured in checkpoints/vla/README.md.
    """
    if kind == "l1":
        return F.l1_loss(pred, target)
    if kind == "mse":
        return F.mse_loss(pred, target)
    if kind == "l1+mse":
        return F.l1_loss(pred, target) + F.mse_loss(pred, target)
    if kind == "l1+mse-xy":
        return F.l1_loss(pred, target) + F.mse_loss(pred[..., :2], target[..., :2])
    raise ValueError(f"unknown action loss {kind!r}: use {', '.join(ACTION_LOSSES)}")


def soft_loc_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, loc_first: int, sigma: float,
                           bins: int = 1024) -> torch.Tensor:
    """Mean CE over (M, V) logits; loc targets get a Gaussian (std ``sigma`` bins) soft label."""
    logp = F.log_softmax(logits, dim=-1)
    loss = -logp.gather(1, targets[:, None])[:, 0]
    is_loc = (targets >= loc_first) & (targets < loc_first + bins)
    if bool(is_loc.any()):
        centre = (targets[is_loc] - loc_first).float()
        grid = torch.arange(bins, device=logits.device, dtype=torch.float32)
        soft = torch.exp(-0.5 * ((grid[None, :] - centre[:, None]) / sigma) ** 2)
        soft = soft / soft.sum(-1, keepdim=True)
        loss = loss.clone()
        loss[is_loc] = -(soft * logp[is_loc][:, loc_first : loc_first + bins]).sum(-1)
    return loss.mean()


def batch_to(batch: Batch, device: str) -> Batch:
    """The same batch with every tensor on ``device``."""
    if device == "cpu":
        return batch
    return Batch(**{k: v.to(device, non_blocking=True) for k, v in vars(batch).items()})


def resolve_device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} asked for, but torch sees no CUDA device")
    return name


def _lr_at(step: int, settings: TrainSettings, elapsed_s: float = 0.0) -> float:
    """Linear warm-up then cosine decay to 10 %; with a ``time_limit`` the decay follows
    whichever runs out first, steps or time, so a time-boxed run still ends at a low rate."""
    if step < settings.warmup:
        return settings.lr * (step + 1) / settings.warmup
    progress = (step - settings.warmup) / max(1, settings.steps - settings.warmup)
    if settings.time_limit:
        progress = max(progress, elapsed_s / settings.time_limit)
    return settings.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def _fresh(settings: TrainSettings, table: DemoTable) -> LoadedPolicy:
    """New model: word-level tokenizer from the demos, or the pretrained one's tokenizer."""
    if settings.init_from:
        return load_checkpoint(settings.init_from)
    base = make_config(settings.preset, **settings.overrides)
    if base.pretrained:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(base.pretrained)
        config = base.replace(**special_token_ids(tokenizer, base.state_token))
    else:
        texts = [p for ps in table.prompts for p in ps] + list(table.reasoning)
        tokenizer = build_word_tokenizer(texts)
        config = base.replace(vocab_size=len(tokenizer), **special_token_ids(tokenizer, base.state_token))
    stats = NormStats.fit(table.actions.reshape(-1, table.actions.shape[-1]), table.state)
    torch.manual_seed(settings.seed)
    model = build_model(config)
    if config.structured_init and not config.pretrained:
        from policy.model.structured_init import apply_structured_init

        apply_structured_init(model, first_loc_id(tokenizer))
    return LoadedPolicy(model=model, tokenizer=tokenizer, stats=stats, config=config)


def _infinite_loader(ds: DemoDataset, config: PolicyConfig, batch_size: int, seed: int, scene_balance: float = 0.0,
                     workers: int = 0, phase_balance: float = 0.0):
    if len(ds) < batch_size:  # drop_last would yield no batch at all, and this loop would spin
        raise ValueError(f"{len(ds)} training rows cannot fill one batch of {batch_size}: collect more "
                         "demonstrations or lower --batch-size")
    gen = torch.Generator().manual_seed(seed)
    while True:
        sampler = None
        if scene_balance > 0 or phase_balance > 0:
            weights = torch.as_tensor(ds.sampling_weights(scene_balance, phase_balance), dtype=torch.double)
            sampler = torch.utils.data.WeightedRandomSampler(weights, len(ds), replacement=True, generator=gen)
        loader = torch.utils.data.DataLoader(
            ds, batch_size=batch_size, shuffle=sampler is None, sampler=sampler, drop_last=True,
            generator=gen if sampler is None else None, collate_fn=partial(collate, config=config),
            num_workers=workers, persistent_workers=False, pin_memory=torch.cuda.is_available(),
            worker_init_fn=_reseed_worker if workers > 0 else None,
        )
        yield from loader


def _reseed_worker(worker_id: int) -> None:
    """Each loader worker holds a copy of the dataset: give each its own random stream, or all
    would draw the same prompt variants and stale-reasoning lags."""
    info = torch.utils.data.get_worker_info()
    info.dataset.rng = np.random.default_rng(info.seed % 2**32)


@torch.no_grad()
def evaluate_loss(model: torch.nn.Module, ds: DemoDataset, config: PolicyConfig, batches: int = 8,
                  device: str = "cpu") -> dict:
    model.eval()
    loader = torch.utils.data.DataLoader(ds, batch_size=32, shuffle=False, collate_fn=partial(collate, config=config))
    parts = []
    for i, batch in enumerate(loader):
        if i >= batches:
            break
        with _autocast(device):
            lp = compute_loss(model, batch_to(batch, device), 1.0)
        parts.append((lp.text, lp.action))
    model.train()
    arr = np.asarray(parts) if parts else np.zeros((1, 2))
    return {"eval_text_loss": float(arr[:, 0].mean()), "eval_action_l1": float(arr[:, 1].mean())}


def _autocast(device: str):
    """bf16 autocast on CUDA (tensor cores), a no-op context on CPU."""
    import contextlib

    if device.startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def train(settings: TrainSettings, progress: Optional[Callable[[dict], None]] = None) -> Path:
    """Train (or resume) into ``settings.out``; returns the checkpoint folder."""
    torch.set_num_threads(settings.threads)
    device = resolve_device(settings.device)
    out = Path(settings.out)
    table = load_demos(settings.data)
    resume = (out / STATE_FILE).exists()
    policy = load_checkpoint(out) if resume else _fresh(settings, table)
    policy.model.to(device)
    model: torch.nn.Module = policy.model
    model.train()
    if settings.lora:
        from policy.model.lora import LoraSettings, apply_lora

        model = apply_lora(policy.model, LoraSettings(rank=settings.lora_rank, vision=settings.lora_vision))
    train_table, eval_table = split_held_out(table, settings.eval_fraction)
    train_ds = DemoDataset(train_table, policy.tokenizer, policy.config, policy.stats, seed=settings.seed,
                           stale_prob=settings.stale_prob, stale_from_start=settings.stale_from_start)
    eval_ds = DemoDataset(eval_table, policy.tokenizer, policy.config, policy.stats, seed=settings.seed + 1)
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    step = 0
    if resume:
        state = torch.load(out / STATE_FILE, weights_only=False)
        step = int(state["step"])
        # With LoRA the folder holds merged weights and the adapters restart at zero, so the old
        # optimiser moments no longer belong to these parameters.
        if not settings.lora:
            optim.load_state_dict(state["optim"])
    batches = _infinite_loader(train_ds, policy.config, settings.batch_size, settings.seed + step, settings.scene_balance,
                               settings.workers, settings.phase_balance)
    loc_first = first_loc_id(policy.tokenizer) if settings.loc_sigma > 0 else None
    started = time.time()
    log = (out / LOG_FILE) if out.exists() else None
    while step < settings.last_step:
        for group in optim.param_groups:
            group["lr"] = _lr_at(step, settings, time.time() - started)
        with _autocast(device):
            lp = compute_loss(model, batch_to(next(batches), device), settings.action_weight, loc_first,
                              settings.loc_sigma, settings.action_loss)
        optim.zero_grad(set_to_none=True)
        lp.total.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optim.step()
        step += 1
        record = {"step": step, "text_loss": lp.text, "action_l1": lp.action, "elapsed_s": time.time() - started}
        out_of_time = settings.time_limit is not None and record["elapsed_s"] >= settings.time_limit
        last = step == settings.last_step or out_of_time
        if step % settings.eval_every == 0 or last:
            if len(eval_ds):
                record.update(evaluate_loss(model, eval_ds, policy.config, device=device))
                record.update(reasoning_accuracy(policy, eval_table, settings.target_eval_scenes, device))
                record.update(twin_answer_accuracy(policy, eval_table, settings.target_eval_scenes, device))
                record.update(motion_agreement(policy, eval_table, settings.motion_eval_rows, device))
                model.train()
            # An evaluation that ran past the time limit ends the run here: the next step would
            # only evaluate the same weights again (on a lent GPU that cost a minute of 200 s).
            out_of_time = settings.time_limit is not None and time.time() - started >= settings.time_limit
            last = last or out_of_time
        if step % settings.save_every == 0 or last:
            _save(out, model, policy, optim, step, settings, record)
            log = out / LOG_FILE
        if log is not None and ("eval_text_loss" in record or step % 50 == 0):
            with log.open("a") as fh:
                fh.write(json.dumps(record) + "\n")
        if progress is not None:
            progress(record)
        if out_of_time:
            break
    return out


def _save(out: Path, model: torch.nn.Module, policy: LoadedPolicy, optim, step: int, settings: TrainSettings, record: dict) -> None:
    """Checkpoint folder (LoRA merged into a copy, so the folder is always a plain checkpoint)."""
    plain: VLAModel
    if settings.lora:
        import copy

        from policy.model.lora import merge_lora, save_adapter

        save_adapter(model, out / "adapter")
        plain = merge_lora(copy.deepcopy(model))
    else:
        plain = model  # type: ignore[assignment]
    meta = {"step": step, "settings": asdict(settings), "last": record}
    save_checkpoint(out, plain, policy.tokenizer, policy.stats, meta=meta)
    torch.save({"optim": optim.state_dict(), "step": step}, out / STATE_FILE)
