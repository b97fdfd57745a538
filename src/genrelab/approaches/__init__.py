"""The approaches compared: audio-feature classifiers, spectrograms as images, CNNs."""
