"""rupture-nlp: find alliance-rupture markers in psychotherapy transcripts."""

__version__ = "0.1.0"
