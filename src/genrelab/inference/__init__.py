"""Using the study's models on new audio: the shipped model (``export``), ``predict``, ``recommend`` and ``serve``.

``inputs``     how each servable approach's input is made, from a file or from the stage outputs
``export``     picks the model to ship by the rule in params, refits it, builds the recommender index
``predict``    genre probabilities of a file, aggregated over its segments as the study scores tracks
``recommend``  the nearest corpus tracks, with the artist filter, and its evaluation (precision@k)
``serve``      the local web page
"""
