"""What a text means beyond its exact words: word embeddings for the learned ranker, so
that a need worded as "lorries" still meets projects about "heavy-duty trucks".

WordLlama's small static model (256 dimensions, MIT licence) ships inside its wheel, so
this works offline and never downloads a model. On the consortium protocol it finds
partners by words better than TF-IDF does (docs/matching.md).
"""

import hashlib
import logging
import threading
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

DIMENSIONS = 256
# The model holds about 1 KB per character of a text while embedding it, so only the
# beginning of a long text is read: a profile's meaning is clear long before this.
MAX_CHARACTERS = 10_000


@cache
def _model() -> Any:
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


# The finder is rebuilt when any organisation changes, but project texts rarely do: the
# newest lists of texts embedded (two per finder) are kept, read-only, by their digest.
KEPT = 4
_kept: dict[bytes, np.ndarray] = {}
_kept_lock = threading.Lock()


def embed(texts: list[str]) -> np.ndarray:
    """One unit vector per text (float32) from its first MAX_CHARACTERS; zeros for a text
    without words. A list's result is kept and read-only."""
    if len(texts) < 2:  # a need typed in the finder: asked once
        return _embed(texts)
    key = hashlib.sha256("\x1f".join(texts).encode()).digest()
    with _kept_lock:
        if key in _kept:
            return _kept[key]
    meanings = _embed(texts)
    meanings.flags.writeable = False
    with _kept_lock:
        _kept[key] = meanings
        while len(_kept) > KEPT:
            del _kept[next(iter(_kept))]
    return meanings


def _embed(texts: list[str]) -> np.ndarray:
    meanings = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    filled = [i for i, text in enumerate(texts) if text and text.strip()]
    if filled:
        vectors = _model().embed([texts[i][:MAX_CHARACTERS] for i in filled], norm=True)
        meanings[filled] = np.nan_to_num(vectors)  # a text of unknown tokens has no direction
    return meanings
