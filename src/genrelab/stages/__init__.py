"""What each DVC stage computes and writes: one module per stage, each a ``run_*`` function.

The stage notebooks call one ``run_*`` function, then show what it returns. Keeping the work here
means it is tested without papermill, and the notebooks stay narrative. Paths are relative to the
project root, where DVC runs every stage. Each module imports only what its stage runs, so a
stage's DVC deps can list exactly its import closure (``tests/test_dvc_deps.py`` checks that).
"""
