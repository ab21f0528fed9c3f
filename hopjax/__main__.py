"""``python -m hopjax``: the command line (:mod:`hopjax.cli`)."""

from hopjax.cli import main

if __name__ == "__main__":
    main()
