"""papermill orchestration: executing the project's notebooks into the store, all or nothing."""
