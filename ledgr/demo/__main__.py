"""Entry point of ``python -m ledgr.demo [offline] [options]``."""

from __future__ import annotations

import sys

from ledgr.demo import network, offline


def main(argv: list[str]) -> int:
    if argv[:1] == ["offline"]:
        return offline.main()
    return network.main(argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
