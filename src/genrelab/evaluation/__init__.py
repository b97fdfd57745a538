"""Honest evaluation: the protocols' splits, the one evaluation loop, scoring and the results tables."""
