"""`python -m videoad ...`: the command line, as the `videoad` script runs it (`run`)."""
import sys

from videoad import LOADING_INTERRUPTED


def run() -> None:
    """The command line. Loading it takes a second or so (every command's module): a Ctrl-C then,
    before a command can answer it (`videoad.cli._Commands`), was Python's traceback of whichever
    import it landed in; it is a line, as a Ctrl-C during a command is."""
    try:
        from videoad.cli import main
    except KeyboardInterrupt:
        print(LOADING_INTERRUPTED, file=sys.stderr)
        sys.exit(130)
    main()


if __name__ == "__main__":
    run()
