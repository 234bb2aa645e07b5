"""The project's exception root: every failure a user can act on derives from it."""


class NewsapiError(Exception):
    """Base class; the message says what went wrong and what to do about it."""
