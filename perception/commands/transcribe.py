"""`python main.py transcribe FILE...`: one line per audio file, "path<TAB>text".

WAV files of any sample rate, sample format and channel count are read without ffmpeg. A
silent file prints an empty text; an unreadable file prints its error on stderr and the
command exits 1 after the others are done.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, help="WAV files")
    parser.add_argument("--whisper-model", default="tiny.en",
                        help="tiny.en (packaged), another whisper name, a .pt checkpoint or a CTranslate2 folder")
    parser.add_argument("--prompt", default=None,
                        help="text that primes the decoder (default: the robot-domain prompt)")
    parser.add_argument("--no-prompt", action="store_true", help="decode without any prompt")
    parser.add_argument("--confidence", action="store_true",
                        help="add avg_logprob and no_speech_prob columns")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")


def run(args: argparse.Namespace) -> int:
    from perception.speech.audio import read_wav
    from perception.speech.models import ModelUnavailable
    from perception.speech.stt import DOMAIN_PROMPT, SttConfig, WhisperTranscriber

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    prompt = None if args.no_prompt else (args.prompt or DOMAIN_PROMPT)
    transcriber = WhisperTranscriber(SttConfig(model=args.whisper_model, prompt=prompt))
    failed = 0
    for path in args.files:
        try:
            audio = read_wav(path)
            for warning in audio.warnings:  # a truncated file: say so, transcribe what is there
                print(f"warning: {warning}", file=sys.stderr)
            t = transcriber.transcribe(audio)
        except (OSError, ValueError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        except ModelUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        extra = f"\t{t.avg_logprob:.3f}\t{t.no_speech_prob:.3f}" if args.confidence else ""
        print(f"{path}\t{t.text}{extra}", flush=True)
    return 1 if failed else 0
