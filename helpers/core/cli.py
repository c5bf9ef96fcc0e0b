"""What the command-line tools share: user errors become one clear line on stderr, not a traceback."""

from __future__ import annotations

import sys

from helpers.core.errors import HelpersError


def run(main_body, argv=None) -> int:
    from helpers.core.repro import quiet_tensorflow

    quiet_tensorflow()
    try:
        return main_body(argv)
    except HelpersError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
