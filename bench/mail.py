"""How long the mailing list takes for a community of N members, on its own scratch database.

    uv run python bench/mail.py --members 3000

Creates (or empties) the database healtalk_bench on the PostgreSQL of DATABASE_URL (default 127.0.0.1:5432), fills
it with N active members in every delivery mode, a day of posts, and measures, each as the best of three runs:
- choosing the recipients of one post (mailer.selectors.recipients, one query),
- fanning the post out into outbox rows and rendering and sending every message (locmem backend, tasks eager),
- sending the day's digests to the daily-digest members (mailer.digests.send_due_digests).
It prints one line per measure; docs/BENCHMARKS.md keeps the results with the machine they came from.
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/healtalk").rsplit("/", 1)[0]
os.environ["DATABASE_URL"] = f"{BASE_URL}/healtalk_bench"
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "community.settings")
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
os.environ["LOG_LEVEL"] = "WARNING"


def prepare_database():
    import psycopg

    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS healtalk_bench")
        admin.execute("CREATE DATABASE healtalk_bench")


def best_of(runs, action, reset=lambda: None):
    times = []
    for _ in range(runs):
        reset()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--posts", type=int, default=60, help="posts in the day's digest")
    args = parser.parse_args()
    prepare_database()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from community.celery import app as celery_app
    from community.models import EligibilityBasis, Member, Organization, User
    from mailer import digests, outbound, selectors
    from mailer.models import DigestLog, MailPreference, OutboundMessage
    from threads.imports import create_imported_reply, create_imported_thread
    from threads.models import Category
    from threads.services import new_message_id

    call_command("migrate", verbosity=0)
    # Digests are due now, whatever the hour and the day the bench runs.
    settings.DIGEST_HOUR = 0
    settings.DIGEST_WEEKDAY = timezone.localtime().weekday()
    celery_app.conf.task_always_eager = True
    organization = Organization.objects.create(name="Bench Center", eligibility_basis=EligibilityBasis.NCTTP_MEMBER)
    modes = [MailPreference.Mode.EACH, MailPreference.Mode.DAILY, MailPreference.Mode.WEEKLY,
             MailPreference.Mode.MINE, MailPreference.Mode.NONE]
    users = User.objects.bulk_create([User(email=f"m{n}@bench.example.org", password="!")
                                      for n in range(args.members)])
    members = Member.objects.bulk_create([
        Member(user=user, full_name=f"Member {n}", organization=organization, status=Member.Status.ACTIVE,
               joined_at=timezone.now() - timedelta(days=30))
        for n, user in enumerate(users)
    ])
    MailPreference.objects.bulk_create([MailPreference(member=member, mode=modes[n % len(modes)])
                                        for n, member in enumerate(members)])
    category = Category.objects.create(name="Clinical questions")
    # Posted as history (threads.imports publishes nothing), so that setting up sends no mail of its own.
    posted_at = timezone.now() - timedelta(hours=2)
    root = create_imported_thread(category=category, title="Bench thread", author=members[0], body="Opening post.",
                                  created_at=posted_at, message_id=new_message_id())
    for n in range(args.posts - 1):
        post = create_imported_reply(parent=root, author=members[(n * 7) % len(members)],
                                     body=f"Reply {n} " + "words " * 80, created_at=posted_at,
                                     message_id=new_message_id())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have by now on a real site
    mode_counts = {mode: sum(1 for n in range(args.members) if modes[n % len(modes)] == mode) for mode in modes}
    print(f"{args.members} members ({', '.join(f'{count} {mode}' for mode, count in mode_counts.items())}), "
          f"{args.posts} posts in one thread")

    seconds = best_of(3, lambda: selectors.recipients(MailPreference.Mode.EACH, post_id=post.id))
    count = len(selectors.recipients(MailPreference.Mode.EACH, post_id=post.id))
    print(f"recipients of one post: {count} members in {seconds * 1000:.0f} ms")

    def fan_out():
        outbound.fan_out_post(post.id)

    seconds = best_of(3, fan_out, reset=lambda: OutboundMessage.objects.all().delete())
    sent = OutboundMessage.objects.filter(status=OutboundMessage.Status.SENT).count()
    print(f"fan-out of one post: {sent} messages built and sent in {seconds:.2f} s "
          f"({sent / seconds:.0f} messages/s)")

    now = timezone.now()
    seconds = best_of(3, lambda: digests.send_due_digests(now=now), reset=lambda: DigestLog.objects.all().delete())
    logs = DigestLog.objects.filter(post_count__gt=0).count()
    print(f"digests: {logs} daily and weekly digests of up to {args.posts} posts in {seconds:.2f} s "
          f"({logs / seconds:.0f} digests/s)")


if __name__ == "__main__":
    main()
