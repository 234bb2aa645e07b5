"""The artifact contract shared by training and serving: the ``(pipeline, target_names)``
file and its manifest, the training parameters, and the corpora. No FastAPI, no papermill."""
