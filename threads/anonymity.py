"""Anonymous-to-members posting, in categories where moderators allow it (Category.allow_anonymous).

Members see "a member (clinical staff, Midwest)": the author's kind of work (Member.staff_role) and the US Census
region of their organization's state, either left out when unknown. Moderators see who wrote it, marked as
anonymous, on the thread page. Everything that names a post's author to members — pages, live frames, list
mail, notices — names it through `byline`, so an anonymous post never shows its author's name, handle,
organization or profile link.
"""

from django.db.models import Exists, OuterRef, QuerySet

from community.models import Member

from .models import Post, Thread

ANONYMOUS = "a member"

# The four US Census Bureau regions, by postal code and by name.
_REGIONS = {
    "Northeast": "CT ME MA NH RI VT NJ NY PA",
    "Midwest": "IL IN MI OH WI IA KS MN MO NE ND SD",
    "South": "DE DC FL GA MD NC SC VA WV AL KY MS TN AR LA OK TX",
    "West": "AZ CO ID MT NV NM UT WY AK CA HI OR WA",
}
_STATE_NAMES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan",
    "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming",
}
REGION_OF_STATE = {
    key: region
    for region, codes in _REGIONS.items()
    for code in codes.split()
    for key in (code, _STATE_NAMES[code].upper())
}


def region_of(state: str) -> str:
    """The Census region of a state written as a postal code or a name ("IL", "Illinois"); "" if unknown."""
    return REGION_OF_STATE.get(" ".join(state.replace(".", "").split()).upper(), "")


def label_for(staff_role: str, state: str | None) -> str:
    """"a member (clinical staff, Midwest)"; "a member" when neither part is known."""
    parts = [Member.StaffRole(staff_role).label if staff_role in Member.StaffRole.values else "",
             region_of(state or "")]
    parts = [part for part in parts if part]
    return f"{ANONYMOUS} ({', '.join(parts)})" if parts else ANONYMOUS


def anonymous_label(member: Member) -> str:
    return label_for(member.staff_role, member.organization.state if member.organization else "")


def byline(post: Post) -> str:
    """Who wrote the post, as members may be told."""
    return anonymous_label(post.author) if post.anonymous else post.author.full_name


def started_anonymously(thread: Thread) -> bool:
    """Whether the thread's opening post is anonymous. Thread lists annotate it (`opened_anonymously`, see
    threads.selectors) so that a page of threads costs no query per thread; anything else asks here."""
    known = getattr(thread, "opened_anonymously", None)
    if known is not None:
        return known
    return Post.objects.filter(thread=thread, author_id=thread.author_id, parent__isnull=True, anonymous=True).exists()


def with_starter_anonymity(threads: QuerySet[Thread]) -> QuerySet[Thread]:
    return threads.annotate(opened_anonymously=Exists(Post.objects.filter(
        thread=OuterRef("pk"), author=OuterRef("author"), parent__isnull=True, anonymous=True)))


def thread_starter(thread: Thread) -> str:
    return anonymous_label(thread.author) if started_anonymously(thread) else thread.author.full_name


def anonymous_by_default(member: Member, thread: Thread) -> bool:
    """A member who posted anonymously in a thread stays anonymous there unless they choose otherwise: one reply in
    their name (by email, where there is no checkbox to notice) would undo the anonymity of everything they wrote
    in it."""
    return thread.category.allow_anonymous and Post.objects.filter(
        thread=thread, author=member, anonymous=True, deleted_at__isnull=True).exists()
