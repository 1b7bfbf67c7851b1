"""The rupture cues: small, documented word lists that 3RS coders look at.

This is the one place where cues are defined. Each cue says whether a turn has a token whose
normalised lemma is in its word list; the model gets the cues next to the n-grams, so a cue
helps where the corpus is thin but can be outweighed by context.

=============  ==============================================================================
cue            why a coder looks at it
=============  ==============================================================================
negation       denial (W1) and pushing back (C5) are full of "not", "no", "never", "nothing"
first_person   "I", "me": self-talk, self-criticism (W7), owning one's part (R8, R3)
second_person  "you" aimed at the therapist: complaints (C1) and pressure (C6); in a
               therapist's turn, "you" + feeling words is reflection
we             "we", "us": the therapist naming the relationship (R2, R7)
hedge          "maybe", "I guess", "kind of": tentative, deferential talk (W5, W2)
agreement      "yeah", "sure", "okay", "fine", "whatever": over-agreement (W5) and minimal
               responses (W2) when they answer an open invitation
backchannel    "mm-hmm", "uh-huh", "right": listening tokens, usually `none`
apology        "sorry", "apologise": a therapist's R3 repair, or small talk about being late
feeling        "feel", "upset", "angry", "hurt": talk about affect, in both directions
process        "session", "therapy", "homework", "worksheet": talk about the work itself (C2-C4)
laughter       "(laughs)", "haha": with painful content it is W6, laughing off pain
pause          "...", "[pause]", "(silence)", "--": hesitation, withdrawal, interruption
question       "?": questions, invitations (R2) and challenges (C1)
invitation     "what", "how", "tell", "anything": with "?", an open question, which a minimal
               answer leaves unanswered (W2); "do you...?" is a closed one, answered by "yes"
exclamation    "!": heat
=============  ==============================================================================

Each cue is 1 when the turn has at least one of its words, else 0: counts would make every long
turn look like a marker of every kind. Shape cues mark short turns (``minimal`` 0-3 words,
``short`` 4-12), where length is part of the marker (a minimal answer to an open invitation).
Longer turns get no length cue: in rupture-dense writing, complaints run long, so a band for
long client turns taught the model that length itself is confrontation, which on real chat
sessions flagged ordinary long answers (measured: fewer false alarms and no loss on the corpus
without the ``medium`` and ``long`` bands). For the same reason ``process`` leaves out everyday
words ("week", "help", "point", "exercise" as in walking): they belong to any talk about health.
"""

from __future__ import annotations

__all__ = ["ANSWER_CUES", "CUE_NAMES", "CUE_WORDS", "LENGTH_BANDS", "SHAPE_CUES"]

CUE_WORDS: dict[str, frozenset[str]] = {
    "negation": frozenset(
        "not n't no never nothing nobody none nope nah neither nor cannot dont don't "
        "didnt didn't isnt isn't wasnt wasn't cant can't wont won't aint ain't".split()
    ),
    "first_person": frozenset("i me my mine myself i'm im i've ive i'd i'll".split()),
    "second_person": frozenset("you your yours yourself u ya you're youre you've you'd".split()),
    "we": frozenset("we us our ours ourselves we're we've".split()),
    "hedge": frozenset(
        "maybe perhaps guess suppose probably possibly might kinda sorta dunno whatever "
        "somewhat apparently".split()
    ),
    "agreement": frozenset(
        "yes yeah yep yup sure ok okay fine right agree absolutely exactly totally "
        "whatever alright".split()
    ),
    "backchannel": frozenset("mm mmm mhm hmm hm uh-huh uh huh mm-hmm aha ah oh".split()),
    "apology": frozenset("sorry apologise apologize apology apologies".split()),
    "feeling": frozenset(
        "feel feeling felt upset angry anger hurt sad frustrate frustrated annoy annoyed "
        "scared afraid anxious ashamed embarrassed disappointed".split()
    ),
    "process": frozenset(
        "session therapy therapist counselling counseling homework worksheet "
        "appointment progress".split()
    ),
    "laughter": frozenset(
        "laugh laughs laughing laughter haha hahaha lol chuckle chuckles".split()
    ),
    "pause": frozenset("... … pause silence silent -- —".split()),
    "question": frozenset({"?"}),
    "invitation": frozenset(
        "what how why tell describe explain share anything something what's how's".split()
    ),
    "exclamation": frozenset({"!"}),
}

SHAPE_CUES = ("minimal", "short")
#: Inclusive word-count range of each shape cue.
LENGTH_BANDS = ((0, 3), (4, 12))

#: Conjunctions the cue block adds for client turns that answer a question: whether the
#: question was open (has an ``invitation`` word) or closed, and how long the answer is. A linear
#: model cannot multiply "minimal" by "the therapist asked an open question" itself.
ANSWER_CUES = (
    "after_open_question",
    "after_closed_question",
    "minimal_after_open_question",
    "minimal_after_closed_question",
    "short_after_open_question",
)

#: Column order of the cue matrix produced by the encoder.
CUE_NAMES = tuple(CUE_WORDS) + SHAPE_CUES
