"""The shared sample of a Google Group export (shared/samples/google-group beside the repository; CI has it) and
helpers for the tests of mailer.list_import. Its README.md holds the expected numbers; EXPECTED_THREADS is copied
from its check_sample.py."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from community.models import User
from mailer.models import ImportedMessage, ListInvitation
from threads.models import Attachment, Post, Thread

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "google-group"
MBOX = SAMPLE / "healtorture-talk.mbox"
MEMBERS = SAMPLE / "members.csv"
needs_sample = pytest.mark.skipif(not MBOX.exists(), reason=f"the sample Google Group export is not at {SAMPLE}")

FOOTER = "You received this message because you are subscribed to the Google Groups"

# The conversations as their authors meant them (check_sample.py).
EXPECTED_THREADS = {
    "T01": [
        "<CAS7MWrjhdsfu8X9n3L0KVVkxvXGPBC6amKuJR01PEreTHV4S2X@mail.gmail.com>",
        "<2B29F2F1FB98557D6EE22C1ACDC749F4@EXCH01.riverbend.example.org>",
        "<45F1FC23-4780-E1F5-77D1-31702703FCB5@harborlight.example.net>",
        "<72D425DC2040A4BCA61E17E3DE314E54@NSMAIL02.northstar.example.com>",
        "<01A4F17568798F1A4A4CFFB05B78F675@MESA-EX1.mesa.example.org>",
    ],
    "T02": [
        "<CAUj1Q5HGGScWlulLnA7yUKdI_5QcgWb6EiZm1U6zOeXVFXAoqB@mail.gmail.com>",
        "<CASkevMu3UnhxetmNj7gW8dzwTiQINIMetHC7zu2QolAylgZHA4@mail.gmail.com>",
        "<DA0D4011CEA5E04E1E043F5FF6096EEA@EXCH01.riverbend.example.org>",
        "<EA9D57A53A63C3E611243763C652B917@NSMAIL02.northstar.example.com>",
        "<CAAQ6ss-waLJAlsxhkQDLF84Z8SOP9i2RvSqopCwSgZtE5QQV7q@mail.gmail.com>",
    ],
    "T03": [
        "<CAJwWnpUoUGvzKtRZLlrOPirTQ2rB2IjNodarE0PdTkzwTI6Y32@mail.gmail.com>",
        "<CAAp9jn+YRx2Ki2sS6rcCgsoDnEBQu6R5b8ONGNxVtppmqFjZfv@mail.gmail.com>",
        "<B96818E2B73B04428E83858041ADE013@EXCH01.riverbend.example.org>",
        "<3CD324E7-E360-97F7-E396-55B3CAA6B8A0@cascade.example.org>",
    ],
    "T04": [
        "<CA+8y1KTalHXiqg9ahAtDTeK5v0BjTtV5k2ENtTFyTt9W0ooFN0@mail.gmail.com>",
        "<c4d86e86-310c-447a-acd3-5a2201c6b93f@googlegroups.com>",
        "<CAP01zl5jM1aPgqRlCEFUlvPj01HMu5kK4qqpJYcQCdn6LXxkwR@mail.gmail.com>",
        "<14391CA4AFD5B9BAEAEA7CCB3B3C00F4@EXCH01.riverbend.example.org>",
        "<90C96E8868DB80ABAD3A5312@prairie.example.net>",
        "<ab60e221-f069-461c-8ff8-09a9b2063384@googlegroups.com>",
    ],
    "T05": [
        "<BN8PR16MB427946A0274AE3C5C4CA5423@BN8PR16MB4279.namprd12.prod.outlook.com>",
        "<B5B8EA88576D1D510F8B9899B16AD2A0@EXCH01.riverbend.example.org>",
        "<CAYTpMZzafyHlyO4laxar8Npvmtmc4FgUJTJg4fA3mbfGloXEpI@mail.gmail.com>",
        "<BN3PR17MB1752A6CB1D204A2152127250@BN3PR17MB1752.namprd17.prod.outlook.com>",
        "<2ec87021-8c69-46db-a171-ab036d98c346@googlegroups.com>",
    ],
    "T06": [
        "<BN6PR15MB2845CE60B14375AB42A6DB7F@BN6PR15MB2845.namprd10.prod.outlook.com>",
        "<B69145F7-1C5C-AB15-378D-EE7FD63F75E8@harborlight.example.net>",
        "<E07FAE5D-FB71-98DB-752A-38E8EC2EA42C@cascade.example.org>",
    ],
    "T07": [
        "<B2F80ECBCFC3506481D6DE337747D6F3@NSMAIL02.northstar.example.com>",
        "<cf2e6a94-d925-9250-c56e-31824c074145@cascade.example.org>",
        "<64E5D0BFF99A5791A1BC9DB575760D3F@NSMAIL02.northstar.example.com>",
        "<9391E022C55F44D90E60919D0D3B9A83@NSMAIL02.northstar.example.com>",
        "<BN4PR13MB2551FB6621A1EB9A436F63EF@BN4PR13MB2551.namprd19.prod.outlook.com>",
    ],
    "T08": [
        "<CASBf4Gf3I9On3RIKR9QTANfWvjDr16SFKpbBnNFBxu-1fMQqYx@mail.gmail.com>",
        "<BN4PR14MB17091BA02AE4CC34280EAF08@BN4PR14MB1709.namprd10.prod.outlook.com>",
        "<CAR9vTSJ8jBIClV2Mui9ygTBtHFJDJhsQQ8JQkCOPnLPI12z3qQ@mail.gmail.com>",
        "<6fde6dfc-b61b-46f4-9fe4-96e4ba2f40e7@googlegroups.com>",
        "<CALvJAk+7MeG4yw0_fHy5xLwNp8MhXeqOUL2R3JarPbaf6DvgG7@mail.gmail.com>",
        "<BN8PR11MB457481291E310B45A11C6B50@BN8PR11MB4574.namprd17.prod.outlook.com>",
    ],
    "T09": [
        "<CALnkPyozxwoSLLOrLrg43BoH-O40Un7CtrQjUHUW6HPHJgGys4@mail.gmail.com>",
        "<AE00566AD98EBD8707AA147A08607291@EXCH01.riverbend.example.org>",
        "<ae85ff27-c2fa-4d4e-817b-a86730b0788e@googlegroups.com>",
    ],
    "T10": [
        "<CAQnYaf70PmEbVNC8naQx8lvsOVKCbPz2GZEawlX8ALa8HkC1Fe@mail.gmail.com>",
    ],
    "T11": [
        "<7aa25f4b-b82e-4690-be8e-49b070a347d6@googlegroups.com>",
        "<4ECF5A870289318F3E2F2C07602C8338@EXCH01.riverbend.example.org>",
        "<CALFrr7=V2sOJO6Qm2sxLRIGh_DAJtjIKz2aI17eFvEDiAzl1v0@mail.gmail.com>",
        "<BN6PR15MB319105648993335769398A83@BN6PR15MB3191.namprd11.prod.outlook.com>",
    ],
    "T12": [
        "<BN4PR11MB1133B153A6FF2151E24CB5EC@BN4PR11MB1133.namprd16.prod.outlook.com>",
        "<BN3PR10MB4647456F88E346C87FB9D8DC@BN3PR10MB4647.namprd12.prod.outlook.com>",
    ],
    "T13": [
        "<CAKgtfGCaLyIdDfx8dQJ2tsFN71vWK646AAGlWQE4eb8iDz7hvY@mail.gmail.com>",
        "<BN7PR16MB20519A07F12C99432D22D253@BN7PR16MB2051.namprd18.prod.outlook.com>",
        "<6C7D1B81-9804-2864-3C60-7DCCE4E2CA5B@mesa.example.org>",
        "<CAQMPm1TDOG1eF6Jx9g9SqBCiPrMlTaD353LkWK7mSanGkGirvs@mail.gmail.com>",
    ],
    "T14": [
        "<CACLdsaxdXdUWAqCjv4BzI0AmDV9v5t38OMcUW2cYOTek9CI57j@mail.gmail.com>",
        "<CAOEbvcFGkDyGHrRhYchsI5G9ZSvKxKxUbFAQgQXpZnHZpRNtPd@mail.gmail.com>",
        "<ddd8d8a8-2cb4-48dd-96f0-a0d13e8f954e@googlegroups.com>",
    ],
    "T15": [
        "<BN5PR17MB2640F2202C03B2F08EBCA8A7@BN5PR17MB2640.namprd18.prod.outlook.com>",
        "<BN5PR16MB4641AEA52E20B7C7AC17E788@BN5PR16MB4641.namprd13.prod.outlook.com>",
        "<6D02E395-B0E4-BBB4-DFB7-B8A9443C2E98@harborlight.example.net>",
        "<BN6PR15MB33844AB8D3DC8DF65BB2CD75@BN6PR15MB3384.namprd15.prod.outlook.com>",
    ],
}
EXPECTED_TITLES = {
    "T01": "Welcome to HealTorture-Talk - please introduce yourself",
    "T02": "Interpreters in therapy sessions – training resources?",
    "T03": "Webinar: Group Work with Survivors of Torture - June 22, 2016",
    "T04": "E-consultation: Group Work with Survivors of Torture (follow-up to June 22 webinar)",
    "T05": "Vicarious trauma - how does your program support staff?",
    "T06": "Referral for dental care - low-cost options?",
    "T07": "Asylum evaluations: turnaround times and referral packets",
    "T08": "E-consultation: An Outline of a Best Practice Model for the Complex Care of Torture Survivors",
    "T09": "Resources for new staff",
    "T10": "Digest for healtorture-talk@googlegroups.com - 3 updates in 2 topics",
    "T11": "Spiritual care referrals - chaplaincy partnerships?",
    "T12": "Peer support circle for case managers - flyer",
    "T13": "Interpreter self-care and vicarious trauma",
    "T14": "Resources for new staff",
    "T15": "Biomedical domain: tracking chronic pain outcomes",
}
AUTO_REPLY_ID = "<18156B97B9CA6ECCCF2093616D557214@EXCH01.riverbend.example.org>"
INGRID = "isolberg@formerprogram.example.com"


def run(*args) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("import_google_group", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def import_sample(*extra) -> str:
    return run("--mbox", str(MBOX), "--members", str(MEMBERS), *extra)[0]


def post(message_id: str) -> Post:
    return Post.objects.select_related("author", "thread", "parent").get(message_id=message_id)


def thread_ids() -> set[frozenset[str]]:
    by_thread: dict[int, set[str]] = {}
    for thread_id, message_id in Post.objects.values_list("thread_id", "message_id"):
        by_thread.setdefault(thread_id, set()).add(message_id)
    return {frozenset(ids) for ids in by_thread.values()}


def counts() -> dict[str, int]:
    return {"threads": Thread.objects.count(), "posts": Post.objects.count(),
            "invitations": ListInvitation.objects.count(), "imported": ImportedMessage.objects.count(),
            "attachments": Attachment.objects.count(), "users": User.objects.count()}


