"""What people say to the skill, by meaning: the corpus and the meaning-to-intent table."""
