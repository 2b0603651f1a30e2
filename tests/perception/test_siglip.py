"""SigLIP embedder: the committed checkpoint reads colours and shapes; bad checkpoints fail loudly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from perception.crops import render_crops
from perception.siglip import DEFAULT_CHECKPOINT, CheckpointError, SiglipEmbedder
from perception.siglip_captions import all_canonical_captions

#: Scene seeds for tests: disjoint from training (1_000_000+) and the held-out report (2_000_000+).
TEST_SEEDS = range(3_000_000, 3_000_008)


@pytest.fixture(scope="module")
def embedder() -> SiglipEmbedder:
    return SiglipEmbedder.from_pretrained(DEFAULT_CHECKPOINT)


@pytest.fixture(scope="module")
def heldout_crops() -> list:
    # New layouts, light azimuths and viewpoints; camera sizes the agent's perception uses.
    return list(render_crops(TEST_SEEDS, "heldout", resolutions=(160, 224)))


def test_committed_checkpoint_reads_colour_and_shape_of_new_renders(embedder, heldout_crops):
    vocab = all_canonical_captions()
    probs = embedder.similarity([v.text for v in vocab], [c.image for c in heldout_crops])
    guesses = [vocab[int(k)] for k in probs.argmax(axis=0)]
    color_acc = np.mean([g.color == c.color for g, c in zip(guesses, heldout_crops)])
    shape_acc = np.mean([g.shape == c.shape for g, c in zip(guesses, heldout_crops)])
    assert len(heldout_crops) >= 20
    assert color_acc >= 0.9, color_acc
    assert shape_acc >= 0.85, shape_acc


def test_true_description_outscores_wrong_colour(embedder, heldout_crops):
    crop = heldout_crops[0]
    wrong = "blue" if crop.color != "blue" else "red"
    p = embedder.similarity([f"the {crop.color} {crop.shape}", f"the {wrong} {crop.shape}"], [crop.image])[:, 0]
    assert 0.0 <= p.min() and p.max() <= 1.0
    assert p[0] > 0.5 > p[1]


def test_embeddings_are_unit_vectors_of_one_width(embedder, heldout_crops):
    images = embedder.embed_images([c.image for c in heldout_crops[:3]])
    texts = embedder.embed_texts(["a red cube", "the big blue sphere on the left"])
    assert images.shape == (3, embedder.dim) and texts.shape == (2, embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(images, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "siglip"
    shutil.copytree(DEFAULT_CHECKPOINT, folder)
    return folder


def test_corrupt_weights_give_a_clear_error(tmp_path):
    folder = _copy(tmp_path)
    (folder / "model.safetensors").write_bytes(b"not a safetensors file" * 10)
    with pytest.raises(CheckpointError, match="cannot load SigLIP weights"):
        SiglipEmbedder.from_pretrained(folder)


def test_weights_that_do_not_fit_the_config_are_rejected(tmp_path):
    folder = _copy(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["vision_config"]["hidden_size"] *= 2
    config["text_config"]["hidden_size"] *= 2
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError):
        SiglipEmbedder.from_pretrained(folder)


def test_processor_from_another_checkpoint_is_rejected(tmp_path):
    folder = _copy(tmp_path)
    prep = json.loads((folder / "preprocessor_config.json").read_text())
    prep["size"] = {"height": 224, "width": 224}
    (folder / "preprocessor_config.json").write_text(json.dumps(prep))
    with pytest.raises(CheckpointError, match="expects"):
        SiglipEmbedder.from_pretrained(folder)


def test_missing_or_foreign_folder_is_explained(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        SiglipEmbedder.from_pretrained(tmp_path / "nowhere")
    (tmp_path / "gpt").mkdir()
    (tmp_path / "gpt" / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(CheckpointError, match="expected 'siglip'"):
        SiglipEmbedder.from_pretrained(tmp_path / "gpt")
