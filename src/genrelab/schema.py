"""The one schema of ``params.yaml``: a pydantic model per section, with its known keys, their
types and allowed values. :mod:`genrelab.config` reads a file or a mapping against it and turns
each problem into one line naming the dotted key.

The defaults live in one place, the project's ``params.yaml`` (:data:`DEFAULTS_FILE`): each
field's default is set from its value there when this module loads, so a mapping that names only
some keys (a notebook's or a test's overrides) gets the rest from the file, and a key the file
lacks is an error naming it.

Free-form parts are the classifier keyword arguments under ``*.models``: their own keys are
checked by the code that builds each estimator (:func:`genrelab.approaches.audio_features.make_models`),
against the estimator's parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from genrelab.constants import (
    DEMO_STYLES,
    MUSICNN_CHECKPOINTS,
    MUSICNN_EMBEDDING_LAYERS,
    MUSICNN_LAYERS,
    PROTOCOLS,
    SERVABLE_APPROACHES,
    musicnn_architecture,
)

PROTOCOL_NAMES = PROTOCOLS  # the name the schema's fields use
BACKBONE_NAMES = ("mobilenetv2", "efficientnetb0", "vgg19")
# Input sides (px) ImageNet weights were published for; a backbone not listed takes any side.
IMAGENET_SIZES = {"mobilenetv2": (96, 128, 160, 192, 224)}

Positive = Annotated[int, Field(ge=1)]
NonNegative = Annotated[int, Field(ge=0)]
Fraction = Annotated[float, Field(gt=0, lt=1)]
PositiveFloat = Annotated[float, Field(gt=0)]
Jobs = Annotated[int, Field(ge=-1)]  # workers; -1 = one per core (0 is refused below)
ModelMap = dict[str, dict[str, Any] | None]  # model name -> classifier keyword arguments (free-form)


class Section(BaseModel):
    """A mapping of params.yaml: unknown keys are errors, values are not coerced (``3`` is a
    valid float, ``"3"`` and ``true`` are not integers)."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True)

    @field_validator("jobs", check_fields=False)
    @classmethod
    def _jobs_not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must be a positive number of workers, or -1 for one per core")
        return value


# ------------------------------------------------------------------------------------- sections


class Data(Section):
    source: Literal["demo", "gtzan", "fma", "folder"]
    root: str
    # GTZAN metadata: paths may be empty, then the matching feature is off.
    gtzan_index: str  # mirdata-style md5 index (json)
    gtzan_artists: str  # Sturm's artist index (txt)
    gtzan_splits: str  # folder with {train,valid,test}_filtered.txt
    # FMA: which subset of tracks.csv, and where tracks.csv is (empty: ROOT/fma_metadata/tracks.csv).
    fma_subset: Literal["small", "medium", "large", "full"]
    fma_metadata: str
    # Optional public feature tables used in place of extracted features.
    public_features_30s: str
    public_features_3s: str


class Prepare(Section):
    segment_seconds: PositiveFloat
    test_fraction: Fraction
    seed: int
    protocols: list[Literal[PROTOCOL_NAMES]]  # type: ignore[valid-type]
    near_duplicate_threshold: Annotated[float, Field(gt=0, le=1)]


class Features(Section):
    jobs: Jobs
    shard_tracks: Positive  # tracks per Parquet shard of the tables (bounds the stage's memory)


class AudioModels(Section):
    seed: int
    cv_folds: NonNegative
    jobs: Jobs  # candidates (model x protocol) fitted at a time
    levels: list[Literal["segment", "clip"]]
    input: Literal["extracted", "public"]
    models: ModelMap | None  # None or empty: the whole zoo with its defaults


class Spectrograms(Section):
    sr: Positive
    n_mels: Positive
    n_fft: Positive
    hop_length: Positive
    fmin: Annotated[float, Field(ge=0)]
    fmax: PositiveFloat
    ref: Literal["max", "unit"]
    top_db: PositiveFloat
    clip_seconds: PositiveFloat
    png: bool
    image_dpi: Positive
    jobs: Jobs


class _WithModels(Section):
    @field_validator("models", mode="before", check_fields=False)
    @classmethod
    def _null_is_default(cls, value: Any, info) -> Any:
        return cls.model_fields[info.field_name].get_default(call_default_factory=True) if value is None else value


def _check_components(value: float | int) -> float | int:
    if (isinstance(value, float) and not 0 < value <= 1) or (isinstance(value, int) and value < 1):
        raise ValueError("must be a share of variance in (0, 1] or a whole number of components >= 1")
    return value


Components = Annotated[float | int, AfterValidator(_check_components)]  # PCA: a share of variance, or a count


class Pixels(_WithModels):
    cv_folds: NonNegative | None  # this approach's selection folds; None: image_models.cv_folds
    n_components: Components
    fit_rows: Positive
    models: ModelMap


class Hog(_WithModels):
    cv_folds: NonNegative | None
    pixels_per_cell: list[Positive]  # one HOG approach per cell size; a single int is one size
    orientations: Positive
    cells_per_block: Positive
    n_components: Components
    fit_rows: Positive
    jobs: Jobs
    models: ModelMap

    @field_validator("pixels_per_cell", mode="before")
    @classmethod
    def _one_size_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, int) and not isinstance(value, bool) else value


class Shelf(_WithModels):
    cv_folds: NonNegative | None
    floor_db: Annotated[float, Field(le=0)]  # relative to each spectrogram's maximum
    models: ModelMap


class ImageModels(Section):
    seed: int
    cv_folds: NonNegative
    jobs: Jobs  # candidates (model x protocol) fitted at a time
    pixels: Pixels
    hog: Hog
    shelf: Shelf


class Scratch(Section):
    # "native": the segment's own n_mels x n_frames; a number: square side in pixels it is resized to
    input_size: Literal["native"] | Annotated[int, Field(ge=8)]
    filters: Annotated[list[Positive], Field(min_length=1)]  # one conv/BN/pool block each
    bn_momentum: Annotated[float, Field(ge=0, lt=1)]  # of the batch-norm moving statistics
    dense_units: NonNegative  # hidden units before the output layer; 0: none
    dropout: Annotated[float, Field(ge=0, lt=1)]
    epochs: Positive
    batch_size: Positive
    learning_rate: PositiveFloat  # peak; it decays along a cosine to 5 % of it by the last epoch
    patience: NonNegative


class Transfer(Section):
    backbone: Literal[BACKBONE_NAMES]  # type: ignore[valid-type]
    weights: str  # imagenet | random | path to a local .h5 / .keras weights file
    channels: Literal["repeat", "stack"]
    input_size: Annotated[int, Field(ge=32)]
    dense_units: Positive
    dropout: Annotated[float, Field(ge=0, lt=1)]
    frozen_epochs: Positive
    fine_tune_epochs: NonNegative
    fine_tune_layers: NonNegative  # top backbone layers unfrozen after the frozen phase; 0: none
    batch_size: Positive
    learning_rate: PositiveFloat
    fine_tune_learning_rate: PositiveFloat
    patience: NonNegative

    @field_validator("weights")
    @classmethod
    def _weights_kind(cls, value: str) -> str:
        if value not in ("imagenet", "random") and Path(value).suffix not in (".h5", ".keras"):
            raise ValueError("must be 'imagenet', 'random' or the path of a .h5 / .keras weights file")
        return value

    @model_validator(mode="after")
    def _published_size(self) -> Transfer:
        sizes = IMAGENET_SIZES.get(self.backbone)
        if self.weights == "imagenet" and sizes and self.input_size not in sizes:
            raise KeyedError("input_size", f"must be one of {list(sizes)} for {self.backbone} with imagenet "
                              f"weights (the only sizes its ImageNet weights were published for)", self.input_size)
        return self


class Cnn(Section):
    seed: int
    valid_fraction: Fraction  # share of the training groups held out for early stopping
    scratch: Scratch
    transfer: Transfer


class Published(Section):
    """The pipeline the musicnn authors published: 3 s patches every ``hop_seconds`` (None: the
    study's segments, whose embeddings exist already), PCA to ``pca_components`` whitened, RBF SVM,
    majority vote of the patches per track."""

    enabled: bool
    checkpoint: Literal[MUSICNN_CHECKPOINTS]  # type: ignore[valid-type]
    layer: Literal[MUSICNN_LAYERS]  # type: ignore[valid-type]
    hop_seconds: PositiveFloat | None
    pca_components: Positive
    C: PositiveFloat  # of the RBF SVM (gamma "scale")


class FineTune(Section):
    """musicnn's pretrained network with a new genre head, trained on the study's segments."""

    enabled: bool
    checkpoint: Literal[MUSICNN_CHECKPOINTS]  # type: ignore[valid-type]
    trainable: Literal["head", "backend"]  # backend: the dense layer and the head learn; head: the head
    dropout: Annotated[float, Field(ge=0, lt=1)]
    epochs: Positive
    batch_size: Positive
    learning_rate: PositiveFloat  # peak; cosine decay as the scratch CNN's
    patience: NonNegative


class Musicnn(Section):
    checkpoints: Annotated[list[Literal[MUSICNN_CHECKPOINTS]], Field(min_length=1)]  # type: ignore[valid-type]
    layers: Annotated[list[Literal[MUSICNN_LAYERS]], Field(min_length=1)]  # type: ignore[valid-type]
    seed: int
    cv_folds: NonNegative  # CV inside the training tracks (0: off, the test split is reported)
    jobs: Jobs  # workers decoding audio for the embeddings, and classifiers fitted at a time
    shard_tracks: Positive  # tracks per Parquet shard of the embedding tables
    models: ModelMap
    published: Published
    finetune: FineTune

    @model_validator(mode="after")
    def _layers_of_the_checkpoints(self) -> Musicnn:
        for layer in self.layers:
            owners = [c for c in self.checkpoints if layer in MUSICNN_EMBEDDING_LAYERS[musicnn_architecture(c)]]
            if not owners:
                raise KeyedError("layers", f"names layers none of the checkpoints {self.checkpoints} has "
                                  "(musicnn: max_pool, mean_pool, penultimate; vgg: pool5)", self.layers)  # fmt: skip
        if self.published.enabled and self.published.checkpoint not in self.checkpoints:
            raise KeyedError("published", "checkpoint must be one of musicnn.checkpoints (its embeddings are computed "
                              "there)", self.published.checkpoint)  # fmt: skip
        return self


class Compare(Section):
    alpha: Fraction  # significance level of the paired tests
    n_boot: Annotated[int, Field(ge=100)]  # paired bootstrap resamples
    seed: int
    top: Annotated[int, Field(ge=2)]  # best approaches entering the paired tests


class Predict(Section):
    """Which model ``genrelab predict`` ships (the export stage), and by what rule."""

    approach: Literal["", *SERVABLE_APPROACHES]  # empty: the rule picks
    model: str  # empty: the rule picks (a model name of results/scores.csv)
    protocol: Literal["", *PROTOCOL_NAMES]  # empty: the most honest protocol present
    honesty: Annotated[list[Literal[PROTOCOL_NAMES]], Field(min_length=1)]  # type: ignore[valid-type]  # most honest first
    refit: bool  # refit on every ok track (true) or keep the protocol's fit (false)


class Recommend(Section):
    """The nearest-neighbour space of ``genrelab recommend`` and its evaluation."""

    space: Literal["musicnn", "features57"]
    checkpoint: Literal[MUSICNN_CHECKPOINTS]  # space musicnn: whose embedding
    layer: Literal[MUSICNN_LAYERS]
    k: Positive
    examples: NonNegative  # worked examples in the book, with audio players
    excerpt_seconds: PositiveFloat  # audio embedded per example player
    jobs: Jobs  # workers fingerprinting the corpus for the duplicate filter


class Serve(Section):
    port: Annotated[int, Field(ge=1, le=65535)]
    host: str
    max_upload_mb: PositiveFloat
    top: Positive  # genres in the chart


class Parallel(Section):
    """Where the per-track work (features, spectrograms, embeddings, fingerprints) runs (genrelab.parallel)."""

    backend: Literal["loky", "threads", "dask"]
    dask_scheduler: str  # empty: a LocalCluster of the stage's jobs on this machine; else a scheduler address




class QualityCorpus(Section):
    """The lossless sources and what is done to them (genrelab.quality.corpus)."""

    styles: Annotated[list[Literal[DEMO_STYLES]], Field(min_length=1)]  # type: ignore[valid-type]
    sources_per_style: Positive
    source_seconds: PositiveFloat
    seed: int
    # chains of genrelab.quality.conditions: quality_data parses them all before any work
    conditions: Annotated[list[str], Field(min_length=2)]
    test_fraction: Fraction  # share of sources held out, with every file made from them
    probes: list[str]  # chains for the held-out sources only: the generalisation tests
    excerpt_seconds: Annotated[list[PositiveFloat], Field(min_length=1)]
    probe_excerpt_seconds: list[PositiveFloat]  # shorter excerpts, of the held-out sources only
    min_bandwidth_hz: PositiveFloat  # a source with less cannot show a low-pass
    jobs: Jobs


class QualityCnn(Section):
    """The small CNN on the 11-22 kHz log spectrogram (genrelab.quality.networks)."""

    filters: Annotated[list[Positive], Field(min_length=1)]
    dense_units: NonNegative
    dropout: Annotated[float, Field(ge=0, lt=1)]
    learning_rate: PositiveFloat
    epochs: Positive
    batch_size: Positive
    patience: Positive
    bn_momentum: Fraction
    freq_mask: NonNegative  # the masked variant hides up to this many 172 Hz bands of each training picture (0: none)
    valid_fraction: Fraction  # share of the training sources that stop it early


class QualityModels(Section):
    """The models of true quality and their evaluation (genrelab.quality.evaluation)."""

    seed: int
    edge_db: PositiveFloat  # the fall that makes a cut-off (genrelab.quality.spectral)
    jobs: Jobs
    models: ModelMap  # on the features
    cv_folds: Annotated[int, Field(ge=2)]  # folds over the training sources that choose the model to ship
    pixels: ModelMap  # the pixels baseline, on Spek's picture
    cnn: QualityCnn  # trained with and without frequency masking


class Quality(Section):
    corpus: QualityCorpus
    models: QualityModels


class Params(Section):
    data: Data
    prepare: Prepare
    features: Features
    audio_models: AudioModels
    spectrograms: Spectrograms
    image_models: ImageModels
    cnn: Cnn
    musicnn: Musicnn
    compare: Compare
    predict: Predict
    recommend: Recommend
    serve: Serve
    parallel: Parallel
    quality: Quality


SECTIONS: dict[str, type[Section]] = {name: f.annotation for name, f in Params.model_fields.items()}


class KeyedError(ValueError):
    """A cross-field rule's error, naming the key it is about."""

    def __init__(self, key: str, rule: str, value: Any):
        super().__init__(rule)
        self.key, self.rule, self.value = key, rule, value


DEFAULTS_FILE = Path(__file__).resolve().parents[2] / "params.yaml"


def _set_defaults(model: type[Section], values: dict) -> None:
    """Each field's default is its value in ``values``; a nested section's fields get theirs first."""
    for name, field in model.model_fields.items():
        if name not in values:
            continue  # stays required: the error names the missing key
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, Section) and isinstance(values[name], dict):
            _set_defaults(nested, values[name])
        field.default = values[name]
    model.model_rebuild(force=True)


if DEFAULTS_FILE.is_file():  # an installed copy without the project has no defaults: every key is required
    _set_defaults(Params, yaml.safe_load(DEFAULTS_FILE.read_text()) or {})
