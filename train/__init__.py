"""Training, evaluation and export of the colorizer networks."""
