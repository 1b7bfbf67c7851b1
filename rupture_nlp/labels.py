"""The label set of the codebook (``docs/codebook.md``): 3RS rupture markers, their subtypes, and speaker roles.

Everything that needs to know which labels and subtypes exist imports them from here, so the
codebook, validation and the model cannot drift apart.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "LABELS",
    "MARKERS",
    "SUBTYPES",
    "SPEAKER_ROLES",
    "is_client",
    "label_of_subtype",
    "normalise_role",
]

#: Every turn gets exactly one of these; the order is the model's class order.
LABELS = ("withdrawal", "confrontation", "repair", "none")

#: Labels that start a rupture episode.
MARKERS = ("withdrawal", "confrontation")

#: 3RS subtype codes: code -> (label, short definition).
SUBTYPES = {
    "W1": ("withdrawal", "denial of an evident feeling or concern"),
    "W2": ("withdrawal", "minimal response to an open invitation"),
    "W3": ("withdrawal", "abstract or intellectualised talk that avoids the point"),
    "W4": ("withdrawal", "avoidant storytelling or shifting topic"),
    "W5": ("withdrawal", "deferential, appeasing over-agreement"),
    "W6": ("withdrawal", "content/affect split (laughing off pain)"),
    "W7": ("withdrawal", "self-criticism or hopelessness that shuts the work down"),
    "C1": ("confrontation", "complaint about the therapist"),
    "C2": ("confrontation", "rejecting an intervention or the activities of therapy"),
    "C3": ("confrontation", "complaint about parameters (time, fees, scheduling, rules)"),
    "C4": ("confrontation", "complaint about progress"),
    "C5": ("confrontation", "defending self against the therapist"),
    "C6": ("confrontation", "trying to control or pressure the therapist"),
    "R1": ("repair", "acknowledging or validating the client's experience of the strain"),
    "R2": ("repair", "inviting the client to talk about what happened between them"),
    "R3": ("repair", "acknowledging one's own part, apologising"),
    "R4": ("repair", "clarifying a misunderstanding"),
    "R5": ("repair", "changing task or goal in response"),
    "R6": ("repair", "disclosing one's own experience of the moment"),
    "R7": ("repair", "linking the rupture to wider relational patterns"),
    "R8": ("repair", "(client) re-engaging or owning their part after a strain"),
}

#: Canonical speaker roles. Extra clients in couples, family or group work are client2..client9.
SPEAKER_ROLES = ("therapist", "client") + tuple(f"client{i}" for i in range(2, 10))

_ROLE_ALIASES = {
    "therapist": "therapist",
    "t": "therapist",
    "th": "therapist",
    "counselor": "therapist",
    "counsellor": "therapist",
    "clinician": "therapist",
    "practitioner": "therapist",
    "interviewer": "therapist",
    "client": "client",
    "c": "client",
    "cl": "client",
    "patient": "client",
    "pt": "client",
}


def label_of_subtype(code: str) -> str | None:
    """Return the label a subtype code belongs to, or None for an unknown code.

    >>> label_of_subtype("W5")
    'withdrawal'
    """
    entry = SUBTYPES.get(code)
    return entry[0] if entry else None


def normalise_role(speaker: str, speaker_map: dict[str, str] | None = None) -> str | None:
    """Map a speaker as written in a file to a canonical role, or None if it is unknown.

    The speaker map (names as they appear in real files, matched case-insensitively) wins over
    the built-in aliases, so ``{"T": "client"}`` can override the default meaning of ``T``.

    >>> normalise_role("Counsellor")
    'therapist'
    >>> normalise_role("Sam", {"sam": "client"})
    'client'
    >>> normalise_role("Sam") is None
    True
    """
    key = speaker.strip().lower()
    if speaker_map:
        mapped = {k.strip().lower(): v for k, v in speaker_map.items()}.get(key)
        if mapped is not None:
            key = mapped.strip().lower()
    if key in SPEAKER_ROLES:
        return key
    return _ROLE_ALIASES.get(key)


def is_client(speakers) -> np.ndarray:
    """True for every client role (client, client2..client9), per turn: what the model calls
    the speaker's role.

    >>> is_client(["therapist", "client", "client2"]).tolist()
    [False, True, True]
    """
    return np.asarray(speakers).astype(str) != "therapist"
