"""Reply extraction: the member's new words, wherever they wrote them around the quote."""

import email
from email import policy

import pytest

from mailer.inbound_text import new_words, read_reply, thread_title, unflow

from .inbound_mail import FIXTURES

GMAIL_ATTRIBUTION = "On Mon, Mar 3, 2025 at 9:02 AM Dana Member via HealTorture-Talk <reply-1@lists.example.org> wrote:"


def parsed(name: str):
    return email.message_from_bytes((FIXTURES / name).read_bytes(), policy=policy.default)


def test_read_reply_gives_the_same_words_from_the_html_part_alone():
    message = parsed("outlook_inline_image_reply.eml")
    with_text = read_reply(message)
    alternative = next(part for part in message.walk() if part.get_content_type() == "multipart/alternative")
    alternative.set_payload([part for part in alternative.get_payload() if part.get_content_type() == "text/html"])

    html_only = read_reply(message)

    assert html_only.text == with_text.text
    assert html_only.images == with_text.images == {"image001.png@01db8d0f.5c2a3b40"}
    assert "[cid:" not in html_only.text


def test_read_reply_reads_the_html_part_when_the_text_part_is_empty():
    message = parsed("outlook_reply.eml")
    next(part for part in message.walk() if part.get_content_type() == "text/plain").set_content("\n")

    assert read_reply(message).text.startswith("Thank you for raising this. At our center we work only with")


def test_new_words_keeps_the_answer_below_the_quote():
    text = f"{GMAIL_ATTRIBUTION}\n\n> How do you start a group?\n>\n> --\n> Read the whole thread\n\nWith tea.\n"

    assert new_words(text) == "With tea."


def test_new_words_keeps_words_above_and_below_a_single_quote_without_it():
    text = f"Hi Dana,\n\n{GMAIL_ATTRIBUTION}\n> How do you start a group?\n\nWith tea.\n\nRosa"

    assert new_words(text) == "Hi Dana,\n\nWith tea.\n\nRosa"


def test_new_words_drops_the_quote_under_a_top_posted_answer_even_with_a_quote_inside_the_answer():
    text = "As Ana said:\n\n> keep it small\n\nWe agree.\n\nOn Mon, Dana wrote:\n> How?\n> Tell us."

    assert new_words(text) == "As Ana said:\n\nWe agree."


@pytest.mark.parametrize("header", [
    "From: Dana Member <reply-1@lists.example.org>\nSent: Monday, March 3, 2025 9:02 AM",
    "*From:* Dana Member <reply-1@lists.example.org>\n*Sent:* Monday, March 3, 2025 9:02 AM",
    "De: Dana Member <reply-1@lists.example.org>\nEnviado: lunes, 3 de marzo de 2025 9:02",
    "-----Original Message-----\nFrom: Dana Member",
])
def test_new_words_cuts_outlooks_unquoted_original(header):
    text = f"Yes, every week.\n\n________________________________\n{header}\nTo: Rosa\n\nHow often do you meet?\n"

    assert new_words(text) == "Yes, every week."


@pytest.mark.parametrize("signature", [
    "-- \nRosa Alvarez, LCSW\nClinical Director",
    "Sent from my iPhone",
    "Enviado desde mi iPhone",
    "Get Outlook for iOS<https://aka.ms/o0ukef>",
    "Thanks,\nRosa",
    "Best regards,\nRosa Alvarez",
])
def test_new_words_drops_the_signature(signature):
    assert new_words(f"We meet on Tuesdays.\n\n{signature}\n") == "We meet on Tuesdays."


def test_new_words_keeps_a_sentence_that_opens_with_a_sign_off_word():
    text = "We meet on Tuesdays.\n\nThanks, Ana, for the handout.\nWe use it too.\n\n-- \nRosa"

    assert new_words(text) == "We meet on Tuesdays.\n\nThanks, Ana, for the handout.\nWe use it too."


def test_new_words_keeps_markdown_lists():
    assert new_words("Two things:\n- tea\n- chairs\n\nRosa") == "Two things:\n- tea\n- chairs\n\nRosa"


def test_unflow_joins_soft_line_breaks_of_each_quote_depth():
    text = "> How do you start a \n> group?\n\nWith tea and \nchairs.\nNew line.\n-- \nRosa"

    assert unflow(text) == "> How do you start a group?\n\nWith tea and chairs.\nNew line.\n--\nRosa"


def test_unflow_with_delsp_removes_the_space_at_the_break():
    assert unflow("Circle of chai \nrs.", delsp=True) == "Circle of chairs."


def test_read_reply_sets_aside_images_of_the_quoted_original():
    message = email.message_from_string(
        "Content-Type: text/plain\n\nSee our room:\n[cid:room@ours]\n\n"
        "On Mon, Dana wrote:\n> [cid:logo@theirs]\n> How?",
        policy=policy.default,
    )

    reply = read_reply(message)

    assert reply.text == "See our room:"
    assert (reply.images, reply.quoted_images) == ({"room@ours"}, {"logo@theirs"})


def test_read_reply_of_a_forward_keeps_what_it_forwards():
    message = email.message_from_string(
        "Content-Type: text/plain\n\nFor our discussion.\n\n---------- Forwarded message ---------\n"
        "From: ORR <news@example.gov>\nDate: Mon, Mar 3, 2025\nSubject: New funding\n\nApplications open in May.",
        policy=policy.default,
    )

    forwarded = read_reply(message, forwarded=True).text

    assert forwarded.startswith("For our discussion.")
    assert "Subject: New funding\n\nApplications open in May." in forwarded
    assert "Applications open" not in read_reply(message).text  # as a reply, the header block starts the original


@pytest.mark.parametrize(("subject", "title"), [
    ("Re: [HealTorture-Talk] Group work with new arrivals", "Group work with new arrivals"),
    ("RE: Fwd: FW: [HealTorture-Talk]  Interpreters   by video", "Interpreters by video"),
    ("AW: WG: RV: Interpretes", "Interpretes"),
    ("Re[2]: Re: Housing", "Housing"),
    ("[HealTorture-Talk]", ""),
    ("Re:", ""),
    ("Why \"Re: trauma\" matters", 'Why "Re: trauma" matters'),
])
def test_thread_title_strips_reply_and_forward_prefixes_and_list_tags(subject, title):
    assert thread_title(subject) == title


def test_thread_title_is_cut_at_a_word_to_fit():
    title = thread_title("Re: " + "interpreters " * 30)

    assert len(title) <= 200
    assert title.endswith("interpreters…")
