"""Inbound mail (to be written)."""


def receive_raw(raw: bytes, envelope_recipient: str = ""):
    raise NotImplementedError


def process_inbound(inbound_id):
    raise NotImplementedError
