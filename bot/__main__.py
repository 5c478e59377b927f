"""`python -m bot ...` is the same as the `slabot ...` console script."""

import sys

from bot.cli import main

if __name__ == "__main__":  # not when multiprocessing's spawn imports this module again
    sys.exit(main())
