"""What a text means beyond its exact words: word embeddings for the learned ranker, so
that a need worded as "lorries" still meets projects about "heavy-duty trucks".

WordLlama's small static model (256 dimensions, MIT licence) ships inside its wheel, so
this works offline and never downloads a model. On the consortium protocol it finds
partners by words better than TF-IDF does (docs/matching.md).
"""

import logging
from functools import cache
from pathlib import Path

import numpy as np

DIMENSIONS = 256
# The model holds about 1 KB per character of a text while embedding it, so only the
# beginning of a long text is read: a profile's meaning is clear long before this.
MAX_CHARACTERS = 10_000


@cache
def _model():
    # wordllama calls logging.basicConfig(level=INFO) when imported, which would print
    # every library's INFO lines; with a handler in place that call does nothing.
    root, guard = logging.getLogger(), logging.NullHandler()
    root.addHandler(guard)
    try:
        import wordllama
    finally:
        root.removeHandler(guard)

    # The package looks for its bundled tokenizer in a folder that does not exist, then
    # online; its cache pointed at the package folder finds both bundled files.
    return wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent,
                                    disable_download=True)


def embed(texts: list[str]) -> np.ndarray:
    """One unit vector per text (float32) from its first MAX_CHARACTERS; zeros for a text
    without words."""
    meanings = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    filled = [i for i, text in enumerate(texts) if text and text.strip()]
    if filled:
        vectors = _model().embed([texts[i][:MAX_CHARACTERS] for i in filled], norm=True)
        meanings[filled] = np.nan_to_num(vectors)  # a text of unknown tokens has no direction
    return meanings
