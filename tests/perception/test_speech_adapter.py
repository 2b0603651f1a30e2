"""The decoder LoRA that adapts whisper to the robot's speech (`perception.speech.adapter`): what
it is trained on, that its rows score exactly what whisper decodes at run time, and that an
adapter saves, loads and merges (or fails with one line naming the folder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from perception.speech import adapter as A
from perception.speech.testset import BABBLE_SENTENCES, HELDOUT_VOICES

DATA = Path(__file__).parent / "data" / "speech"


def test_training_voices_and_babble_leave_the_held_out_test_set_out():
    rng = np.random.default_rng(0)
    voices = {A.training_voice(rng).voice for _ in range(3000)}
    held_accents = {v.voice for v in HELDOUT_VOICES if "+" not in v.voice}
    held_variants = {v.voice.partition("+")[2] for v in HELDOUT_VOICES if "+" in v.voice}
    assert held_accents and held_variants
    for voice in voices - {""}:
        accent, _, variant = voice.partition("+")
        assert accent not in held_accents and variant not in held_variants, voice
    assert len(voices) > 100  # accents x variants, and the piper voice
    assert not set(A.TRAINING_BABBLE) & set(BABBLE_SENTENCES)


def test_targets_are_written_the_way_whisper_writes_speech():
    assert A.target_text("put it in the blue bowl") == "Put it in the blue bowl."
    assert A.target_text("no, the other one!") == "No, the other one!"


@pytest.fixture(scope="module")
def model():
    import torch

    from perception.speech.models import load_whisper

    torch.set_num_threads(1)
    return load_whisper()


@pytest.fixture(scope="module")
def features(model):
    import torch

    from perception.speech.audio import read_wav
    from perception.speech.stt import WhisperTranscriber

    stt = WhisperTranscriber(model=model)
    encoded = [stt.encode(read_wav(DATA / name)) for name in ("number_two_gb_white15db.wav",
                                                              "cyan_cylinder_scotland_white15db.wav")]
    return torch.cat(encoded).half()


@pytest.mark.audio
def test_a_row_is_the_run_time_prefix_then_the_text(model):
    import whisper
    from whisper.decoding import DecodingTask

    from perception.speech.stt import DOMAIN_PROMPT

    [(tokens, n_prefix, sot)] = A.token_rows(model, [A.Example("pick up the red cube", DOMAIN_PROMPT, "", "", 0)])
    task = DecodingTask(model, whisper.DecodingOptions(language="en", task="transcribe", without_timestamps=True,
                                                       fp16=False, prompt=DOMAIN_PROMPT))
    assert tokens[:n_prefix] == list(task.initial_tokens)
    assert task.tokenizer.decode(tokens[n_prefix:-1]) == " Pick up the red cube."
    assert tokens[-1] == task.tokenizer.eot and sot == task.sot_index


@pytest.mark.audio
def test_the_loss_is_whispers_own_teacher_forced_loss(model, features):
    import torch

    from perception.speech.stt import CORRECTION_PROMPT, DOMAIN_PROMPT

    examples = [A.Example("number two", DOMAIN_PROMPT, "", "", 0),
                A.Example("put the cyan cylinder in front of the brown bowl", CORRECTION_PROMPT, "", "", 1)]
    rows = A.token_rows(model, examples)
    length = max(len(r[0]) for r in rows)
    tokens = torch.zeros((2, length), dtype=torch.long)
    targets = torch.full((2, length), -100)
    for k, (seq, n, _) in enumerate(rows):
        tokens[k, : len(seq)] = torch.tensor(seq)
        targets[k, n - 1 : len(seq) - 1] = torch.tensor(seq[n:])
    with torch.no_grad():
        logits = model.decoder(tokens, features.float())
        full = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        ours = A._batch_loss(model.decoder, features, rows, np.arange(2))
    assert float(ours) == pytest.approx(float(full), rel=1e-4)


@pytest.mark.audio
def test_a_trained_adapter_saves_loads_and_merges_into_the_same_decoder(tmp_path, model, features):
    import torch

    from perception.speech.models import load_whisper
    from perception.speech.stt import DOMAIN_PROMPT

    examples = [A.Example("number two", DOMAIN_PROMPT, "", "", 0),
                A.Example("the cyan cylinder", DOMAIN_PROMPT, "", "", 1)]
    config = A.AdapterConfig(rank=4, alpha=8, learning_rate=1e-2, epochs=2, batch_size=2, warmup_steps=1)
    trained = A.train_adapter(load_whisper(), features, examples, config, log=lambda _: None)
    rows = A.token_rows(model, examples)
    with torch.no_grad():
        before = float(A._batch_loss(model.decoder, features, rows, np.arange(2)))
        after = float(A._batch_loss(trained, features, rows, np.arange(2)))
    assert after < before
    A.save_adapter(trained, tmp_path / "adapter", {"test": True})
    merged = load_whisper(adapter=tmp_path / "adapter")
    with torch.no_grad():
        reloaded = float(A._batch_loss(merged.decoder, features, rows, np.arange(2)))
    assert reloaded == pytest.approx(after, rel=1e-3)


@pytest.mark.audio
def test_a_broken_adapter_folder_is_one_error_naming_it(tmp_path):
    from perception.speech.models import load_whisper

    model = load_whisper()  # a failed load may leave adapter layers behind: not the shared model
    with pytest.raises(ValueError, match=f"{tmp_path}: no adapter_config.json"):
        A.apply_adapter(model, tmp_path)
    (tmp_path / "adapter_config.json").write_text('{"peft_type": "LORA", "r": 4, "target_modules": ["query"]}')
    (tmp_path / "adapter_model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="adapter_model.safetensors: cannot load"):
        A.apply_adapter(model, tmp_path)


def test_non_speech_training_sounds_reach_the_recognizer_and_are_reproducible():
    from perception.speech.vad import VadConfig, speech_segments

    talkers = A.babble_talkers()
    kinds, passed = set(), 0
    for seed in range(24):
        clip, kind = A.synthesize_non_speech(seed, talkers)
        kinds.add(kind)
        passed += bool(speech_segments(clip, VadConfig()))
    assert kinds == set(A.NON_SPEECH_KINDS)
    assert passed >= 16  # what the voice detector lets through is what the decoder must learn to drop
    again, _ = A.synthesize_non_speech(3, talkers)
    assert np.array_equal(again.samples, A.synthesize_non_speech(3, talkers)[0].samples)


@pytest.mark.audio
def test_a_non_speech_row_is_the_prefix_then_end_of_text(model):
    from perception.speech.stt import DOMAIN_PROMPT

    [(tokens, n_prefix, _)] = A.token_rows(model, [A.Example("", DOMAIN_PROMPT, "", "", 0)])
    assert len(tokens) == n_prefix + 1 and A.target_text("") == ""


@pytest.mark.audio
def test_the_no_speech_term_is_whispers_own_no_speech_probability(model, features):
    import torch
    import whisper

    from perception.speech.stt import DOMAIN_PROMPT

    rows = A.token_rows(model, [A.Example("", DOMAIN_PROMPT, "", "", 0), A.Example("number two", DOMAIN_PROMPT, "", "", 1)])
    with torch.no_grad():
        text_only = float(A._batch_loss(model.decoder, features, rows, np.arange(2)))
        both = float(A._batch_loss(model.decoder, features, rows, np.arange(2), 1.0, A.no_speech_token(model)))
        result = whisper.decode(model, features[:1].float(), whisper.DecodingOptions(
            language="en", without_timestamps=True, fp16=False, prompt=DOMAIN_PROMPT))[0]
        speech = whisper.decode(model, features[1:].float(), whisper.DecodingOptions(
            language="en", without_timestamps=True, fp16=False, prompt=DOMAIN_PROMPT))[0]
    expected = -(np.log(result.no_speech_prob) + np.log1p(-speech.no_speech_prob)) / 2
    assert both - text_only == pytest.approx(expected, rel=1e-3, abs=1e-4)


def test_the_default_adapter_is_the_committed_one_for_tiny_en_only():
    from perception.speech.models import EMBEDDED_ADAPTER, resolve_adapter

    assert resolve_adapter("tiny.en", "default") == Path(EMBEDDED_ADAPTER)
    assert resolve_adapter("base", "default") is None  # trained for tiny.en's decoder
    assert resolve_adapter("tiny.en", "none") is None and resolve_adapter("tiny.en", None) is None
    assert (Path(EMBEDDED_ADAPTER) / "adapter_model.safetensors").stat().st_size < 30e6
