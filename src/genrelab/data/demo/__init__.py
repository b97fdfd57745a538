"""A synthetic, GTZAN-shaped demo corpus of ten invented styles.

**This corpus is synthetic and is not GTZAN.** It holds no GTZAN audio and none of GTZAN's genre
names; it exists so the whole study runs end to end on a fresh clone, and so its evaluation
protocols can be checked on data whose faults are known exactly.

Layout (as GTZAN's)::

    OUT_DIR/<style>/<style>.NNNNN.wav    mono 16-bit PCM WAV, NNNNN = 00000, 00001, ...
    OUT_DIR/metadata.csv                 one row per file

metadata.csv columns (:data:`METADATA_COLUMNS`): ``track_id`` (file stem), ``genre`` (the style),
``artist``, ``path`` (relative to OUT_DIR), ``duration_s``, ``sample_rate`` (Hz), ``tempo_bpm``,
``meter``, ``key``; ``drums``, ``bass``, ``chords``, ``lead`` as ``<lending style>:<instrument>``
(empty for a silent layer); ``borrowed`` (``layer<-style; ...``, empty when nothing is borrowed);
``noise_kind``; ``injected`` and ``duplicate_of`` (empty, except for the injected copies below).

Styles: waltz, march, swing, bossa, dub, chiptune, thrash, ambient, funk, techno. Each style is a
recipe (:data:`STYLE_RECIPES`): meter, tempo range, swing, modes, chord progressions, drum patterns,
bass lines, comping rhythms, lead rhythms, instruments and effects. A track has four layers
(drums, bass, chords, lead), rendered note by note as numpy arrays and mixed.

Artists. Each style has up to four artists (``min(4, max(2, tracks_per_genre // 5))``), holding
consecutive track numbers as GTZAN's artists do. An artist fixes a sub-palette shared by all its
tracks: key and mode, tempo centre, pattern and instrument choices, brightness, drum-kit tuning,
reverb, mix levels, mastering EQ and the colour of its background noise (hiss, hum, crackle or
tape). So tracks of one artist resemble each other more than other artists' tracks of the same
style: the artist leakage that random splits reward.

Overlap and noise (arguments of :func:`generate_corpus`):

- ``overlap`` (default 0.2): the probability that an artist takes one of its four layers
  (its pattern and instrument) from another style; a single track borrows one more layer with
  probability ``overlap / 2``. Borrowed material plays in the host's meter, tempo and harmony.
- ``noise`` (default 0.05): the RMS of the artist's background noise relative to the music's
  (each track scales it by 0.5 to 1.5). 0 gives clean tracks.

With the defaults, classifiers on MFCC and spectral statistics that never saw a test track's
artist stay well below 100% accuracy, while random clip splits score higher (measured on the
default corpus with logistic regression, random forest and SVM: 66-72% with every test artist
unseen, against 96-98% on random clip splits).

Injected faults (fixed in number, listed in metadata.csv's ``injected`` and ``duplicate_of``
columns; ``LAST = tracks_per_genre - 1``):

- 1 exact duplicate across styles: ``swing.LAST`` is a byte copy of ``bossa.00000``.
- 2 near-duplicates within a style: ``dub.LAST`` is ``dub.00000`` at -3.0 dB, delayed 0.12 s;
  ``techno.LAST`` is ``techno.00000`` at +2.0 dB, delayed 0.25 s (leading silence), re-quantised.

A copy keeps its source's artist and recipe columns and replaces the track that would otherwise
have been rendered in its slot.

Determinism: every track is seeded from ``(seed, style, index)`` (its artist from
``(seed, style, artist)``) with :func:`numpy.random.default_rng`, quantised to int16 here and
written as PCM_16 WAV (which holds no timestamps), so the same arguments give byte-identical files
whatever the number of parallel jobs.

Modules: :mod:`~genrelab.data.demo.styles` (the styles and their recipes),
:mod:`~genrelab.data.demo.synth` (signals, instruments, drums, noise),
:mod:`~genrelab.data.demo.recipes` (artist palettes, per-track choices),
:mod:`~genrelab.data.demo.arrange` (patterns to events), :mod:`~genrelab.data.demo.render`
(one track) and :mod:`~genrelab.data.demo.corpus` (the corpus on disk).
"""
