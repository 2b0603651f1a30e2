"""`python main.py transcribe FILE...`: one line per audio file, "path<TAB>text".

WAV files of any sample rate, sample format and channel count are read without ffmpeg. A
silent file prints an empty text; an unreadable file prints its error on stderr and the
command exits 1 after the others are done. `--scene FILE` (a scene YAML, or a scenario with a
`scene:`) reads each clip against that table: the prompt names its objects, whisper's n-best
list is rescored by what parses into a command that fits it, sound-alike words are repaired,
and noise gives an empty text (`perception.speech.understanding`). `--expect correction` reads
them as said while the arm moves (the correction prompt). With `--confidence` a last column
holds the question the robot would ask before acting ("Did you say ...?"), or "-".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, help="WAV files")
    parser.add_argument("--whisper-model", default="tiny.en",
                        help="tiny.en (packaged), another whisper name, a .pt checkpoint or a CTranslate2 folder")
    parser.add_argument("--speech-adapter", default="default",
                        help="decoder LoRA folder (main.py train-speech), default (the committed one, tiny.en "
                             "only) or none")
    parser.add_argument("--prompt", default=None,
                        help="text that primes the decoder (default: the robot-domain prompt)")
    parser.add_argument("--no-prompt", action="store_true", help="decode without any prompt")
    parser.add_argument("--confidence", action="store_true",
                        help="add avg_logprob and no_speech_prob columns")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--scene", type=Path, default=None,
                        help="scene YAML (or scenario with a 'scene:'): bias and rescore toward its objects")
    parser.add_argument("--expect", choices=("command", "correction"), default="command",
                        help="with --scene: what is said, a command or a correction while the arm moves")


def load_scene_vocabulary(path: Path):
    """The objects of a scene or scenario YAML as a SceneVocabulary; ValueError naming the file."""
    import yaml
    from pydantic import ValidationError

    from perception.speech.understanding import SceneVocabulary
    from sim.scene import SceneSpec

    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read scene: {' '.join(str(exc).split())}") from exc
    if isinstance(data, dict) and "scene" in data:
        data = data["scene"]
    try:
        return SceneVocabulary.of(SceneSpec.model_validate(data).objects)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "scene"
        raise ValueError(f"{path}: field {where}: {err['msg']}") from exc


def run(args: argparse.Namespace) -> int:
    from perception.speech.audio import read_wav
    from perception.speech.models import ModelUnavailable
    from perception.speech.stt import DOMAIN_PROMPT, SttConfig, Transcript, WhisperTranscriber

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from perception.speech.understanding import CommandReader, scene_prompt

    vocabulary = None
    if args.scene is not None:
        try:
            vocabulary = load_scene_vocabulary(args.scene)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    prompt = None if args.no_prompt else (args.prompt or DOMAIN_PROMPT)
    if vocabulary is not None and not args.no_prompt and not args.prompt:
        prompt = scene_prompt(vocabulary, expected=args.expect)
    transcriber = WhisperTranscriber(SttConfig(model=args.whisper_model, adapter=args.speech_adapter, prompt=prompt))
    reader = CommandReader()
    failed = 0
    for path in args.files:
        question = ""
        try:
            audio = read_wav(path)
            for warning in audio.warnings:  # a truncated file: say so, transcribe what is there
                print(f"warning: {warning}", file=sys.stderr)
            if vocabulary is None:
                t = transcriber.transcribe(audio)
            else:
                nbest = transcriber.transcribe_nbest(audio)
                reading = reader.read(nbest, vocabulary, args.expect)
                question = reading.confirm or "-"
                top = nbest.hypotheses[0] if nbest.hypotheses else None
                t = Transcript(reading.text, top.avg_logprob if top else 0.0, nbest.no_speech_prob)
        except (OSError, ValueError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        except ModelUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        extra = f"\t{t.avg_logprob:.3f}\t{t.no_speech_prob:.3f}" if args.confidence else ""
        extra += f"\t{question}" if args.confidence and question else ""
        print(f"{path}\t{t.text}{extra}", flush=True)
    return 1 if failed else 0
