"""The ``recommend`` stage: the chapter on the shipped model and the recommender's precision@k."""

from __future__ import annotations

from pathlib import Path

from genrelab.stages.common import METRICS, read_prepared, write_stage_metrics

PRECISION = Path("results/recommend_precision.csv")


def run_recommend_stage(params: dict, *, predict_dir: Path = Path("models/predict"), out: Path = PRECISION,
                        metrics_path: Path = METRICS / "recommend.json"):
    """Precision@k of the exported index with and without the artist filter; returns
    ``(predictor, index, table)``."""
    from genrelab.evaluation.splits import available_protocols
    from genrelab.inference.predict import Predictor
    from genrelab.inference.recommend import precision_table

    predictor = Predictor.load(predict_dir)
    index = predictor.recommender()
    _, splits = read_prepared()
    protocols = available_protocols(splits, params["prepare"]["protocols"])
    table = precision_table(index, splits, protocols, params["recommend"]["k"], n_boot=params["compare"]["n_boot"],
                            seed=params["compare"]["seed"])  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    # Headline: precision@k with the artist filter under each protocol (the table has the rest).
    headline = {row.queries: round(row.precision, 4) for row in table.itertuples()
                if row.artist_filter and row.queries in protocols}  # fmt: skip
    write_stage_metrics(None, headline, metrics_path, None)
    return predictor, index, table

