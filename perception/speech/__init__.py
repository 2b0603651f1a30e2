"""Speech for the robot: whisper in, TTS out, microphone/speaker behind one interface.

Modules (import what you use; nothing heavy loads at import time):
- audio: `Audio` clips, WAV read/write, resampling      - vad: energy voice-activity detection
- ct2_convert / models: offline whisper weights          - stt: `WhisperTranscriber`, `Transcript`
- tts: TTS backend registry ("piper", "espeak")          - synthesize: TTS + noise at an SNR
- audio_io: microphone / speaker / scripted WAVs         - channel: `SpeechChannel` (ask/say/listen)
- interjections: background "stop" listener              - roundtrip: simulated person by voice
- voice_session: `open_voice_channel` for `main.py session --voice`   - wer: word error rate
- understanding: `CommandReader` (n-best rescoring by scene and expected answer, noise gate)
- confirmation: when to ask "Did you say ...?" instead of acting (`ConfirmConfig`)
- transcript_text: whisper's text tidied for reading (commas kept, digits spelled)
- phonetic: sound-alike matching ("sand ceiling" ~ "cyan cylinder")
- push_to_talk: record while a key is held      - noise / testset: the reproducible speech test set
- adapter: the decoder LoRA that adapts whisper to the robot's speech (`main.py train-speech`)
"""
