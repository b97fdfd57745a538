"""The one schema of ``params.yaml``: a pydantic model per section, with its known keys, their
types and allowed values, and their defaults. :mod:`genrelab.config` reads a file or a mapping
against it and turns each problem into one line naming the dotted key.

Free-form parts are the classifier keyword arguments under ``*.models``: their own keys are
checked by the code that builds each estimator (:func:`genrelab.approaches.audio_features.make_models`),
against the estimator's parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

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
    source: Literal["demo", "gtzan", "fma", "folder"] = "demo"
    root: str = "data/raw"
    # GTZAN metadata: paths may be empty, then the matching feature is off.
    gtzan_index: str = ""  # mirdata-style md5 index (json)
    gtzan_artists: str = ""  # Sturm's artist index (txt)
    gtzan_splits: str = ""  # folder with {train,valid,test}_filtered.txt
    # FMA: which subset of tracks.csv, and where tracks.csv is (empty: ROOT/fma_metadata/tracks.csv).
    fma_subset: Literal["small", "medium", "large", "full"] = "small"
    fma_metadata: str = ""
    # Optional public feature tables used in place of extracted features.
    public_features_30s: str = ""
    public_features_3s: str = ""


class Prepare(Section):
    segment_seconds: PositiveFloat = 3.0
    test_fraction: Fraction = 0.25
    seed: int = 42
    protocols: list[Literal[PROTOCOL_NAMES]] = list(PROTOCOL_NAMES)  # type: ignore[valid-type]
    near_duplicate_threshold: Annotated[float, Field(gt=0, le=1)] = 0.93


class Features(Section):
    jobs: Jobs = 2
    shard_tracks: Positive = 1000  # tracks per Parquet shard of the tables (bounds the stage's memory)


class AudioModels(Section):
    seed: int = 42
    cv_folds: NonNegative = 5
    levels: list[Literal["segment", "clip"]] = ["segment", "clip"]
    input: Literal["extracted", "public"] = "extracted"
    models: ModelMap | None = None  # None or empty: the whole zoo with its defaults


class Spectrograms(Section):
    sr: Positive = 22050
    n_mels: Positive = 128
    n_fft: Positive = 2048
    hop_length: Positive = 512
    fmin: Annotated[float, Field(ge=0)] = 0.0
    fmax: PositiveFloat = 11025.0
    ref: Literal["max", "unit"] = "max"
    top_db: PositiveFloat = 80.0
    clip_seconds: PositiveFloat = 30.0
    png: bool = True
    image_dpi: Positive = 100
    jobs: Jobs = 2


def _models(default: dict) -> Any:
    """A ``models`` field whose ``null`` (or absence) means the approach's default models."""
    return Field(default_factory=lambda: {name: {} for name in default})


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
    cv_folds: NonNegative | None = None  # this approach's selection folds; None: image_models.cv_folds
    n_components: Components = 0.9
    fit_rows: Positive = 3000
    models: ModelMap = _models({"random_forest": {}, "logreg": {}})


class Hog(_WithModels):
    cv_folds: NonNegative | None = None
    pixels_per_cell: list[Positive] = [9, 12]  # one HOG approach per cell size; a single int is one size
    orientations: Positive = 9
    cells_per_block: Positive = 2
    n_components: Components = 0.9
    fit_rows: Positive = 3000
    jobs: Jobs = 1
    models: ModelMap = _models({"logreg": {}, "lightgbm": {}})

    @field_validator("pixels_per_cell", mode="before")
    @classmethod
    def _one_size_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, int) and not isinstance(value, bool) else value


class Shelf(_WithModels):
    cv_folds: NonNegative | None = None
    floor_db: Annotated[float, Field(le=0)] = -50.0  # relative to each spectrogram's maximum
    models: ModelMap = _models({"svm": {}, "logreg": {}})


class ImageModels(Section):
    seed: int = 42
    cv_folds: NonNegative = 0
    pixels: Pixels = Field(default_factory=Pixels)
    hog: Hog = Field(default_factory=Hog)
    shelf: Shelf = Field(default_factory=Shelf)


class Scratch(Section):
    # "native": the segment's own n_mels x n_frames; a number: square side in pixels it is resized to
    input_size: Literal["native"] | Annotated[int, Field(ge=8)] = "native"
    filters: Annotated[list[Positive], Field(min_length=1)] = [16, 32, 64, 128]  # one conv/BN/pool block each
    bn_momentum: Annotated[float, Field(ge=0, lt=1)] = 0.9  # of the batch-norm moving statistics
    dense_units: NonNegative = 0  # hidden units before the output layer; 0: none
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.3
    epochs: Positive = 6
    batch_size: Positive = 32
    learning_rate: PositiveFloat = 0.001  # peak; it decays along a cosine to 5 % of it by the last epoch
    patience: NonNegative = 3


class Transfer(Section):
    backbone: Literal[BACKBONE_NAMES] = "mobilenetv2"  # type: ignore[valid-type]
    weights: str = "random"  # imagenet | random | path to a local .h5 / .keras weights file
    channels: Literal["repeat", "stack"] = "repeat"
    input_size: Annotated[int, Field(ge=32)] = 96
    dense_units: Positive = 64
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.3
    frozen_epochs: Positive = 4
    fine_tune_epochs: NonNegative = 1
    fine_tune_layers: NonNegative = 20  # top backbone layers unfrozen after the frozen phase; 0: none
    batch_size: Positive = 32
    learning_rate: PositiveFloat = 0.001
    fine_tune_learning_rate: PositiveFloat = 0.0001
    patience: NonNegative = 2

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
    seed: int = 42
    valid_fraction: Fraction = 0.2  # share of the training groups held out for early stopping
    scratch: Scratch = Field(default_factory=Scratch)
    transfer: Transfer = Field(default_factory=Transfer)


class Published(Section):
    """The pipeline the musicnn authors published: 3 s patches every ``hop_seconds``, PCA to
    ``pca_components`` whitened, RBF SVM, majority vote of the patches per track."""

    enabled: bool = True
    checkpoint: Literal[MUSICNN_CHECKPOINTS] = "MSD_musicnn"  # type: ignore[valid-type]
    layer: Literal[MUSICNN_LAYERS] = "max_pool"  # type: ignore[valid-type]
    hop_seconds: PositiveFloat = 1.0
    pca_components: Positive = 128
    C: PositiveFloat = 1.0  # of the RBF SVM (gamma "scale")


class FineTune(Section):
    """musicnn's pretrained network with a new genre head, trained on the study's segments."""

    enabled: bool = True
    checkpoint: Literal[MUSICNN_CHECKPOINTS] = "MSD_musicnn"  # type: ignore[valid-type]
    trainable: Literal["head", "backend"] = "backend"  # backend: the dense layer and the head learn; head: the head
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.5
    epochs: Positive = 8
    batch_size: Positive = 32
    learning_rate: PositiveFloat = 0.001  # peak; cosine decay as the scratch CNN's
    patience: NonNegative = 3


class Musicnn(Section):
    checkpoints: Annotated[list[Literal[MUSICNN_CHECKPOINTS]], Field(min_length=1)] = ["MSD_musicnn"]  # type: ignore[valid-type]
    layers: Annotated[list[Literal[MUSICNN_LAYERS]], Field(min_length=1)] = ["max_pool", "mean_pool", "penultimate"]  # type: ignore[valid-type]
    seed: int = 42
    cv_folds: NonNegative = 0  # CV inside the training tracks (0: off, the test split is reported)
    jobs: Jobs = 2  # workers decoding audio for the embeddings
    shard_tracks: Positive = 1000  # tracks per Parquet shard of the embedding tables
    models: ModelMap = {"logreg_l2": {"C": 1.0}, "svm_rbf": {"C": 10.0}, "mlp": {"hidden_layer_sizes": [256], "alpha": 0.01}}
    published: Published = Field(default_factory=Published)
    finetune: FineTune = Field(default_factory=FineTune)

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
    alpha: Fraction = 0.05  # significance level of the paired tests
    n_boot: Annotated[int, Field(ge=100)] = 2000  # paired bootstrap resamples
    seed: int = 42
    top: Annotated[int, Field(ge=2)] = 3  # best approaches entering the paired tests


class Predict(Section):
    """Which model ``genrelab predict`` ships (the export stage), and by what rule."""

    approach: Literal["", *SERVABLE_APPROACHES] = ""  # empty: the rule picks
    model: str = ""  # empty: the rule picks (a model name of results/scores.csv)
    protocol: Literal["", *PROTOCOL_NAMES] = ""  # empty: the most honest protocol present
    honesty: list[Literal[PROTOCOL_NAMES]] = Field(  # most honest first
        default_factory=lambda: ["fault_filtered", "fma_official", "artist_grouped", "track_grouped", "random_segment"],
        min_length=1)
    refit: bool = True  # refit on every ok track (true) or keep the protocol's fit (false)


class Recommend(Section):
    """The nearest-neighbour space of ``genrelab recommend`` and its evaluation."""

    space: Literal["musicnn", "features57"] = "musicnn"
    checkpoint: Literal[MUSICNN_CHECKPOINTS] = "MSD_musicnn"  # space musicnn: whose embedding
    layer: Literal[MUSICNN_LAYERS] = "max_pool"
    k: Positive = 5
    examples: NonNegative = 3  # worked examples in the book, with audio players
    excerpt_seconds: PositiveFloat = 8.0  # audio embedded per example player
    jobs: Jobs = 2  # workers fingerprinting the corpus for the duplicate filter


class Serve(Section):
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    host: str = "127.0.0.1"
    max_upload_mb: PositiveFloat = 50.0
    top: Positive = 5  # genres in the chart


class Parallel(Section):
    """Where the per-track work (features, spectrograms, embeddings, fingerprints) runs (genrelab.parallel)."""

    backend: Literal["loky", "threads", "dask"] = "loky"
    dask_scheduler: str = ""  # empty: a LocalCluster of the stage's jobs on this machine; else a scheduler address


QUALITY_CONDITIONS = (
    "flac", "gain:-3>flac", "resample:48000>flac", "limiter>flac",  # genuine lossless, re-mastered or not
    *(f"lame:cbr{k}" for k in (96, 128, 160, 192, 224, 256, 320)), *(f"lame:v{q}" for q in range(7)),
    *(f"lame:{s}>flac" for s in ("cbr96", "cbr128", "cbr160", "cbr192", "cbr256", "cbr320", "v2", "v5")),  # fake lossless
    "lame:cbr128>lame:cbr320", "lame:cbr192>lame:cbr320", "lame:v2>lame:cbr320",  # fake 320
    "lame:cbr320>lame:cbr128",  # a lower MP3
    "lame:cbr192>resample:48000>flac", "lame:cbr128>gain:-3>flac", "lame:v4>limiter>flac",
)  # fmt: skip
QUALITY_PROBES = (  # made for the held-out sources only; never trained on
    *(f"aac:{k}>flac" for k in (96, 128, 192, 256)), *(f"vorbis:q{q}>flac" for q in (2, 4, 6)), "opus:96>flac",
    "opus:160>flac", "shine:128>flac", "shine:192>flac", "aac:128>lame:cbr320",  # unseen encoders
    *(f"resample:48000>lame:{s}" for s in ("cbr128", "cbr192", "v2", "cbr320")),  # encoded at 48 kHz
    "lame:cbr128>resample:48000>lame:cbr320", "lame:v4>resample:48000>flac", "lame:cbr128>resample:32000>flac",
)  # fmt: skip


class QualityCorpus(Section):
    """The lossless sources and what is done to them (genrelab.quality.corpus)."""

    styles: Annotated[list[Literal[DEMO_STYLES]], Field(min_length=1)] = list(DEMO_STYLES)  # type: ignore[valid-type]
    sources_per_style: Positive = 5
    source_seconds: PositiveFloat = 12.0
    seed: int = 42
    # chains of genrelab.quality.conditions: quality_data parses them all before any work
    conditions: Annotated[list[str], Field(min_length=2)] = list(QUALITY_CONDITIONS)
    test_fraction: Fraction = 0.3  # share of sources held out, with every file made from them
    probes: list[str] = list(QUALITY_PROBES)  # chains for the held-out sources only: the generalisation tests
    excerpt_seconds: Annotated[list[PositiveFloat], Field(min_length=1)] = [10.0, 30.0]
    probe_excerpt_seconds: list[PositiveFloat] = [5.0]  # shorter excerpts, of the held-out sources only
    min_bandwidth_hz: PositiveFloat = 21000.0  # a source with less cannot show a low-pass
    jobs: Jobs = 2


class QualityCnn(Section):
    """The small CNN on the 11-22 kHz log spectrogram (genrelab.quality.networks)."""

    filters: Annotated[list[Positive], Field(min_length=1)] = [16, 32, 64]
    dense_units: NonNegative = 0
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.3
    learning_rate: PositiveFloat = 0.003
    epochs: Positive = 40
    batch_size: Positive = 32
    patience: Positive = 6
    bn_momentum: Fraction = 0.9
    freq_mask: Positive = 12  # the masked variant hides up to this many 172 Hz bands of each training picture
    valid_fraction: Fraction = 0.2  # share of the training sources that stop it early


class QualityModels(Section):
    """The models of true quality and their evaluation (genrelab.quality.evaluation)."""

    seed: int = 42
    edge_db: PositiveFloat = 20.0  # the fall that makes a cut-off (genrelab.quality.spectral)
    jobs: Jobs = 2
    models: ModelMap = {"rule": {}, "svm_rbf": {"C": 10.0}, "lightgbm": {"n_estimators": 200}}  # on the features
    cv_folds: Annotated[int, Field(ge=2)] = 3  # folds over the training sources that choose the model to ship
    pixels: ModelMap = {"logreg_l2": {"C": 0.01}}  # the pixels baseline, on Spek's picture
    cnn: QualityCnn = Field(default_factory=QualityCnn)  # trained with and without frequency masking


class Quality(Section):
    corpus: QualityCorpus = Field(default_factory=QualityCorpus)
    models: QualityModels = Field(default_factory=QualityModels)


class Params(Section):
    data: Data = Field(default_factory=Data)
    prepare: Prepare = Field(default_factory=Prepare)
    features: Features = Field(default_factory=Features)
    audio_models: AudioModels = Field(default_factory=AudioModels)
    spectrograms: Spectrograms = Field(default_factory=Spectrograms)
    image_models: ImageModels = Field(default_factory=ImageModels)
    cnn: Cnn = Field(default_factory=Cnn)
    musicnn: Musicnn = Field(default_factory=Musicnn)
    compare: Compare = Field(default_factory=Compare)
    predict: Predict = Field(default_factory=Predict)
    recommend: Recommend = Field(default_factory=Recommend)
    serve: Serve = Field(default_factory=Serve)
    parallel: Parallel = Field(default_factory=Parallel)
    quality: Quality = Field(default_factory=Quality)


SECTIONS: dict[str, type[Section]] = {name: f.annotation for name, f in Params.model_fields.items()}


class KeyedError(ValueError):
    """A cross-field rule's error, naming the key it is about."""

    def __init__(self, key: str, rule: str, value: Any):
        super().__init__(rule)
        self.key, self.rule, self.value = key, rule, value
