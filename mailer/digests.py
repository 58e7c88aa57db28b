"""Daily digests (to be written)."""


def send_due_digests(now=None):
    raise NotImplementedError
