"""The object namer: a second look at each listed box, trained from collected rows, carried in the
checkpoint, and used by the runtime to rename what the network listed before it writes TARGET."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from policy.model.checkpoint import load_checkpoint, save_checkpoint
from policy.model.cot_format import box_iou, loc_tokens, rename_listed
from policy.training.namer_training import NamerExamples, NamerSettings, namer_accuracy, train_namer
from policy.model.normalize import CheckpointError
from policy.model.object_namer import (NAMER_CONFIG, NAMER_WEIGHTS, NamerConfig, ObjectNamer, crop_boxes, from_crop_frame,
                                 jitter_boxes, save_namer, to_crop_frame)

COLOURS = {"blue": (30, 40, 210), "red": (210, 30, 30)}
SIZE = 48


def _scene(rng: np.random.Generator) -> tuple[np.ndarray, list[tuple[tuple[float, ...], str, str]]]:
    """A grey 48-px image with two objects: a square ('cube') or a disc ('ball'), red or blue."""
    img = np.full((SIZE, SIZE, 3), 180, dtype=np.uint8)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    objects = []
    for cx in (rng.uniform(10, 18), rng.uniform(30, 38)):
        cy, r = rng.uniform(10, 38), rng.uniform(4.5, 6.5)
        colour, shape = rng.choice(list(COLOURS)), rng.choice(["cube", "ball"])
        inside = (np.maximum(abs(xx - cx), abs(yy - cy)) <= r) if shape == "cube" else (np.hypot(xx - cx, yy - cy) <= r)
        img[inside] = COLOURS[colour]
        objects.append((((cx - r) / SIZE, (cy - r) / SIZE, (cx + r) / SIZE, (cy + r) / SIZE), str(colour), str(shape)))
    return img, objects


def _examples(config: NamerConfig, scenes: int, seed: int) -> NamerExamples:
    rng = np.random.default_rng(seed)
    images, index, boxes, colour, shape = [], [], [], [], []
    for _ in range(scenes):
        img, objects = _scene(rng)
        for box, c, s in objects:
            index.append(len(images))
            boxes.append(box)
            colour.append(config.colours.index(c))
            shape.append(config.shapes.index(s))
        images.append(torch.from_numpy(img).permute(2, 0, 1).contiguous())
    n = len(index)
    return NamerExamples(torch.stack(images), np.array(index), np.array(boxes, dtype=np.float32), np.array(colour),
                         np.array(shape), np.zeros(n, dtype=np.int64))


CONFIG = NamerConfig(colours=("blue", "red"), shapes=("ball", "cube"), image_size=SIZE, width=8)


def test_a_crop_is_centred_on_its_box_and_says_how_big_it_is() -> None:
    img = np.full((SIZE, SIZE, 3), 180, dtype=np.uint8)
    img[6:14, 30:40] = COLOURS["red"]  # rows are y, columns x
    pixels = torch.from_numpy(img).permute(2, 0, 1).float() / 127.5 - 1
    box = (30 / SIZE, 6 / SIZE, 40 / SIZE, 14 / SIZE)

    crops, geometry, frames = crop_boxes(pixels, [box], CONFIG)

    centre = (crops[0, :, CONFIG.crop // 2, CONFIG.crop // 2] + 1) * 127.5
    assert torch.allclose(centre, torch.tensor(COLOURS["red"], dtype=torch.float32), atol=1)
    corner = (crops[0, :, 0, 0] + 1) * 127.5
    assert torch.allclose(corner, torch.full((3,), 180.0), atol=1)  # the context around it is the table
    assert geometry[0].tolist() == pytest.approx([10 / SIZE * CONFIG.context, 10 / SIZE, 8 / SIZE, 10 / SIZE])
    side = 10 / SIZE * CONFIG.context
    assert frames[0].tolist() == pytest.approx([35 / SIZE - side / 2, 10 / SIZE - side / 2, side])
    back = from_crop_frame(to_crop_frame(torch.tensor([box]), frames), frames)
    assert back[0].tolist() == pytest.approx(list(box))


def test_the_namer_learns_colour_shape_and_a_tighter_box_from_rows_it_never_saw() -> None:
    train, held_out = _examples(CONFIG, 160, seed=0), _examples(CONFIG, 40, seed=1)
    settings = NamerSettings(steps=150, batch_size=32, eval_every=150, box_weight=1.0)
    untrained = namer_accuracy(ObjectNamer(CONFIG), held_out, settings)

    namer, metrics = train_namer(CONFIG, train, held_out, settings, log=lambda m: None)

    assert metrics["name_acc"] >= 0.9 > untrained["name_acc"]
    # Given boxes moved and resized as the policy's are, it says where the object really is.
    assert metrics["box_iou"] > metrics["given_iou"] + 0.05
    img, objects = _scene(np.random.default_rng(7))
    truth = np.array([box for box, _, _ in objects], dtype=np.float32)
    loose = jitter_boxes(truth, np.random.default_rng(8), settings.jitter_shift, settings.jitter_scale)
    looks = namer.look(torch.from_numpy(img).permute(2, 0, 1).float() / 127.5 - 1, loose)
    assert [look.name for look in looks] == [f"{c} {s}" for _, c, s in objects]
    assert all(0.5 < look.probability <= 1.0 for look in looks)
    refined = np.mean([box_iou(look.box, t.tolist()) for look, t in zip(looks, truth)])
    assert refined > np.mean([box_iou(b.tolist(), t.tolist()) for b, t in zip(loose, truth)])


def test_renaming_the_listing_changes_names_and_boxes_and_nothing_else() -> None:
    text = ("TASK: grab the cyan cube\nVISIBLE OBJECTS: cyan cube <loc0100><loc0200><loc0300><loc0400> , "
            "cyan cube <loc0500><loc0600><loc0700><loc0800>\nTARGET: cyan cube")
    renamed = rename_listed(text, ["cyan cube", "cyan cylinder"])
    assert renamed == text.replace("cyan cube <loc0500>", "cyan cylinder <loc0500>")
    moved = rename_listed(text, ["cyan cube", "cyan cube"], [(0.2, 0.1, 0.4, 0.3), (0.6, 0.5, 0.8, 0.7)])
    assert moved == text.replace("<loc0100><loc0200><loc0300><loc0400>", loc_tokens((0.2, 0.1, 0.4, 0.3))).replace(
        "<loc0500><loc0600><loc0700><loc0800>", loc_tokens((0.6, 0.5, 0.8, 0.7)))
    with pytest.raises(ValueError, match="3 names and 3 boxes for 2 listed objects"):
        rename_listed(text, ["a b", "c d", "e f"])


def _with_namer(policy, folder, image_size: int):
    save_checkpoint(folder, policy.model, policy.tokenizer, policy.stats)
    save_namer(folder, ObjectNamer(NamerConfig(colours=("red",), shapes=("cube",), image_size=image_size, width=4)))
    return folder


def test_a_checkpoint_carries_its_namer_and_one_without_loads_with_none(policy, tmp_path) -> None:
    save_checkpoint(tmp_path / "plain", policy.model, policy.tokenizer, policy.stats)
    assert load_checkpoint(tmp_path / "plain").namer is None

    loaded = load_checkpoint(_with_namer(policy, tmp_path / "named", policy.config.image_size))
    assert loaded.namer is not None and loaded.namer.config.colours == ("red",)


def test_a_namer_for_other_images_a_corrupt_one_or_a_missing_one_is_refused(policy, tmp_path) -> None:
    other = _with_namer(policy, tmp_path / "other", policy.config.image_size * 2)
    with pytest.raises(CheckpointError, match="crops 64-px images, the policy sees 32-px"):
        load_checkpoint(other)

    corrupt = _with_namer(policy, tmp_path / "corrupt", policy.config.image_size)
    (corrupt / NAMER_WEIGHTS).write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError, match="namer.safetensors is corrupt"):
        load_checkpoint(corrupt)

    missing = _with_namer(policy, tmp_path / "missing", policy.config.image_size)
    (missing / NAMER_WEIGHTS).unlink()
    with pytest.raises(CheckpointError, match="namer.safetensors is missing"):
        load_checkpoint(missing)

    malformed = _with_namer(policy, tmp_path / "malformed", policy.config.image_size)
    (malformed / NAMER_CONFIG).write_text(json.dumps({"format_version": 1, "namer": {"colours": ["red"]}}))
    with pytest.raises(CheckpointError, match="not a valid object-namer config"):
        load_checkpoint(malformed)
