"""From-scratch training aids: position-aware init, soft loc targets, packed data, time-boxed runs."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from policy.model.checkpoint import load_checkpoint
from policy.training.dataset import decode_png, load_demos, pack_episodes
from policy.model.structured_init import apply_structured_init, sincos_2d
from policy.model.tokenizer import first_loc_id
from policy.training.training import TrainSettings, soft_loc_cross_entropy, train

from tests.policy.test_data_and_training import SMALL, write_demos


def test_neighbouring_loc_tokens_start_similar_and_patches_know_their_place(policy):
    first = first_loc_id(policy.tokenizer)
    apply_structured_init(policy.model, first)
    emb = policy.model.backbone.get_input_embeddings().weight.detach()
    loc = F.normalize(emb[first : first + 1024], dim=-1)
    assert float(loc[500] @ loc[501]) > 0.9 > float(loc[500] @ loc[800])
    # Tied output layer: a hidden state equal to bin 500's embedding scores bin 500 highest.
    logits = policy.model.backbone.lm_head(emb[first + 500])[first : first + 1024]
    assert int(logits.argmax()) == 500
    grid = sincos_2d(4, 16)
    assert grid.shape == (16, 16) and len({tuple(r.round(decimals=4).tolist()) for r in grid}) == 16


def test_soft_loc_loss_forgives_a_near_miss_not_a_far_one():
    first, V = 10, 10 + 1024 + 5
    target = torch.tensor([first + 500])
    bins = torch.arange(1024, dtype=torch.float32)

    def belief(centre: float) -> torch.Tensor:  # logits of a Gaussian belief over the loc bins
        logits = torch.full((1, V), -30.0)
        logits[0, first : first + 1024] = -0.5 * ((bins - centre) / 8) ** 2
        return logits

    exact, near, far = (soft_loc_cross_entropy(belief(c), target, first, sigma=8) for c in (500, 502, 800))
    assert exact < near < 1.1 * exact < far / 10
    # Non-loc targets keep the plain cross-entropy.
    word = torch.tensor([3])
    logits = torch.randn(1, V)
    assert torch.allclose(soft_loc_cross_entropy(logits, word, first, 8), F.cross_entropy(logits, word))


def test_packed_demos_read_back_row_for_row_with_the_same_pixels(tmp_path):
    write_demos(tmp_path / "a", episodes=3, steps=6)
    stats = pack_episodes(str(tmp_path / "a"), tmp_path / "packed", stride=2)
    assert stats["episodes"] == 3 and stats["rows"] == 9
    original, packed = load_demos(tmp_path / "a"), load_demos(tmp_path / "packed")
    keep = np.flatnonzero(np.arange(len(original)) % 2 == 0)
    assert packed.episode.tolist() == original.episode[keep].tolist()
    assert np.array_equal(decode_png(packed.images[1]), decode_png(original.images[keep[1]]))
    assert packed.reasoning == [original.reasoning[i] for i in keep]


def test_a_time_boxed_run_stops_early_saves_and_reports_target_accuracy(tmp_path):
    data, out = tmp_path / "demos", tmp_path / "ckpt"
    write_demos(data, episodes=3)
    settings = TrainSettings(data=str(data), out=str(out), steps=10_000, batch_size=4, warmup=1, eval_every=10_000,
                             save_every=10_000, threads=1, overrides=SMALL, time_limit=0.5, loc_sigma=8.0, workers=2,
                             target_eval_scenes=2, eval_fraction=0.34)
    records = []
    train(settings, records.append)
    assert records[-1]["step"] < 10_000
    assert {"eval_target_name_acc", "eval_target_iou", "eval_target_correct"} <= set(records[-1])
    assert load_checkpoint(out).meta["step"] == records[-1]["step"]
