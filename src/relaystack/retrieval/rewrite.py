"""``rewrite_query``: a natural-language question made into a search query, by rule.

OpenAI has a model rewrite the query ("I'd like to know the height of the main office
building." becomes "primary office building height"). relaystack calls no model for
it: the rewrite keeps a query's content words in their order and drops punctuation,
question words, English stop words and conversational padding ("please", "tell me").
It is deterministic and offline, so it helps the keyword ranking most (fewer common
words to score) and leaves the meaning the vector ranking sees nearly as it was. A
query with no content word left is kept as it was given.
"""

from __future__ import annotations

import re

# Words with letters or digits, with inner apostrophes and hyphens ("don't", "e-mail").
_RIGHT_QUOTE = "\u2019"  # typographic apostrophe, as in "don\u2019t"
_WORD = re.compile(r"\w+(?:['\u2019-]\w+)*")

_QUESTION = "what which who whom whose when where why how whether"
_PADDING = (
    "please tell me know like want wanted need find show give explain describe "
    "i'd i'm i've i'll let's can could would should may might must shall will"
)
_STOP = (
    "a an the and or but nor so if then than that this these those there here "
    "is are was were be been being am do does did doing done have has had having "
    "i me my mine myself we us our ours you your yours he him his she her hers it its "
    "they them their theirs one ones "
    "of in on at to from by for with about into onto over under between through during "
    "as up down out off again further once also just only very too any some all each "
    "both few more most other such own same not no yes "
    "there's what's it's that's who's where's how's"
)
STOP_WORDS = frozenset((_QUESTION + " " + _PADDING + " " + _STOP).split())


def rewrite_query(query: str) -> str:
    """The query's content words, space-separated, in order (each once)."""
    words = _WORD.findall(query)
    kept = [word for word in words if _normal(word) not in STOP_WORDS]
    if not kept:
        return query
    return " ".join(dict.fromkeys(kept))


def _normal(word: str) -> str:
    return word.lower().replace(_RIGHT_QUOTE, "'")
