"""``python -m tcpmodel``: the same entry point as the ``tcpmodel`` command."""

from tcpmodel.cli import main

if __name__ == "__main__":
    main()
