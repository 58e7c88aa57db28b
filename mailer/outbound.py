"""Outbound list mail (to be written): fan-out, delivery, decision emails."""


class TransientSendError(Exception):
    pass


def fan_out_post(post_id):
    raise NotImplementedError


def deliver_outbound(outbound_id):
    raise NotImplementedError


def send_application_decision(application_id):
    raise NotImplementedError
