"""`python -m videoad ...`: the command line, as the `videoad` script runs it (`run`)."""
import sys

#: what a Ctrl-C while the command line loads says (exit status 130, as a shell's)
LOADING_INTERRUPTED = "interrupted before the command began: nothing was written"


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
