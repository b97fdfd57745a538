"""Names that the params schema and the code both use, in one place.

This is the lowest layer with :mod:`genrelab.errors`: it imports nothing, so the schema
(:mod:`genrelab.config`) can name the protocols, checkpoints and styles without importing the
modules that implement them, and editing those modules reruns only the stages that run them.
"""

from __future__ import annotations

# Evaluation protocols (genrelab.evaluation.splits), least honest first.
PROTOCOLS = ("random_segment", "track_grouped", "artist_grouped", "fault_filtered", "fma_official")

# The musicnn wheel's checkpoints (genrelab.pretrained.musicnn) and the layers each architecture's
# embeddings come from.
MUSICNN_CHECKPOINTS = ("MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg")
MUSICNN_EMBEDDING_LAYERS = {"musicnn": ("max_pool", "mean_pool", "penultimate"), "vgg": ("pool5",)}
MUSICNN_LAYERS = tuple(layer for layers in MUSICNN_EMBEDDING_LAYERS.values() for layer in layers)

# The demo corpus's ten invented styles (genrelab.data.demo), in their canonical order.
DEMO_STYLES = ("waltz", "march", "swing", "bossa", "dub", "chiptune", "thrash", "ambient", "funk", "techno")

# Approaches whose models `genrelab predict` can run on a file (genrelab.inference.inputs).
SERVABLE_APPROACHES = ("audio_features", "musicnn_embeddings", "musicnn_finetune", "cnn_scratch")


def musicnn_architecture(checkpoint: str) -> str:
    """``musicnn`` or ``vgg``: the architecture a checkpoint name (``MSD_musicnn``, ...) belongs to."""
    return checkpoint.split("_", 1)[1]
