"""Exit codes of the `rentmeter` command, and the error for a command line that cannot be carried out."""

EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_CANNOT_START = 1, 2, 3, 4


class UsageError(Exception):
    """A command line that cannot be carried out as given (exit code 2)."""
