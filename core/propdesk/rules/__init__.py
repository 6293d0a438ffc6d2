"""Challenge rules: pure, deterministic evaluation of an account's event history.

Nothing here does I/O. ``events`` parses the inputs, ``account`` keeps the facts every rule
shares (balance, equity, open positions), ``family`` is the base every rule family builds on,
``evaluator`` folds events through a phase's rules into a verdict, and ``families`` holds the
standard families, registered through the plugin contract like a vendor's would be.
"""
