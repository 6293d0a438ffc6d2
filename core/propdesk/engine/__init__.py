"""The evaluation engine: accounts evaluated against their product's rules.

``replay`` evaluates one phase of a product against an exported event history; the real-time
engine produces the same verdicts from the same inputs.
"""
