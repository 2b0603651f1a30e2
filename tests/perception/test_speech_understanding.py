"""Reading speech with the scene in mind: rescoring, sound-alike repairs, the confirmation
question, and no text from noise (fast tests on hand-made n-best lists; whisper on the
committed WAVs in tests/perception/data/speech, 16 kHz mono, each 1.5-4 s)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from perception.speech.audio import Audio, read_wav
from perception.speech.audio_io import ScriptedAudioSource
from perception.speech.channel import ChannelConfig, SpeechChannel
from perception.speech.phonetic import PhoneticMatcher, similarity
from perception.speech.stt import Hypothesis, NBest, Transcript
from perception.speech.confirmation import ConfirmConfig
from perception.speech.understanding import (CommandReader, ReaderConfig, SceneVocabulary, expected_answer, is_noise,
                                             scene_prompt)

DATA = Path(__file__).parent / "data" / "speech"
TABLE = SceneVocabulary((("cyan", "cylinder"), ("brown", "bowl"), ("yellow", "ball"), ("blue", "bowl")))


def nbest(*hyps: tuple[str, float], no_speech: float = 0.05) -> NBest:
    return NBest([Hypothesis(t, lp) for t, lp in hyps], no_speech)


def test_sound_alike_words_match_the_lexicon():
    assert similarity("ball", "bowl") == 1.0
    assert similarity("sand ceiling", "cyan cylinder") > 0.6
    best = PhoneticMatcher(["cyan cylinder", "brown bowl", "red cube", "green", "cube"]).best("sand ceiling")
    assert best[0].phrase == "cyan cylinder" and 0.5 < best[0].similarity < 0.85


def test_rescoring_prefers_a_command_that_fits_the_scene():
    # whisper's first choice names a blue ball; only a blue bowl is on the table
    reading = CommandReader().read(nbest(("put the yellow ball into the blue ball", -0.2),
                                         ("put the yellow ball into the blue bowl", -0.4)), TABLE)
    assert reading.text == "put the yellow ball into the blue bowl"
    assert not reading.confirm  # "ball" and "bowl" sound the same: the scene decides, no question


def test_expected_answer_type_picks_the_number_from_the_n_best_list():
    hyps = nbest(("Thumb up dude.", -0.64), ("Thumb up.", -0.83), ("Number two.", -0.96))
    assert CommandReader().read(hyps, TABLE, "number").text.lower() == "number two"
    assert expected_answer("Which one, number 1 or number 2?") == "number"
    assert expected_answer("The red cube on the left or the one on the right?") == "side"
    assert expected_answer("Did you say the cyan cylinder?") == "yes_no"
    assert expected_answer("Sorry, I stopped. What should I do instead?") == "correction"


def test_unsure_repair_asks_did_you_say_before_acting():
    reading = CommandReader().read(nbest(("Put the sand ceiling in front of the brown bowl.", -0.4)), TABLE)
    assert reading.text == "put the cyan cylinder in front of the brown bowl"
    assert reading.confirm == "Did you say the cyan cylinder?"


class _Heard:
    """A transcriber whose n-best lists and transcripts are scripted, in order."""

    def __init__(self, nbests: list[NBest], transcripts: list[str]) -> None:
        self.nbests, self.transcripts, self.prompts = nbests, transcripts, []

    def transcribe_nbest(self, clip, prompt=None):
        self.prompts.append(prompt)
        return self.nbests.pop(0)

    def transcribe(self, clip):
        return Transcript(self.transcripts.pop(0), -0.2, 0.01)


def test_voice_channel_confirms_the_repair_then_acts_on_yes():
    said: list[str] = []
    heard = _Heard([nbest(("Put the sand ceiling in front of the brown bowl.", -0.4))], ["Yes."])
    channel = SpeechChannel(ScriptedAudioSource([Audio.silence(1.0)] * 2), heard, config=ChannelConfig(confirm=True),
                            printer=said.append, reader=CommandReader())
    channel.set_scene(_Obj(c, s) for c, s in TABLE.objects)
    assert channel.ask("") == "put the cyan cylinder in front of the brown bowl"
    assert "robot asks: Did you say the cyan cylinder?" in said
    assert "cyan cylinder" in heard.prompts[0]  # the decoder was primed with what the robot sees


def test_voice_channel_asks_again_on_no():
    heard = _Heard([nbest(("Put the sand ceiling in front of the brown bowl.", -0.4))], ["No."])
    channel = SpeechChannel(ScriptedAudioSource([Audio.silence(1.0)] * 2), heard, config=ChannelConfig(confirm=True),
                            printer=lambda line: None, reader=CommandReader())
    channel.set_scene(_Obj(c, s) for c, s in TABLE.objects)
    assert channel.ask("") == ""


class _Obj:
    def __init__(self, color: str, shape: str) -> None:
        self.color, self.shape = color, shape


@pytest.mark.parametrize("text", ["Blam, blah, blah, blah, blah.", "(coughing)", "[BLANK_AUDIO]", "..."])
def test_whisper_noise_outputs_are_noise(text):
    assert is_noise(text)
    assert CommandReader().read(nbest((text, -0.9)), TABLE).text == ""


def test_a_sure_no_speech_verdict_is_noise_however_sure_the_words():
    # the adapted decoder says "no speech" on a cough it would otherwise read as a command
    reader = CommandReader()
    assert reader.read(nbest(("Pick up the yellow ball.", -0.2), no_speech=0.97), TABLE).text == ""
    assert "yellow ball" in reader.read(nbest(("Pick up the yellow ball.", -0.2), no_speech=0.5), TABLE).text
    unswitched = CommandReader(ReaderConfig(no_speech_certain=1.0))
    assert "yellow ball" in unswitched.read(nbest(("Pick up the yellow ball.", -0.2), no_speech=0.97), TABLE).text


def test_off_topic_unsure_text_is_dropped_but_short_answers_are_kept():
    reader = CommandReader()
    assert reader.read(nbest(("I think the meeting moved", -0.9)), TABLE).text == ""
    assert reader.read(nbest(("no no, the cube", -0.3)), TABLE).text == "no no, the cube"
    assert reader.read(nbest(("stop", -0.3)), TABLE).text == "stop"


def test_scene_prompt_names_what_is_on_the_table():
    prompt = scene_prompt(TABLE)
    assert prompt.endswith("On the table: the cyan cylinder, the brown bowl, the yellow ball, the blue bowl.")


# ---- whisper on committed clips ---------------------------------------------------------------


@pytest.fixture(scope="module")
def transcriber():
    import torch

    from perception.speech.stt import WhisperTranscriber

    torch.set_num_threads(1)
    stt = WhisperTranscriber()
    stt.model  # noqa: B018
    return stt


@pytest.mark.audio
def test_scene_bias_hears_the_cyan_cylinder_and_brown_bowl(transcriber):
    from perception.referring import ReferringParser

    clip = read_wav(DATA / "cyan_cylinder_scotland_white15db.wav")  # espeak-ng Scottish, white noise 15 dB
    reading = CommandReader().read(transcriber.transcribe_nbest(clip, prompt=scene_prompt(TABLE)), TABLE)
    parsed = ReferringParser().parse_instruction(reading.text)
    assert (parsed.pick.color, parsed.pick.shape, parsed.relation) == ("cyan", "cylinder", "in_front_of")
    assert (parsed.place.color, parsed.place.shape) == ("brown", "bowl")


@pytest.mark.audio
def test_number_answer_is_read_as_a_number(transcriber):
    clip = read_wav(DATA / "number_two_gb_white15db.wav")
    assert CommandReader().read(transcriber.transcribe_nbest(clip), TABLE, "number").text.lower() == "number two"


@pytest.mark.audio
@pytest.mark.parametrize("name", ["cough_only", "babble_only"])
def test_noise_only_clips_give_no_text(transcriber, name):
    clip = read_wav(DATA / f"{name}.wav")
    assert transcriber.transcribe(clip).text == ""
    assert CommandReader().read(transcriber.transcribe_nbest(clip, prompt=scene_prompt(TABLE)), TABLE).text == ""
    silence = Audio(np.random.default_rng(0).normal(0, 1e-4, 16_000).astype(np.float32), 16_000)
    assert transcriber.transcribe_nbest(silence).hypotheses == []


def test_transcribe_scene_file_errors_name_file_and_field(tmp_path):
    from perception.commands.transcribe import load_scene_vocabulary

    good = tmp_path / "scene.yaml"
    good.write_text("scene:\n  objects:\n    - {id: a, shape: cylinder, color: cyan, position: [0.5, 0.1]}\n")
    assert load_scene_vocabulary(good).names() == ["cyan cylinder"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("objects:\n  - {id: a, shape: cylindr, color: cyan, position: [0.5, 0.1]}\n")
    with pytest.raises(ValueError, match=r"bad.yaml: field objects.0.shape"):
        load_scene_vocabulary(bad)


# ---- "did you say ...?" from the n-best list (perception.speech.confirmation) ----------------

RED_GREEN = SceneVocabulary((("red", "cube"), ("green", "cube"), ("blue", "bowl")))


def test_close_readings_that_mean_different_objects_ask_first():
    # both cubes are on the table and whisper barely prefers one colour: do not guess
    hyps = nbest(("pick up the red cube", -0.30), ("pick up the green cube", -0.36))
    reading = CommandReader().read(hyps, RED_GREEN)
    assert reading.text == "pick up the red cube"
    assert reading.doubt == "disagreement" and reading.rival == "pick up the green cube"
    assert reading.confirm == 'Did you say "pick up the red cube"?'
    # the switchable part: with the n-best checks off it acts on the best reading
    off = CommandReader(ReaderConfig(confirm=ConfirmConfig.off())).read(
        nbest(("pick up the red cube", -0.30), ("pick up the green cube", -0.36)), RED_GREEN)
    assert off.text == "pick up the red cube" and not off.confirm


def test_close_readings_with_the_same_meaning_do_not_ask():
    hyps = nbest(("grab the red cube", -0.30), ("pick up the red cube", -0.31), ("pick up the red", -0.32))
    reading = CommandReader().read(hyps, RED_GREEN)
    assert reading.text == "grab the red cube" and not reading.confirm


def test_a_far_weaker_rival_does_not_ask():
    hyps = nbest(("pick up the red cube", -0.10), ("pick up the green cube", -1.5))
    assert not CommandReader().read(hyps, RED_GREEN).confirm


def test_unsure_meaning_word_in_the_greedy_text_runs_the_beam_search():
    beams: list[int] = []

    def decoder(k: int):
        beams.append(k)
        return [Hypothesis("pick up the red cube", -0.30), Hypothesis("pick up the green cube", -0.34)], 0.02

    def greedy(colour_prob: float) -> NBest:
        words = (("pick", 0.9), ("up", 0.99), ("the", 0.9), ("red", colour_prob), ("cube", 0.97))
        return NBest([Hypothesis("Pick up the red cube.", -0.2, words)], 0.02, _decoder=decoder)

    sure = CommandReader().read(greedy(0.95), RED_GREEN)
    assert beams == [] and not sure.used_beam and not sure.confirm
    unsure = CommandReader().read(greedy(0.2), RED_GREEN)
    assert beams == [5] and unsure.used_beam and unsure.doubt == "disagreement"


def test_a_correction_is_rescored_against_the_correction_reader():
    from agent.interjection import correction_meaning

    reader = CommandReader(correction_meaning=correction_meaning)
    # "I'm not good" is no correction at all; "no, the cube" is one
    reading = reader.read(nbest(("I'm not good.", -0.30), ("No, the cube.", -0.55)), RED_GREEN, "correction")
    assert reading.text.lower() == "no, the cube"
    # "block on" reads as "the block": a pause and a new object score close, so it asks
    doubt = reader.read(nbest(("Block on.", -0.35), ("Hold on.", -0.45)), RED_GREEN, "correction")
    assert doubt.confirm and doubt.rival.lower() == "hold on"
    # whisper's comma is kept: the correction reader splits clauses at it
    kept = reader.read(nbest(("No, the green cube.", -0.2)), RED_GREEN, "correction")
    assert kept.text.lower() == "no, the green cube" and correction_meaning(kept.text)["kind"] == "referent"
    assert "Stop!" in scene_prompt(RED_GREEN, expected="correction")


GRAY_RED = SceneVocabulary((("gray", "ball"), ("red", "cube"), ("blue", "bowl"), ("green", "bowl")))


@pytest.mark.audio
def test_a_colour_misheard_is_asked_about_not_acted_on(transcriber):
    from perception.referring import ReferringParser

    # espeak-ng Caribbean "pick up the gray sphere on the left", white noise 20 dB: whisper hears
    # a red sphere; the table holds a red cube and a gray ball, so neither is safe to guess
    clip = read_wav(DATA / "gray_sphere_left_029_white20db.wav")
    reading = CommandReader().read(transcriber.transcribe_nbest(clip, prompt=scene_prompt(GRAY_RED)), GRAY_RED)
    pick = ReferringParser().parse_instruction(reading.text).pick
    assert reading.confirm or (pick.color, pick.shape) == ("gray", "ball")


@pytest.mark.audio
def test_a_spoken_correction_is_read_with_the_correction_prompt_and_reader(transcriber):
    from agent.interjection import correction_meaning, read_interjection

    # espeak-ng US "not in the green bowl, in the blue one", white noise 20 dB
    clip = read_wav(DATA / "not_green_in_blue_us_white20db.wav")
    nbest_list = transcriber.transcribe_nbest(clip, prompt=scene_prompt(GRAY_RED, expected="correction"))
    reading = CommandReader(correction_meaning=correction_meaning).read(nbest_list, GRAY_RED, "correction")
    said = read_interjection(reading.text)
    assert reading.confirm or (said.kind, said.words, said.relation) == ("destination", "the blue one", "in")


def test_a_doubtful_spoken_correction_halts_and_asks_instead_of_acting():
    import time

    from agent.interjection import correction_meaning, read_interjection
    from perception.speech.interjections import VoiceInterjections

    # mid-motion: "block on" (the block?) and "hold on" score close: pass on a bare "no"
    heard = _Heard([nbest(("Block on.", -0.35), ("Hold on.", -0.45)), nbest(("Stop!", -0.1))], [])
    listener = VoiceInterjections(ScriptedAudioSource([Audio.silence(1.0)] * 2), heard,
                                  reader=CommandReader(correction_meaning=correction_meaning),
                                  vocabulary=lambda: RED_GREEN).start()
    deadline = time.monotonic() + 10.0
    while listener.error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    said = [listener.poll(0), listener.poll(1)]
    assert said == ["no", "stop"]
    assert read_interjection(said[0]).kind == "unclear"  # the agent stops and asks what to do instead
    assert "Stop!" in heard.prompts[0]  # decoded with the correction prompt


def test_babble_that_a_lower_hypothesis_turns_into_a_command_gives_no_text():
    # noise-only babble: whisper's own first guess is small talk; "the other one" is a weak beam
    hyps = nbest(("It's easy.", -1.14), ("It'll be a good one.", -0.78), ("The other one.", -0.89), no_speech=0.3)
    assert CommandReader().read(hyps, TABLE).text == ""


def test_words_that_sound_the_same_are_asked_about_only_when_both_fit_the_table():
    from agent.interjection import correction_meaning

    reader = CommandReader(correction_meaning=correction_meaning)
    both = SceneVocabulary((("white", "ball"), ("white", "bowl"), ("red", "cube")))
    heard = nbest(("On second thought, the white ball.", -0.11))
    assert reader.read(heard, both, "correction").doubt == "disagreement"  # the ball, or the bowl?
    only_ball = SceneVocabulary((("white", "ball"), ("red", "cube")))
    assert not reader.read(nbest(("On second thought, the white ball.", -0.11)), only_ball, "correction").confirm


def test_an_answer_is_compared_on_what_the_question_asks_for():
    hyps = nbest(("Number one.", -0.30), ("No, number one.", -0.33))
    assert not CommandReader().read(hyps, TABLE, "number").confirm


def test_go_on_and_hold_on_are_told_apart_by_whether_the_arm_waits():
    from agent.interjection import correction_meaning

    reader = CommandReader(correction_meaning=correction_meaning)

    def heard() -> NBest:  # whisper slightly prefers "go on"; the two sound alike
        return nbest(("Go on.", -0.35), ("Hold on.", -0.45))

    moving = reader.read(heard(), RED_GREEN, "correction", frozenset({"resume"}))
    assert correction_meaning(moving.text)["kind"] == "pause" and not moving.confirm
    waiting = reader.read(heard(), RED_GREEN, "correction", frozenset({"pause"}))
    assert correction_meaning(waiting.text)["kind"] == "resume" and not waiting.confirm
    # without the arm's state the two are a disagreement: it asks
    assert reader.read(heard(), RED_GREEN, "correction").confirm


def test_the_listener_reads_corrections_by_the_arm_state_the_motion_notes():
    import time

    from agent.interjection import correction_meaning
    from perception.speech.interjections import VoiceInterjections

    heard = _Heard([nbest(("Go on.", -0.35), ("Hold on.", -0.45))], [])
    listener = VoiceInterjections(ScriptedAudioSource([Audio.silence(1.0)]), heard,
                                  reader=CommandReader(correction_meaning=correction_meaning),
                                  vocabulary=lambda: RED_GREEN)
    listener.note_paused(False)
    listener.start()
    deadline = time.monotonic() + 10.0
    while listener.error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert listener.poll(0).lower() == "hold on"
