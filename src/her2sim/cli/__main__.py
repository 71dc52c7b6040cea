"""``python -m her2sim.cli``: the same entry point as the ``her2sim`` command."""

from her2sim.cli import main

if __name__ == "__main__":
    main()
