"""Audio in, corpora and their checks: reading files, the problem rules, the dataset layouts, the manifest, duplicates, the demo corpus."""
