"""What the approaches see: the 57 GTZAN-table features, segments, log-mel spectrograms, and their compiled kernels."""
