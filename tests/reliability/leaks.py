"""What an error page without debug must not contain."""

GENERIC_MARKERS = ("Traceback", "File \"", ", line ", ".py", "/tmp", "/srv", "/work", "/usr", "Error:", "raise ")


def leaks(body, secrets=()):
    """The forbidden fragments found in a response body: a traceback, a
    source line, a filesystem path, the exception's own text."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    found = [marker for marker in GENERIC_MARKERS if marker in text]
    found += [secret for secret in secrets if secret and secret in text]
    return found
