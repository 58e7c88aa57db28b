from celery import shared_task

from . import live


@shared_task
def prune_live_events():
    live.prune_live_events()
