"""``python -m eventhub.bench``: see ``eventhub.bench.cli``."""

import sys

from eventhub.bench.cli import main

sys.exit(main())
