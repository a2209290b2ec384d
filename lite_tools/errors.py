"""One error base for expected failures; anything else is a bug and may show a traceback."""

EXIT_CHECK_FAILED = 1  # a check ran and did not hold (parity, support check of a user's choice)
EXIT_BAD_INPUT = 2  # bad input, or a tool (the optimizer) failed


class LiteToolsError(Exception):
    """An expected failure: the CLI prints its one-line message and exits with `exit_code`."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))  # always one line


class BadInput(LiteToolsError):
    """The user's files or options are wrong."""


class ToolFailure(LiteToolsError):
    """Paddle Lite or Paddle failed (crashed, refused) on input that looked valid."""


class CheckFailed(LiteToolsError):
    """A verification ran and did not hold."""

    exit_code = EXIT_CHECK_FAILED
