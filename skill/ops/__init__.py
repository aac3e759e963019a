"""Running it: turn logs and metrics, log levels, and the time budget of a turn's calls."""
