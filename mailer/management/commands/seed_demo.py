"""A small, fictional community to look around in; `make run` seeds it into an empty database.

It lives in mailer, the top of the dependency chain, because it touches all three apps. Every person,
program and post here is invented; nothing describes a real client.
"""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from community.models import EligibilityBasis, Member, Organization, User
from community.services import approve_application, submit_application
from mailer.models import MailPreference
from mailer.onboarding import agree_to_pledge, finish_welcome
from threads.models import Category, EConsultation, Post, Presenter, Resource, ResourceTopic, Webinar
from threads.moderation import set_pinned
from threads.resources import approve_resource, submit_resource
from threads.services import create_reply, create_thread

DEMO_PASSWORD = "healtalk-demo-2026"
MODERATOR_EMAIL = "moderator@example.org"
DEMO_LOGINS = [
    (MODERATOR_EMAIL, "moderator: approves applications, reads captured mail at /dev/mail/, uses /admin/"),
    ("amara.okafor@cascade.example.org", "member who gets every message by email"),
    ("tomas.lindqvist@prairie.example.org", "member who gets one daily digest"),
    ("sam.whitfield@harborlight.example.org", "applicant waiting for a moderator's decision"),
]

CATEGORIES = [
    ("Announcements", "News from the moderators and the HealTalk team.", True),
    ("Clinical questions", "Assessment, treatment and care of survivors: ask and answer.", False),
    ("Legal and asylum", "Forensic evaluations, affidavits, and working alongside attorneys.", False),
    ("Group work", "Running groups with survivors, and the e-consultations that follow our webinars.", False),
    ("Introductions", "New here? Tell us about yourself and your program.", False),
]
# The most sensitive talk: members may post anonymously, and posts stay on the website (the list carries a link).
DIFFICULT_CASES = ("Difficult cases", "When a case stays with you: ask for support, anonymously if you prefer. "
                   "Posts here are not emailed in full.")


class Command(BaseCommand):
    help = "Create a small fictional community (organizations, members, categories, posts) in an empty database."

    def handle(self, *args, **options):
        if Member.objects.exists():
            self.stdout.write("Demo data already present.")
            if User.objects.filter(email=MODERATOR_EMAIL).exists():
                self._print_logins()
            return
        with transaction.atomic():
            seed()
        self.stdout.write(self.style.SUCCESS("Demo community created."))
        self._print_logins()

    def _print_logins(self):
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        width = max(len(email) for email, _ in DEMO_LOGINS)
        for email, what in DEMO_LOGINS:
            self.stdout.write(f"  {email:<{width}}  {what}")


def seed():
    cascade, prairie, harborlight = (
        Organization.objects.create(
            name="Cascade Center for Survivors of Torture", eligibility_basis=EligibilityBasis.ORR_TVRA_GRANTEE,
            city="Portland", state="OR", website="https://cascade.example.org",
            email_domains=["cascade.example.org"],
        ),
        Organization.objects.create(
            name="Prairie Healing Program", eligibility_basis=EligibilityBasis.NCTTP_MEMBER,
            city="Omaha", state="NE", website="https://prairie.example.org", email_domains=["prairie.example.org"],
        ),
        Organization.objects.create(
            name="Harborlight Refugee Services", eligibility_basis=EligibilityBasis.OTHER_ORR_FUNDED,
            city="Baltimore", state="MD", website="https://harborlight.example.org",
            email_domains=["harborlight.example.org"],
        ),
    )

    # Approving needs a moderator, so the first one is made directly, as an administrator would.
    moderator = Member.objects.create(
        user=_account(MODERATOR_EMAIL, is_staff=True, is_superuser=True),
        full_name="Jordan Reyes", organization=harborlight, role_title="Program director",
        status=Member.Status.ACTIVE, role=Member.Role.MODERATOR, joined_at=timezone.now(),
    )
    MailPreference.objects.update_or_create(member=moderator, defaults={"mode": MailPreference.Mode.EACH})

    amara = _approved_member(
        moderator, email="amara.okafor@cascade.example.org", full_name="Amara Okafor", organization=cascade,
        eligibility=EligibilityBasis.ORR_TVRA_GRANTEE, role_title="Clinical social worker",
        statement="I provide individual and group therapy for adult survivors in our torture treatment program.",
        mode=MailPreference.Mode.EACH,
    )
    tomas = _approved_member(
        moderator, email="tomas.lindqvist@prairie.example.org", full_name="Tomas Lindqvist",
        organization=prairie, eligibility=EligibilityBasis.NCTTP_MEMBER, role_title="Psychiatric nurse practitioner",
        statement="I manage medication and coordinate primary care for clients of our consortium program.",
        mode=MailPreference.Mode.DAILY,
    )
    amara.staff_role = Member.StaffRole.CLINICAL  # her anonymous posts read "a member (clinical staff, West)"
    amara.save(update_fields=["staff_role"])
    # Long-standing members in the demo; Sam, once a moderator approves them, sees the welcome and Start here.
    for member in (moderator, amara, tomas):
        finish_welcome(member)
        agree_to_pledge(member)
    submit_application(
        user=_account("sam.whitfield@harborlight.example.org"), full_name="Sam Whitfield",
        eligibility_category=EligibilityBasis.OTHER_ORR_FUNDED, organization=harborlight, organization_name="",
        role_title="Case manager",
        statement="I resettle newly arrived families and refer survivors to specialised care.",
    )

    announcements, clinical, legal, group_work, introductions = (
        Category.objects.create(name=name, description=description, moderators_only=moderators_only, position=i)
        for i, (name, description, moderators_only) in enumerate(CATEGORIES)
    )
    difficult = Category.objects.create(name=DIFFICULT_CASES[0], description=DIFFICULT_CASES[1],
                                        position=len(CATEGORIES), allow_anonymous=True, web_only=True)

    welcome = create_thread(
        author=moderator, category=announcements, title="Welcome to HealTalk: please read before posting",
        body=(
            "Welcome! HealTalk is a closed community for staff of programs that serve survivors of torture.\n\n"
            "Three things we ask of everyone:\n\n"
            "1. **Never post anything that could identify a client**: no names, dates, case numbers, or rare "
            "details that together point to one person.\n"
            "2. Speak from your own practice, and say when something is your program's policy.\n"
            "3. Be generous with newcomers: everyone here started somewhere.\n\n"
            "You can read and reply here or by email. Choose *every message* or *one daily digest* under "
            "your mail settings."
        ),
    )

    hello = create_thread(
        author=amara, category=introductions, title="Hello from Cascade Center",
        body=(
            "Hi all, I'm Amara, a clinical social worker at Cascade Center in Portland. I run our "
            "Tuesday women's group and carry a small individual caseload. Glad to find a place to "
            "compare notes with people who do this work."
        ),
    )
    create_reply(
        author=tomas, parent=hello.posts.get(),
        body="Welcome, Amara! I'd love to hear how you structure the first sessions of a new group.",
    )

    sleep = create_thread(
        author=tomas, category=clinical, title="Sleep problems in the first months of care",
        body=(
            "Many of the people we see in their first months describe broken sleep and recurring "
            "nightmares. Before reaching for medication, what has helped in your programs? "
            "Sleep-hygiene groups, imagery rehearsal, something else?"
        ),
    )
    amara_on_sleep = create_reply(
        author=amara, parent=sleep.posts.get(),
        body=(
            "We had good results with a short psychoeducation session on *why* sleep is disrupted after "
            "trauma, before any techniques. People seemed relieved to hear it is a common response, "
            "not a personal failing."
        ),
    )
    create_reply(
        author=moderator, parent=amara_on_sleep,
        body="Agreed. Our clinicians pair that with a check on practical things: shared rooms, night shifts, noise.",
    )
    create_reply(
        author=tomas, parent=amara_on_sleep.parent, content_note="describes torture methods",
        body=(
            "For some of our clients the nightmares replay what was done to them in detention, night after night, "
            "and lying down in the dark is itself a reminder. Imagery rehearsal helped once they felt safe enough "
            "to rewrite the ending; before that, a lamp left on and sleeping sitting up were what worked."
        ),
    )
    create_thread(
        author=amara, category=difficult, anonymous=True,
        title="When a client's story stays with me after work",
        body=(
            "After a long evaluation last week I have not been able to put one story down. I know the advice "
            "about supervision and self-care; what do you actually do on the evening itself, on the way home?"
        ),
    )

    evaluations = create_thread(
        author=amara, category=legal, title="Wait times for forensic medical evaluations",
        body=(
            "Our wait for a forensic medical evaluation is now about ten weeks, which is hard when an asylum "
            "hearing is already scheduled. How long are your waits, and have you found ways to prioritise?"
        ),
    )
    evaluations_opening = evaluations.posts.get()
    # As if emailed: the confidentiality guard holds it until Tomas edits it or a moderator decides (the held
    # posts queue and /moderation/guard/ have something to show).
    create_reply(
        author=tomas, parent=evaluations_opening, source=Post.Source.EMAIL,
        body=(
            "Could someone at Cascade see a client of ours sooner? Her A-number is A# 212-345-678 and her "
            "hearing is in five weeks."
        ),
    )
    create_reply(
        author=tomas, parent=evaluations_opening,
        body=(
            "About eight weeks here. We keep a short list of volunteer clinicians trained in the Istanbul "
            "Protocol who can take urgent referrals when an attorney tells us a hearing date is close."
        ),
    )

    webinar_start = (timezone.now() - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    webinar = Webinar.objects.create(
        title="Group Work with Survivors of Torture",
        summary=(
            "How to set up, facilitate and close therapy groups for survivors: choosing members, working "
            "with interpreters, and keeping the group safe."
        ),
        presenters=(
            "Dr. Lena Marsh, clinical psychologist, Prairie Healing Program\n"
            "Rafael Ortiz, group facilitator, Cascade Center for Survivors of Torture"
        ),
        starts_at=webinar_start,
        ends_at=webinar_start + timedelta(minutes=90),
        registration_url="https://healtorture.example.org/webinars/group-work",
        tags=["group work", "interpreters", "psychological", "social"],
    )
    Presenter.objects.bulk_create([
        Presenter(webinar=webinar, position=0, name="Dr. Lena Marsh", role="Clinical psychologist",
                  organization="Prairie Healing Program",
                  bio="Runs the program's therapy groups for survivors and trains new group facilitators."),
        Presenter(webinar=webinar, position=1, name="Rafael Ortiz", role="Group facilitator",
                  organization="Cascade Center for Survivors of Torture",
                  bio="Facilitates multilingual support groups with interpreters."),
    ])
    consultation = create_thread(
        author=moderator, category=group_work, title="E-consultation: Group Work with Survivors of Torture",
        body=(
            "Thank you to everyone who joined yesterday's webinar. This thread is our e-consultation: post "
            "questions for Dr. Marsh and Rafael here, and they will answer during the live window this week."
        ),
    )
    econsultation = EConsultation.objects.create(
        webinar=webinar, thread=consultation, questions_open_at=webinar_start,
        live_starts_at=webinar_start + timedelta(hours=1), live_ends_at=webinar_start + timedelta(days=7),
    )
    econsultation.hosts.add(moderator)
    question = create_reply(
        author=amara, parent=consultation.posts.get(),
        body=(
            "When a group shares no common language and every session runs through two interpreters, how do "
            "you keep the pace from slowing down so much that people lose interest?"
        ),
        is_question=True,
    )
    create_reply(
        author=tomas, parent=question,
        body="Following this one. We have the same problem with our men's group.",
    )
    set_pinned(welcome, moderator, True)
    _seed_library(moderator, amara, tomas, webinar, sleep)


def _seed_library(moderator, amara, tomas, webinar, sleep):
    """A small library: two resources in it (one for new employees, one cited in a thread), one waiting for
    review, so the library, Start here, the review queue and "Discussed in" all have something to show."""
    topics = {topic.slug: topic for topic in ResourceTopic.objects.all()}
    first_week = submit_resource(
        submitter=amara, title="Your first week in a torture treatment program",
        description=("A plain-language orientation for new staff: how intake works, what *trauma-informed* means "
                     "at the front desk, looking after yourself, and who to ask."),
        url="https://healtorture.example.org/resources/first-week", language="English",
        topics=[topics["trauma-story"], topics["vicarious-trauma"], topics["case-management"]],
        audiences=[Resource.Audience.NEW_EMPLOYEE, Resource.Audience.CASE_MANAGER],
    )
    approve_resource(moderator=moderator, resource=first_week)
    sleep_guide = submit_resource(
        submitter=tomas, title="Sleep after trauma: a handout for clients and staff",
        description="Why sleep breaks down after torture, and what helps first, in plain words; two pages.",
        url="https://healtorture.example.org/resources/sleep-handout", language="English",
        topics=[topics["biomedical"], topics["psychological"]],
        audiences=[Resource.Audience.CLINICIAN, Resource.Audience.NEW_EMPLOYEE], thread=sleep,
    )
    approve_resource(moderator=moderator, resource=sleep_guide)
    create_reply(
        author=amara, parent=sleep.posts.order_by("created_at").first(),
        body=f"Tomas's handout is in the library now: {settings.SITE_URL}{sleep_guide.get_absolute_url()}",
    )
    submit_resource(
        submitter=amara, title="Facilitating groups with two interpreters",
        description="Notes from our women's group on seating, turn-taking and briefing interpreters before a session.",
        url="https://healtorture.example.org/resources/group-interpreters", language="English",
        topics=[topics["group-work"], topics["interpreters"]], audiences=[Resource.Audience.CLINICIAN],
        webinar=webinar,
    )


def _account(email, **fields):
    user = User.objects.create_user(email=email, password=DEMO_PASSWORD, **fields)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def _approved_member(moderator, *, email, full_name, organization, eligibility, role_title, statement, mode):
    application = submit_application(
        user=_account(email), full_name=full_name, eligibility_category=eligibility, organization=organization,
        organization_name="", role_title=role_title, statement=statement,
    )
    approve_application(application, moderator)
    member = Member.objects.get(pk=application.member_id)
    MailPreference.objects.update_or_create(member=member, defaults={"mode": mode})
    return member
