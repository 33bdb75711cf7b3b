"""``python -m eventhub.run COMMAND [ARGS...]``: the same as ``eventhub-run``."""

import sys

from eventhub.run.cli import main

if __name__ == "__main__":
    sys.exit(main())
