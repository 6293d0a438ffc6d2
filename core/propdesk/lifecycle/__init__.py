"""The challenge lifecycle: a pure state machine with its history.

Nothing here does I/O. ``transitions`` names what can happen to a challenge (the engine's
verdicts, the trader's purchases, the operators' actions) and ``machine`` decides whether it
may happen now and what the challenge becomes; persistence and permissions live at the edges.
"""
