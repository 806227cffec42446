"""The one exception type that the CLI turns into a one-line error and exit code 2."""


class HwssmError(Exception):
    """Bad input: a nonsensical bit-width, a corrupt checkpoint, missing data or tools.

    The message is one line, meant for a person; the CLI prints it as
    ``hwssm: error: <message>`` and exits with status 2.
    """
