"""Who used what, and how much each owner may: usage per owner and limits per owner.

Both live in the store, so every replica sees the same totals.
"""
