"""The challenge catalogue: products as JSON, validated, versioned, published and explained.

``schema`` composes the product JSON Schema from the registered rule families, ``validation``
checks a product against it and beyond it, and ``problems`` words every problem with its JSON
pointer; ``product`` reads a valid product (effective
rules of a phase for a size and add-ons); ``service`` keeps immutable, content-hashed versions
per desk; ``rulebook`` writes what a trader reads from the same JSON the engine runs.
"""
