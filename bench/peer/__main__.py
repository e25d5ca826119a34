"""``python -m bench.peer``: see :mod:`bench.peer.run`."""

import sys

from bench.peer.run import main

sys.exit(main())
