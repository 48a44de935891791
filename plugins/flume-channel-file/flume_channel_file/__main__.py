"""``python -m flume_channel_file check --dir DIR ...``."""

import sys

from flume_channel_file._check import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
