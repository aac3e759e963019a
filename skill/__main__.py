"""`python -m skill` is the `foot-routine` console command."""

from skill.tools.cli import main

main()
