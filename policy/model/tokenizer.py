"""Tokenizers and the prefix/suffix encoding PaliGemma expects.

``build_word_tokenizer`` makes the small word-level tokenizer of the ``tiny`` preset (a real
``PreTrainedTokenizerFast`` from the tokenizers library, saved with the checkpoint) holding the
1024 ``<locNNNN>`` tokens, a "\\n" token, ``<image>`` and ``<state>``. ``encode_example`` lays
out one training/inference sequence::

    [<image> x N] <bos> prompt tokens <state> "\\n" | reasoning tokens <eos>
    token_type_ids: 0 ......................................... 0 | 1 ......... 1

so the prefix (image, prompt, state) is bidirectional and the suffix causal.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Iterable

from transformers import PreTrainedTokenizerFast

from policy.model.cot_format import LOC_BINS

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>", "<image>", "<state>", "\n")
#: Words, loc tokens, newline or single punctuation characters.
_WORD_RE = re.compile(r"<loc\d{4}>|<[a-z]+>|\n|[A-Za-z0-9_']+|[^\sA-Za-z0-9_']")


def split_words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


def build_word_tokenizer(texts: Iterable[str]) -> PreTrainedTokenizerFast:
    """Word-level tokenizer over every word in ``texts`` plus specials and loc tokens."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    words: set[str] = set()
    for text in texts:
        words.update(w for w in split_words(text) if not w.startswith("<loc") and w not in SPECIAL_TOKENS)
    vocab_list = list(SPECIAL_TOKENS) + [f"<loc{i:04d}>" for i in range(LOC_BINS)] + sorted(words)
    vocab = {tok: i for i, tok in enumerate(vocab_list)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    # Drop blanks (but not newlines), then one token per word, loc tag, newline or punctuation
    # mark (the same rule as split_words). Case is kept: field tags are upper case.
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(r"[ \t\r]+"), behavior="removed"),
            pre_tokenizers.Split(Regex(_WORD_RE.pattern), behavior="isolated"),
        ]
    )
    core.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token="<pad>",
        bos_token="<bos>",
        eos_token="<eos>",
        unk_token="<unk>",
    )
    return tok


def tokenizer_fingerprint(tokenizer: PreTrainedTokenizerFast) -> str:
    """Stable hash of the vocabulary: a checkpoint records it and refuses another tokenizer."""
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])
    return hashlib.sha256(json.dumps(vocab).encode()).hexdigest()[:16]


def decode_text(tokenizer: PreTrainedTokenizerFast, ids: list[int]) -> str:
    """Ids -> readable text: words joined by spaces, newlines kept, loc tokens glued."""
    tokens = tokenizer.convert_ids_to_tokens(ids)
    special = {tokenizer.pad_token, tokenizer.bos_token, tokenizer.eos_token}
    text = " ".join(t for t in tokens if t not in special)
    text = re.sub(r" ?\n ?", "\n", text)
    text = re.sub(r"> <loc", "><loc", text)
    return re.sub(r" ([:?.])", r"\1", text)


@dataclass(frozen=True)
class EncodedExample:
    """One sequence: ids, prefix/suffix types and which positions the LM loss scores."""

    input_ids: list[int]
    token_type_ids: list[int]  # 0 prefix (bidirectional), 1 suffix (causal)
    loss_mask: list[int]  # 1 where the next-token loss applies (suffix tokens incl. <eos>)


def encode_example(
    tokenizer: PreTrainedTokenizerFast,
    num_image_tokens: int,
    prompt: str,
    suffix: str | None,
    *,
    image_token: str = "<image>",
    state_token: str = "<state>",
) -> EncodedExample:
    """Prefix (image, bos, prompt, state, newline) + optional suffix (reasoning, eos)."""
    ids_of = tokenizer.convert_tokens_to_ids
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    prefix = (
        [ids_of(image_token)] * num_image_tokens
        + [tokenizer.bos_token_id]
        + prompt_ids
        + [ids_of(state_token), ids_of("\n")]
    )
    suffix_ids = [] if suffix is None else tokenizer(suffix, add_special_tokens=False)["input_ids"] + [
        tokenizer.eos_token_id
    ]
    return EncodedExample(
        input_ids=prefix + suffix_ids,
        token_type_ids=[0] * len(prefix) + [1] * len(suffix_ids),
        loss_mask=[0] * len(prefix) + [1] * len(suffix_ids),
    )


def first_loc_id(tokenizer) -> int:
    """Id of ``<loc0000>``; the LOC_BINS loc tokens must be consecutive (word tokenizer and
    PaliGemma's Gemma tokenizer both lay them out so)."""
    first = tokenizer.convert_tokens_to_ids("<loc0000>")
    last = tokenizer.convert_tokens_to_ids(f"<loc{LOC_BINS - 1:04d}>")
    if first is None or last is None or last - first != LOC_BINS - 1 or first == tokenizer.unk_token_id:
        raise ValueError("the tokenizer has no consecutive <loc0000>..<loc1023> tokens")
    return int(first)
