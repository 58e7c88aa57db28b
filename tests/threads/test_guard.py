"""threads.guard: each rule finds what it is for, in the ways people write it, and leaves ordinary talk alone."""

import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from threads import guard
from threads.guard import Finding


def found(text: str) -> list[tuple[str, str]]:
    return [(finding.kind, text[finding.start:finding.end]) for finding in guard.check(text)]


@pytest.mark.parametrize(("text", "number"), [
    ("My client's A-number is A212345678 and", "A212345678"),
    ("I filed the FOIA (A# 212-345-679) in March", "A# 212-345-679"),
    ('do I enter it as "A 098 765 432" or without spaces', "A 098 765 432"),
    ("his is A-71234567, eight digits", "A-71234567"),
    ("alien registration number 203456781, entered 2019", "203456781"),
    ("entered her A-number, 087 654 321, and got nothing", "087 654 321"),
    ("Her A number (219-876-540) is on the brief", "219-876-540"),
])
def test_check_finds_a_numbers_however_written(text, number):
    assert found(text) == [(guard.A_NUMBER, number)]


@pytest.mark.parametrize("text", [
    "a 34-year-old man from Eritrea",
    "Matter of A-B-, 27 I&N Dec. 316 (A.G. 2018)",
    "A 2019 study of 1,200 asylum seekers",
    "Section A, question 12 of the I-589",
    "Our ORR grant (90ZT0123-01-00) ends September 29",
    "Has anyone requested an A-file through FOIA recently?",
])
def test_check_leaves_alone_what_only_looks_like_an_a_number(text):
    assert guard.check(text) == []


@pytest.mark.parametrize(("text", "number"), [
    ("Her I-589 receipt (EAC2190012345) shows", "EAC2190012345"),
    ("IOE0912345678 is the receipt for his EAD", "IOE0912345678"),
    ("the RFE response for SRC-22-901-23456", "SRC-22-901-23456"),
    ("the interview notice came for WAC 21 123 45678", "WAC 21 123 45678"),
])
def test_check_finds_uscis_receipt_numbers(text, number):
    assert found(text) == [(guard.USCIS_RECEIPT, number)]


def test_check_finds_social_security_numbers_and_needs_the_word_for_bare_digits():
    assert found("the SSN is 987-65-4321 for Medicaid") == [(guard.SSN, "987-65-4321")]
    assert found("card 987-65-4322 came") == [(guard.SSN, "987-65-4322")]  # the 3-2-4 shape says it
    assert found("his social security number is 987654323") == [(guard.SSN, "987654323")]
    assert found("SSN 987 65 4324 was issued") == [(guard.SSN, "987 65 4324")]
    assert guard.check("Meeting ID 987654323, passcode 4821") == []  # nine digits alone are not an SSN
    assert guard.check("SSN 000-12-3456 is what the form shows as an example") == []  # never issued


@pytest.mark.parametrize(("text", "date"), [
    ("Client (DOB 03/14/1989) is requesting", "03/14/1989"),
    ("She was born on March 14, 1989 in Asmara", "March 14, 1989"),
    ("date of birth: 14 March 1989, arrived 2022", "14 March 1989"),
    ("Intake sheet says D.O.B. 1989-03-14 but", "1989-03-14"),
    ("His birthday is July 22, 2006, so he", "July 22, 2006"),
    ("The youngest was born in February 2015 in the camp", "February 2015"),
])
def test_check_finds_dates_of_birth(text, date):
    assert found(text) == [(guard.DATE_OF_BIRTH, date)]


@pytest.mark.parametrize("text", [
    "The webinar is Thursday, March 6, 2025, 2:00–3:30 pm ET.",
    "Applications are due 01/31/2025.",
    "Many of our clients were born in 1979 in Mogadishu.",
    "Make sure the DOB on the I-589 matches the passport.",
    "Birthday party on June 5 at the office!",
])
def test_check_leaves_other_dates_alone(text):
    assert guard.check(text) == []


@pytest.mark.parametrize("text", [
    "If the interpreter needs to confirm, her cell is (206) 555-0142.",
    "You can text the client directly at 206-555-0188.",
    "Patient's home phone: 612.555.0117 (husband answers).",
    "Their WhatsApp number is +251 91 555 0123.",
])
def test_check_finds_a_clients_phone_number(text):
    assert [kind for kind, _ in found(text)] == [guard.PHONE]


@pytest.mark.parametrize("text", [
    "Refer your client to the legal clinic at 612-555-0150 for a consult.",  # the nearest word is the clinic's
    "Dr. Kim covers my groups; her office line is (206) 555-0177.",
    "The trafficking hotline 1-888-373-7888 can help your client.",  # toll-free
    "My cell is 206-555-0155 if you need me.",  # the author's own
    "Call me at (312) 555-0108 about the client intake form.",
    "Happy to help.\n\nBest,\nLuis Ortega, LMFT\nFamily Program\nCell: 503-555-0166\n",  # signature
    "Join by phone at +1 646 555 0199 if the video is weak.",  # no client word
])
def test_check_leaves_organizations_and_authors_phone_numbers_alone(text):
    assert guard.check(text) == []


def test_check_finds_a_clients_email_but_not_staff_or_role_mailboxes():
    assert found("Her personal email is selam.g@example.com") == [(guard.EMAIL, "selam.g@example.com")]
    assert found("Patient's email: dawit.h@example.net.") == [(guard.EMAIL, "dawit.h@example.net")]
    assert guard.check("Send referrals for your client to intake@cascade.example.org") == []
    assert guard.check("Please email Dana (dana@cascade.example.org) if your client needs a letter.") == []
    assert guard.check("Email me at dkim@cascade.example.org for the handout.") == []
    assert guard.check("The client's address is selam@nowhere.invalidtld") == []  # no such domain


def test_check_finds_where_a_client_lives_but_not_offices_or_venues():
    text = "He lives at 1832 Juniper Hollow Lane, Apt 4B, with two roommates."
    assert found(text) == [(guard.STREET_ADDRESS, "1832 Juniper Hollow Lane, Apt 4B")]
    assert found("Client moved to 77 Bramblewood Court, Unit 3 last month") == [
        (guard.STREET_ADDRESS, "77 Bramblewood Court, Unit 3")]
    assert guard.check("Our new office is at 1200 Main Street, Suite 300, Minneapolis.") == []
    assert guard.check("The training is at the Hyatt Regency, 1000 Sixth Ave, Seattle.") == []
    assert guard.check("We gather at 300 Pine St on June 26 for the vigil.") == []


@pytest.mark.parametrize(("text", "number"), [
    ("MRN 00482137 — can someone pull", "00482137"),
    ("Please see chart #44871 for the PHQ-9", "44871"),
    ("the juvenile court case no. 2023-CM-00417 is", "2023-CM-00417"),
    ("Client ID: CL-20931. Missed three sessions", "CL-20931"),
    ("CPS opened a case (case #: 18-4432) after", "18-4432"),
])
def test_check_finds_record_and_case_numbers(text, number):
    assert found(text) == [(guard.RECORD_NUMBER, number)]


@pytest.mark.parametrize("text", [
    "Where do I find the EOIR case number? Is it the A-number?",
    "Does your EHR hide the MRN on printed letters?",
    "See Case No. 2:19-cv-01234 in the district court.",
    "In the training, case #3 was the hardest.",
])
def test_check_leaves_talk_about_record_numbers_alone(text):
    assert guard.check(text) == []


@pytest.mark.parametrize(("text", "name"), [
    ("My client Mariam Tesfaye has her interview", "Mariam Tesfaye"),
    ("Mr. Haile reported the nightmares stopped", "Mr. Haile"),
    ("I'm seeing a patient named Ahmad Rahimi, 52,", "Ahmad Rahimi"),
    ("Her son Yonas is 9 and", "Yonas"),
    ("Our client, Daniel Okafor, was detained", "Daniel Okafor"),
    ("His wife, Selam, is still in Sudan", "Selam"),
    ("Client name: Abdi Farah\nPresenting concern: insomnia", "Abdi Farah"),
    ("A young man named Kofi came to group", "Kofi"),
    ("We are seeing Jean-Pierre Ndayishimiye, who", "Jean-Pierre Ndayishimiye"),
    ("Client's sister Feven keeps calling", "Feven"),
])
def test_check_finds_names_in_a_clinical_context(text, name):
    assert found(text) == [(guard.CLIENT_NAME, name)]


@pytest.mark.parametrize("text", [
    "Ms. Alvarez from Catholic Charities will present the legal update.",
    "My colleague Ms. Tadesse will cover my groups.",
    "The IJ, Ms. Baker, has been granting continuances.",
    "We switched from the Patient Health Questionnaire to the Refugee Health Screener.",
    "For each client, Dana recommends a stabilization phase.",
    "Her son is 9 and in 4th grade.",
    "Our client Services team can help with bus passes.",
    "My client Friday session moved to Monday.",
    "We're seeing Spanish-speaking families from Venezuela.",
    "Please welcome our new clinical director, Sarah Kim, LICSW.",
])
def test_check_leaves_staff_and_things_with_names_alone(text):
    assert guard.check(text) == []


def test_check_reports_an_identifier_once_when_rules_overlap():
    text = "alien registration number 203456781 (SSN? no, that is the A-number)"
    assert found(text) == [(guard.A_NUMBER, "203456781")]


def test_check_of_nothing_is_nothing():
    assert guard.check("") == guard.check("   \n") == []


def test_finding_record_keeps_the_place_not_the_text():
    text = "Her cell is (206) 555-0142."
    (finding,) = guard.check(text)
    assert finding.as_record() == {"kind": "phone", "start": 12, "end": 26, "score": 0.65}
    assert Finding.from_record(finding.as_record()).label == "a client's phone number"


def test_masked_keeps_the_first_character_of_each_word_and_the_punctuation():
    assert guard.masked("A212345678") == "A•••••••••"
    assert guard.masked("Mariam Tesfaye") == "M••••• T••••••"
    assert guard.masked("(206) 555-0142") == "(•••) 5••-••••"
    assert guard.masked("selam.g@example.com") == "s••••.•@•••••••.•••"


def test_excerpt_masks_every_finding_in_view():
    text = "Consult: Mr. Berhane, DOB 2/9/1978, A# 201-456-789, merits hearing in six weeks and a long story after."
    findings = guard.check(text)
    assert [f.kind for f in findings] == [guard.CLIENT_NAME, guard.DATE_OF_BIRTH, guard.A_NUMBER]
    line = guard.excerpt(text, findings[1], findings)
    assert line == "Consult: M•. B••••••, DOB 2/•/••••, A# 2••-•••-•••, merits heari…"
    for finding in findings:
        assert text[finding.start:finding.end] not in line


def test_summary_names_each_kind_once_in_plain_words():
    text = "DOB 3/14/89, A212345678, and DOB again 4/1/90"
    assert guard.summary(guard.check(text)) == "an A-number and a date of birth"


def test_segments_cut_the_text_around_findings():
    text = "Her cell is (206) 555-0142, thanks."
    pieces = guard.segments(text, guard.check(text))
    assert "".join(piece.text for piece in pieces) == text
    assert [(piece.text, piece.finding.kind if piece.finding else None) for piece in pieces] == [
        ("Her cell is ", None), ("(206) 555-0142", "phone"), (", thanks.", None)]
    # Findings recorded for a longer version of the text are left out rather than cut wrongly.
    assert guard.segments("short", [Finding("phone", 2, 40, 0.7)]) == [guard.Segment("short")]


def test_check_downloads_nothing():
    """A fresh process with every network connection refused builds the engine and checks an email address (the
    rule that reads the public suffix list): spaCy, its lookups and tldextract all use what was installed."""
    script = textwrap.dedent("""
        import socket
        def refuse(*args, **kwargs):
            raise AssertionError(f"network used: {args}")
        socket.socket.connect = refuse
        socket.getaddrinfo = refuse
        socket.create_connection = refuse
        from threads import guard
        print([f.kind for f in guard.check("Her email is selam.g@example.com, DOB 3/14/1989")])
    """)
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['email', 'date_of_birth']"
    assert "network used" not in done.stderr


def test_check_takes_milliseconds():
    guard.check("warm up")  # the engine is built once per process, on the first check
    post = textwrap.dedent("""\
        We have a 34-year-old man from Eritrea, referred by the resettlement agency in March, who was held in a
        shipping container for eight months. His I-589 is filed and the merits hearing is in the fall. He won't
        talk about the detention in sessions but writes at night; I'd like to try written exposure therapy and
        wonder whether anyone has used it with an interpreter. We bill 90837 and the clinic is at 1200 Main Street,
        Suite 300 (call 206-555-0100). Best,
        Dana
    """) * 2
    timings = []
    for _ in range(30):
        started = time.perf_counter()
        assert guard.check(post) == []
        timings.append(time.perf_counter() - started)
    median_ms = statistics.median(timings) * 1000
    print(f"\nguard.check of a {len(post)}-character post: median {median_ms:.1f} ms")
    assert median_ms < 50
