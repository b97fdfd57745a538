"""The comparison chapter: every approach side by side, from the results table and the predictions.

Everything here is a pure function of ``results/scores.csv`` (:data:`genrelab.evaluation.results.SCORE_COLUMNS`)
and ``results/predictions/*.parquet`` (:data:`genrelab.evaluation.results.PREDICTION_COLUMNS`): tables come
back as DataFrames, figures as new matplotlib figures, and the chapter's conclusions as Markdown
whose every number, name and ordering is read from those tables. An approach or protocol that is
absent from the results is simply absent from every table, figure and sentence.

Conventions
-----------
- A model *entry* is ``(approach, model, level)``; the same estimator name can be fitted on
  segments and on clips, and those are different entries.
- *Track scope* ranks the rows that predict one label per track: ``track`` rows (segment
  probabilities averaged per track) and ``clip`` rows (one 30 s example per track).
  *Segment scope* ranks ``segment`` rows.
- Accuracies, F1 scores and CI bounds are fractions in [0, 1]; gaps and differences called
  *points* are percentage points. Times are wall-clock seconds.
- The *most honest* protocol is the first present of ``fault_filtered`` (GTZAN) or
  ``fma_official`` (FMA) ``> artist_grouped > track_grouped``; ``random_segment`` is the leaky reference.

Modules: :mod:`~genrelab.report.compare.tables`, :mod:`~genrelab.report.compare.figures`,
:mod:`~genrelab.report.compare.stats` (paired tests), :mod:`~genrelab.report.compare.prose` (conclusions).
"""
