"""Where progress lives: the stores, the factory that picks one, and a turn's load and save."""
