"""The content layer: the routine and the prompts as data, and the loaders that read them."""
