"""How people say each correction form (the ``corrections`` suite draws from these).

Wider than what users are expected to say, so the reader (``agent.interjection``) is tested on more
than its author thought of.
"""

from __future__ import annotations

#: How people say each form (wider than what users are expected to say). {c}: a colour, {n}: a
#: shape word, {c0}/{n0}: what the robot was told first.
CORRECTION_PHRASES: dict[str, tuple[str, ...]] = {
    "referent_color": ("no, the {c} one", "no no, the {c} one", "not that one, the {c} one", "sorry, I meant the {c} one",
                       "the {c} one", "no, I said the {c} one", "oops, the {c} one please", "actually, the {c} one",
                       "wrong one, take the {c} one", "no wait, the {c} {n}", "hmm, no, the {c} {n}",
                       "not the {c0} one, the {c} one", "I meant the {c} one, not the {c0} one"),
    "referent_shape": ("no, the {n}", "not that one, the {n}", "sorry, I meant the {n}", "not the {n0}, the {n}",
                       "the {n}, not the {n0}", "no no, the {n}", "actually, take the {n} instead", "no, grab the {n}",
                       "I said the {n}", "oops, the {n} please"),
    "other": ("no, the other one", "the other {n}", "not that one, the other one", "no, the other {n}",
              "wrong one, the other one", "the other one please", "no no, I meant the other {n}"),
    "destination": ("put it in the {c} bowl instead", "actually, in the {c} bowl", "hmm, rather into the {c} bowl",
                    "scratch that, leave it in the {c} bowl", "no, the {c} bowl", "wait, put it in the {c} bowl instead",
                    "no no, into the {c} one", "sorry, I meant the {c} bowl", "make that the {c} bowl",
                    "on second thought, the {c} bowl", "not in the {c0} bowl, in the {c} one", "put it into the {c} dish instead"),
    "destination_on": ("actually, on the {c} {n}", "put it on the {c} {n} instead", "no, on top of the {c} {n}",
                       "hmm, rather onto the {c} {n}", "scratch that, set it on the {c} {n}"),
    "pause": ("wait", "hold on", "hang on", "one sec", "wait a second", "just a moment", "pause", "hold it",
              "give me a sec", "wait, wait"),
    "resume": ("ok, go on", "continue", "carry on", "go ahead", "okay, keep going", "you can continue", "alright, go on",
               "ok go", "resume", "proceed"),
    "undo": ("put it back", "undo that", "put that back", "put it back where it was", "no, put it back", "undo",
             "please put it back", "put the {n} back"),
    "cancel": ("never mind", "forget it", "cancel that", "forget about it", "scratch that", "abort", "don't bother",
               "oh, never mind"),
    "stop": ("stop", "stop!", "halt", "freeze", "stop stop", "stop it", "please stop"),
    "unclear": ("no!", "no no no", "that's wrong", "oops, no", "no, not like that", "wrong!", "nope", "no, that's not it"),
}
