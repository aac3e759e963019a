"""`python -m skill` is the `foot-routine` console command."""

from skill.cli import main

main()
