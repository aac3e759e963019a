"""`make bench`: measures the skill against baselines built in the same run (see run.py)."""
