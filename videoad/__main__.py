"""`python -m videoad ...`: the command line, as the `videoad` script runs it."""
from videoad.cli import main

main()
