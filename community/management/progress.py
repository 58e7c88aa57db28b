"""A plain progress bar for long management commands: on stderr, so the report on stdout stays clean."""


def progress_bar(stderr, width: int = 30):
    """A `progress(done, total)` callback that redraws one line of stderr."""

    def progress(done: int, total: int) -> None:
        filled = width * done // total if total else width
        # Plain, not the red of errors.
        stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", style_func=str, ending="")
        if done == total:
            stderr.write("", style_func=str)

    return progress
