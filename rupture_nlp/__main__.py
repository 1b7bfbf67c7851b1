"""``python -m rupture_nlp``: the ``rupture`` command."""

if __name__ == "__main__":
    from .entry import main

    main()
