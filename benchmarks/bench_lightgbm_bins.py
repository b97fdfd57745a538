"""Time LightGBM's histogram size (``max_bin``) on the study's widest LightGBM input: HOG + PCA.

On the built study's spectrograms (``data/spectrograms``, ``data/interim/splits.csv``: run
``dvc repro spectrograms`` first), the HOG features of every segment (cell 9, the default) are
reduced by PCA and the HOG LightGBM (the study's defaults) is fitted on the training tracks of one
protocol, with ``max_bin`` 255 (LightGBM's default), 63 and 31. It prints the fit's wall seconds and
the accuracy on a grouped fifth of the training tracks (inside the training data: the test tracks
are never read). With ~1,500 rows a bin of 255 holds a handful of rows, so fewer bins lose nothing
and histogram building, most of the fit, shrinks with them.

    nice python benchmarks/bench_lightgbm_bins.py
    nice python benchmarks/bench_lightgbm_bins.py --protocol artist_grouped --bins 255 63
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from genrelab.approaches.image_features import ChunkedPCA, hog_features
from genrelab.approaches.image_models import make_image_models
from genrelab.evaluation.splits import segment_subsets
from genrelab.features.spectrograms import load_segments
from genrelab.stages.common import read_prepared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default="track_grouped")
    parser.add_argument("--bins", type=int, nargs="+", default=[255, 63, 31])
    args = parser.parse_args()

    X, index = load_segments("data/spectrograms")
    _, splits = read_prepared()
    tracks = index["track_id"].to_numpy(dtype=object)
    train = segment_subsets(splits, tracks, index["segment"].to_numpy(), args.protocol) == "train"
    y = index["genre"].to_numpy(dtype=object)[train]
    features = hog_features(X[train], 9, 9, cells_per_block=2, jobs=2)
    fit_rows, valid_rows = next(StratifiedGroupKFold(5, shuffle=True, random_state=0).split(features, y, tracks[train]))
    pca = ChunkedPCA(0.9, standardize=False, random_state=42).fit(features[fit_rows])
    Z = pca.transform(features)
    print(f"{args.protocol}: {len(fit_rows)} fitting rows x {Z.shape[1]} components, {len(valid_rows)} validation rows")
    lightgbm = make_image_models()["hog9"].models["hog9_lightgbm"]().named_steps["clf"]
    for bins in args.bins:
        clf = lightgbm.set_params(max_bin=bins, n_jobs=2)
        start = time.perf_counter()
        clf.fit(Z[fit_rows], y[fit_rows])
        seconds = time.perf_counter() - start
        accuracy = float(np.mean(clf.predict(Z[valid_rows]) == y[valid_rows]))
        print(f"max_bin {bins:>3}: fit {seconds:5.1f} s, validation accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
