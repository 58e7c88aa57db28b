from celery import shared_task

from . import link_check, live


@shared_task
def prune_live_events():
    live.prune_live_events()


@shared_task
def check_resource_links():
    link_check.check_resource_links()
