"""The confidentiality guard's rules: one presidio recognizer per kind of thing that could identify a client.

Two sorts of rule:
- an identifier that says what it is by its shape or its label (an A-number, a receipt number, "DOB 3/14/1989",
  "MRN 00482137", "my client Mariam Tesfaye") scores ALONE and is reported wherever it is;
- a phone number, email or street address is only a client's when the words around it say so ("her cell",
  "the client's email", "he lives at"): it scores WITH_CONTEXT, and presidio's context enhancer lifts it over the
  threshold when one of the recognizer's context words is near. Those three are also dropped when they belong to an
  organization (a hotline, "the clinic at", an office line, toll-free numbers) or sit in the author's signature.

Patterns use the `regex` module (presidio's), so lookbehinds may vary in length: a label ("DOB", "client") is
matched but left out of the finding, which is the identifier alone. Names and labels are matched case by case;
only the labels are case-insensitive (`(?i:…)`).
"""

import regex as re
import spacy
import tldextract
from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import EmailRecognizer, PhoneRecognizer, UsSsnRecognizer

from .guard import (
    A_NUMBER,
    CLIENT_NAME,
    DATE_OF_BIRTH,
    EMAIL,
    PHONE,
    RECORD_NUMBER,
    SSN,
    STREET_ADDRESS,
    THRESHOLD,
    USCIS_RECEIPT,
)

ALONE = 0.85
WITH_CONTEXT = 0.3  # + presidio's 0.35 for a context word = 0.65: over the threshold only with context
FLAGS = re.DOTALL | re.MULTILINE  # not presidio's default IGNORECASE: a name is a capitalized word

# --- Where a contact detail belongs to an organization, or to the author ------------------------------------------

ORGANIZATION_WORDS = {
    "office", "clinic", "center", "centre", "hotline", "helpline", "lifeline", "line", "desk", "reception", "main",
    "fax", "direct", "toll", "ext", "extension", "intake", "agency", "organization", "organisation", "program",
    "programme", "services", "department", "dept", "court", "courthouse", "uscis", "eoir", "embassy", "consulate",
    "hospital", "hotel", "venue", "conference", "training", "meeting", "webinar", "headquarters", "campus",
    "building", "library", "church", "mosque", "coalition", "network", "attorney", "lawyer", "counsel",
    "caseworker", "therapist", "doctor", "dr", "psychiatrist", "provider", "director", "coordinator", "manager",
    "supervisor", "staff", "lcsw", "licsw", "lmft", "lpc", "phd", "psyd", "md", "esq", "located", "suite",
}
# Words that make a phone number, email or address a client's (compared with lemmas: "lives" is "live").
# her/his/their are English stop words, which presidio skips: BlankEnglishEngine keeps them.
CLIENT_WORDS = [
    "client", "patient", "her", "his", "their", "dob", "family", "personal", "home", "wife", "husband", "son",
    "daughter", "mother", "father", "sister", "brother", "survivor",
]
_WORD = re.compile(r"[\p{L}]+")
_SIGN_OFF = re.compile(
    r"^[ \t]*(?:--|—|__+|(?i:best(?: regards| wishes)?|regards|kind regards|warm(?:ly| regards)|thanks(?: so much)?"
    r"|thank you|many thanks|sincerely|cheers|take care|in solidarity|with gratitude|respectfully|all the best"
    r"|be well|gratefully))[,.!]?[ \t]*$",
    FLAGS,
)
SIGNATURE_LINES = 10  # a sign-off further up than this starts no signature: it is a line of the post
_ROLE_MAILBOXES = {"intake", "info", "admin", "contact", "help", "support", "office", "referrals", "referral",
                   "hotline", "frontdesk", "reception", "noreply", "no-reply", "clinic", "legal", "training",
                   "events", "webinars", "hello", "team", "staff", "programs"}
_TOLL_FREE = re.compile(r"^(?:\+?1[\s.-]?)?\(?8(?:00|33|44|55|66|77|88)\)?[\s.-]?\d{3}[\s.-]?\d{4}$")


def signature_start(text: str) -> int:
    """Where the author's signature starts (after the last sign-off line near the end: "Best,", "--"), or the
    text's length when there is none."""
    sign_offs = list(_SIGN_OFF.finditer(text))
    if sign_offs and text.count("\n", sign_offs[-1].end()) <= SIGNATURE_LINES:
        return sign_offs[-1].end()
    return len(text)


# Whose detail it is, for the nearest-word test below (as written: "lives", not "live"). "cell" or "email" says
# what it is, not whose: "my cell" is the author's.
_CLIENT_CUES = {*CLIENT_WORDS, "lives", "live", "living", "lived", "resides", "reside", "moved", "staying", "stays",
                "respondent"}
# The author's own details: "call me at", "my cell", "our number".
_SELF_WORDS = {"me", "us", "my", "our", "i"}


def about_an_organization(text: str, start: int) -> bool:
    """The contact detail at `start` is an organization's, a colleague's or the author's: the nearest telling word
    before it says so ("the clinic at", "Office:", "her office line is", "email me at"), not a client's ("my
    client's cell is")."""
    for word in reversed(_WORD.findall(text[max(0, start - 80):start])[-6:]):
        word = word.lower()
        if word in _CLIENT_CUES:
            return False
        if word in ORGANIZATION_WORDS or word in _SELF_WORDS:
            return True
    return False


class _ClientContactMixin:
    """Drops what belongs to an organization or to the author's signature, before presidio's enhancer weighs the
    context of the rest."""

    def analyze(self, text, entities, nlp_artifacts=None, *args, **kwargs):
        results = super().analyze(text, entities, nlp_artifacts, *args, **kwargs)
        signature = signature_start(text)
        return [result for result in results if result.start < signature
                and not about_an_organization(text, result.start) and not self.belongs_elsewhere(text, result)]

    def belongs_elsewhere(self, text: str, result: RecognizerResult) -> bool:
        return False


# --- One recognizer per kind ---------------------------------------------------------------------------------------

_A_DIGITS = r"(?:\d{8,9}|\d{2,3}[\s.-]\d{3}[\s.-]\d{3})(?![\d-])"


def a_number() -> PatternRecognizer:
    """Alien registration numbers: an A and 8 or 9 digits, however written (A123456789, A# 123-456-789,
    "A 123 456 789", A-12345678), or digits named as one ("A-number: 212 345 678", "alien number 212345678")."""
    return PatternRecognizer(
        supported_entity=A_NUMBER, name="a_number", global_regex_flags=FLAGS, patterns=[
            Pattern("A and digits", rf"\bA[\s#:.-]{{0,3}}{_A_DIGITS}", ALONE),
            Pattern("named A-number", rf"(?<=(?i:\bA[\s-]?(?:number|no\.?|num\.?|#)|\balien\s+(?:registration\s+)?"
                                      rf"(?:number|no\.?|#))[\s:#,(]*(?:(?i:is|was)\s+)?){_A_DIGITS}", ALONE),
        ])


def uscis_receipt() -> PatternRecognizer:
    """USCIS receipt numbers: three letters (the service center: EAC, WAC, LIN, SRC, IOE…) and ten digits, also as
    written on notices with dashes (EAC-21-900-12345)."""
    return PatternRecognizer(
        supported_entity=USCIS_RECEIPT, name="uscis_receipt", global_regex_flags=FLAGS, patterns=[
            Pattern("receipt number", r"\b[A-Z]{3}(?:\d{10}|[\s-]\d{2}[\s-]?\d{3}[\s-]?\d{5})\b", ALONE),
        ])


class _SocialSecurityRecognizer(UsSsnRecognizer):
    """presidio's SSN recognizer (its checks: no all-zero group, no 000/666 area, no published sample number), with
    our scores: the 123-45-6789 shape is an SSN by itself; spaced or bare nine digits need "SSN"/"social security"
    nearby, since A-numbers and other IDs have nine digits too."""

    PATTERNS = [
        Pattern("SSN with dashes", r"\b\d{3}-\d{2}-\d{4}\b", ALONE - 0.2),
        Pattern("SSN spaced", r"\b\d{3}[ .]\d{2}[ .]\d{4}\b", WITH_CONTEXT),
        Pattern("SSN digits", r"(?<![\w#-])\d{9}\b", WITH_CONTEXT),
    ]
    CONTEXT = ["social", "security", "ssn", "ss", "ssa", "itin"]


def social_security() -> PatternRecognizer:
    return _SocialSecurityRecognizer(supported_entity=SSN, name="ssn")


_MONTH = (r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DATE = (rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})\b|\d{{4}}-\d{{2}}-\d{{2}}\b"
         rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}"
         rf"(?:,?\s+\d{{4}})?|{_MONTH}\s+\d{{4}})")


def date_of_birth() -> PatternRecognizer:
    """A date (with at least a month) right after "DOB", "date of birth", "born (on/in)", "birthday": the dates of
    webinars and deadlines have no such label, and a birth year alone ("born in 1988") is not reported."""
    label = (r"(?i:\bd\.?o\.?b\b\.?|\bdate\s+of\s+birth|\bbirth\s?date|\bborn(?:\s+on|\s+in)?|\bbirthday(?:\s+is)?)")
    return PatternRecognizer(
        supported_entity=DATE_OF_BIRTH, name="date_of_birth", global_regex_flags=FLAGS, patterns=[
            Pattern("labelled date of birth", rf"(?<={label}[\s:(–-]*(?:(?i:is|was|of|on)\s+)?){_DATE}", ALONE),
        ])


class _ClientPhoneRecognizer(_ClientContactMixin, PhoneRecognizer):
    """presidio's phone recognizer (python-phonenumbers, valid US numbers and +international ones), scored low, so
    only a client word near it reports it. Toll-free numbers are always an organization's."""

    SCORE = WITH_CONTEXT
    CONTEXT = [*CLIENT_WORDS, "cell", "cellphone", "mobile", "whatsapp", "texted", "text", "reach"]

    def belongs_elsewhere(self, text, result):
        number = text[result.start:result.end]
        return bool(_TOLL_FREE.match(number))


def client_phone() -> PhoneRecognizer:
    return _ClientPhoneRecognizer(supported_entity=PHONE, name="phone", supported_regions=("US",))


# tldextract's own copy of the public suffix list, never fetched: nothing may be downloaded at run time.
_OFFLINE_SUFFIXES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class _ClientEmailRecognizer(_ClientContactMixin, EmailRecognizer):
    """presidio's email pattern, scored low (a client word near it reports it); a role mailbox (intake@, info@) is
    an organization's."""

    PATTERNS = [Pattern("email", EmailRecognizer.PATTERNS[0].regex, WITH_CONTEXT)]
    CONTEXT = [*CLIENT_WORDS, "contact"]

    def validate_result(self, pattern_text):
        # presidio's version scores a valid domain 1.0, which would skip the context this rule needs.
        return None if _OFFLINE_SUFFIXES(pattern_text.rpartition("@")[2]).suffix else False

    def belongs_elsewhere(self, text, result):
        return text[result.start:result.end].partition("@")[0].lower() in _ROLE_MAILBOXES


_STREET_TYPES = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|Terrace|Ter"
                 r"|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Trail|Trl|Loop|Row|Square|Sq|Alley|Pike)")


class _ClientAddressRecognizer(_ClientContactMixin, PatternRecognizer):
    """A house number, a capitalized street name and a street type, with the apartment if any; "lives at",
    "moved to", "her address" make it a client's. An office suite is an organization's."""

    def belongs_elsewhere(self, text, result):
        return bool(re.search(r"(?i:\b(?:suite|ste)\b)", text[result.start:result.end]))


def client_address() -> PatternRecognizer:
    street = (rf"\b\d{{1,6}}\s+(?:[NSEW]\.?\s+|(?:North|South|East|West)\s+)?(?:(?:\p{{Lu}}[\p{{L}}'’-]*|\d{{1,3}}"
              rf"(?:st|nd|rd|th))\s+){{1,4}}{_STREET_TYPES}\b\.?(?:\s+[NSEW]{{1,2}}\b\.?)?"
              rf"(?:,?\s*(?i:apt|apartment|unit|suite|ste|room|rm|#)\.?\s*#?\s*[\w-]+)?")
    return _ClientAddressRecognizer(
        supported_entity=STREET_ADDRESS, name="street_address", global_regex_flags=FLAGS,
        patterns=[Pattern("street address", street, WITH_CONTEXT)],
        context=[*CLIENT_WORDS, "live", "reside", "address", "apartment", "apt", "move", "stay", "staying", "visit"],
    )


def record_number() -> PatternRecognizer:
    """An identifier (at least three digits in a row) after "MRN", "medical record", "chart #", "case no.",
    "client ID", "patient #", "Medicaid ID"…; a label without a number ("the case number is the A-number") is
    ordinary talk."""
    label = (r"(?i:\bMRN|\bmedical\s+record(?:\s+(?:number|no\.?|#))?|\bchart\s*(?:number|no\.?|#)"
             r"|\bcase\s*(?:number|no\.?|#)|\b(?:client|patient|member|medicaid|insurance)\s*(?:ID|number|no\.?|#)"
             r"|\brecord\s*(?:number|no\.?|#))")
    return PatternRecognizer(
        supported_entity=RECORD_NUMBER, name="record_number", global_regex_flags=FLAGS, patterns=[
            Pattern("labelled record number",
                    rf"(?<={label}[\s:#]*(?:(?i:is|was)\s+)?)(?=[A-Z0-9-]*\d{{3}})[A-Z0-9][A-Z0-9-]{{2,20}}[A-Z0-9]\b",
                    ALONE),
        ])


# Capitalized words that follow "client", "her son", "Mr." without being a name.
NOT_NAMES = frozenset("""
I A An The This That These Those He She They We You It Our My His Her Their Its Who What When Where Why How
In On At For From With After Before During Since Today Tomorrow Yesterday Last Next Also And But Or So Then If
Yes No Not All Both Each Every Some Many Most Is Was Has Had Will Would Can Could Should May Might Must Did Does
Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April June July August September
October November December
English Spanish French Arabic Amharic Tigrinya Somali Dari Pashto Farsi Persian Swahili Kinyarwanda Portuguese
Haitian Creole Russian Ukrainian Mandarin Cantonese Burmese Karen Nepali Urdu Hindi Oromo Lingala Turkish
Eritrea Eritrean Ethiopia Ethiopian Somalia Afghanistan Afghan Syria Syrian Iraq Iraqi Iran Iranian Congo
Congolese Honduras Honduran Guatemala Guatemalan Salvador Salvadoran Mexico Mexican Venezuela Venezuelan Haiti
Ukraine Cameroon Cameroonian Sudan Sudanese Burundi Rwanda Myanmar Nepal Bhutan Tibet Tibetan Yemen Libya Mali
American African Asian European Latin Latino Latina Muslim Christian Catholic Orthodox Jewish
Health Services Service Portal Intake Center Centre Advocacy Support Care Rights Law Legal Protection Status Act
Program Project Resettlement Office Name Names Court Stories Assistance Coordinator Liaison Navigator Questionnaire
Survey Feedback Experience Satisfaction Voices Council Committee Board Network Alliance Coalition Fund Foundation
Day Week Month Night Zoom Teams Medicaid Medicare Form Forms Services Clinic Hospital School Asylum Visa Dr
Lutheran Baptist Methodist Presbyterian Episcopal Islamic
""".split())

# Tesfaye, O'Brien, McDonald, Al-Hassan, Wu (and Haile of "Haile's"); not "A-number" or "ID".
_NAME_WORD = r"\p{Lu}(?:['’]\p{Lu})?\p{Ll}(?:[\p{L}'’-]*\p{Ll})?(?<!['’]s)"
_NAME = rf"{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}}"
_CLIENT_NOUNS = ["client", "patient", "survivor", "asylee", r"asylum\s+seeker", "refugee", "applicant", "respondent",
                 "petitioner", "beneficiary", "mentee"]
_RELATIVES = (r"son|daughter|child|baby|wife|husband|partner|mother|mom|father|dad|brother|sister|uncle|aunt|cousin"
              r"|niece|nephew|grandmother|grandfather|grandson|granddaughter|fianc[ée]e?|boyfriend|girlfriend"
              r"|stepson|stepdaughter|stepfather|stepmother|roommate")
_PERSONS = (r"man|woman|boy|girl|child|kid|teen|teenager|toddler|infant|baby|gentleman|lady|person|mother|father"
            r"|mom|dad|son|daughter|wife|husband|someone|survivor|client|patient|youth|minor|student|individual")
_TITLES = {"Mr", "Mrs", "Ms", "Miss", "Mx"}
TITLE_PATTERN = "title and a name"
# Words next to "Mr./Ms. Name" that make the person a colleague, a presenter or an official, not a client.
STAFF_WORDS = {
    "attorney", "lawyer", "counsel", "paralegal", "director", "coordinator", "manager", "supervisor", "staff",
    "colleague", "coworker", "clinician", "therapist", "psychologist", "psychiatrist", "doctor", "dr",
    "caseworker", "interpreter", "advocate", "judge", "ij", "officer", "senator", "representative",
    "congresswoman", "congressman", "secretary", "commissioner", "author", "professor", "present", "presents",
    "presented", "presenting", "presenter", "speaker", "facilitator", "facilitate", "lcsw", "licsw", "lmft", "lpc",
    "phd", "psyd", "md", "esq", "dear", "thanks",
}


def _client_noun() -> str:
    """A client word in lower case mid-sentence, or capitalized at the start of a line or sentence: "Patient Health
    Questionnaire" and "Refugee Resettlement Office" are names of things."""
    lower = "|".join(_CLIENT_NOUNS)
    capitalized = "|".join(word[0].upper() + word[1:] for word in _CLIENT_NOUNS)
    return rf"(?:\b(?:{lower})|(?:^|(?<=[.!?:;]\s{{1,3}}))(?:{capitalized}))(?:['’]s)?"


def _near_staff_words(text: str, start: int, end: int) -> bool:
    before = _WORD.findall(text[max(0, start - 60):start])[-3:]
    after = _WORD.findall(text[end:end + 80])[:6]
    return any(word.lower() in STAFF_WORDS for word in before + after)


class _ClientNameRecognizer(PatternRecognizer):
    """Names where clinical or case talk puts them: "my client Mariam Tesfaye", "a patient named Ahmad", "her son
    Yonas", "Client name: Abdi Farah", "Mr. Haile". Without a language model, a name with no such cue is not
    found; a capitalized word that is no name ("client Intake", "her son Monday") is dropped, and so is Mr./Ms.
    with a colleague's or a presenter's words next to it ("Ms. Alvarez, our staff attorney, will present")."""

    def invalidate_result(self, pattern_text):
        words = [word.strip(".") for word in pattern_text.split()]
        if words[0] in _TITLES:  # "my client Ms. Ochieng": the title rule reports it with the name
            words = words[1:]
        # "Spanish-speaking" is no name either
        return not words or words[0].split("-")[0] in NOT_NAMES

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [result for result in results
                if not (result.analysis_explanation.pattern_name == TITLE_PATTERN
                        and _near_staff_words(text, result.start, result.end))]


def client_name() -> PatternRecognizer:
    gap = r"(?:\s+(?:(?i:named|called|is\s+named)\s+)?)"
    # "our client, Daniel Okafor, was detained" — but not "for each client, Dana recommends…"
    appositive = r"(?=\s*[,;()]|\s*$)"
    # "I'm seeing Jean-Pierre", "we have been representing Rosa": the object of a clinician's verb is a client.
    speaker = (r"\b(?i:i\s+am|i['’]m|we\s+are|we['’]re|i['’]ve\s+been|we['’]ve\s+been|i\s+have\s+been"
               r"|we\s+have\s+been|i\s+started|we\s+started)")
    clinical_verb = r"(?i:seeing|treating|evaluating|representing|counsell?ing)"
    possessor = r"(?i:(?:\b(?:her|his|their|my|our|the|a)\s+)?\b(?:client|patient)['’]s|\b(?:her|his|their))"
    age = r"(?:(?i:older|younger|eldest|oldest|youngest|little|baby|late|ex-?)\s+)?"
    relative = rf"{possessor}\s+{age}(?i:{_RELATIVES})s?"
    return _ClientNameRecognizer(
        supported_entity=CLIENT_NAME, name="client_name", global_regex_flags=FLAGS, patterns=[
            Pattern("client and a name", rf"(?<={_client_noun()}{gap}){_NAME}", ALONE),
            Pattern("client, a name,", rf"(?<={_client_noun()}\s*,\s*){_NAME}{appositive}", ALONE),
            Pattern("relative and a name", rf"(?<={relative}{gap}){_NAME}", ALONE),
            Pattern("relative, a name,", rf"(?<={relative}\s*,\s*){_NAME}{appositive}", ALONE),
            Pattern("named person", rf"(?<=\b(?i:{_PERSONS})\s+(?i:named|called|by\s+the\s+name\s+of)\s+){_NAME}",
                    ALONE),
            Pattern("client of the speaker", rf"(?<={speaker}\s+{clinical_verb}\s+){_NAME}", ALONE),
            Pattern("name label", rf"(?<=(?:^|(?i:\b(?:client|patient)(?:['’]s)?\s+))(?i:full\s+)?(?i:name)\s*[:-]\s*)"
                                  rf"{_NAME}", ALONE),
            Pattern(TITLE_PATTERN, rf"\b(?:Mr|Mrs|Ms|Miss|Mx)\.?\s+{_NAME}", ALONE - 0.2),
        ])


def client_email() -> EmailRecognizer:
    return _ClientEmailRecognizer(supported_entity=EMAIL, name="email")


def recognizers() -> list:
    return [a_number(), uscis_receipt(), social_security(), date_of_birth(), client_phone(), client_email(),
            client_address(), record_number(), client_name()]


# --- The engine ----------------------------------------------------------------------------------------------------

class BlankEnglishEngine(SpacyNlpEngine):
    """spaCy's blank English pipeline with its lookup lemmatizer (tables from spacy-lookups-data): the tokens and
    lemmas presidio's context enhancer needs, from PyPI packages alone. The trained English pipelines are not on
    PyPI, and their named-entity model is what the name rule does without."""

    # Stop words presidio leaves out of the context, kept: "her cell", "his email" are what makes a number a client's.
    KEPT_STOP_WORDS = frozenset({"her", "his", "their"})

    def __init__(self):
        super().__init__(models=[{"lang_code": "en", "model_name": "blank:en"}])

    def load(self) -> None:
        nlp = spacy.blank("en")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
        self.nlp = {"en": nlp}

    def is_stopword(self, word: str, language: str) -> bool:
        return word.lower() not in self.KEPT_STOP_WORDS and super().is_stopword(word, language)


def build_analyzer() -> AnalyzerEngine:
    registry = RecognizerRegistry(recognizers=recognizers(), supported_languages=["en"])
    # Context before a detail only: "email Dana (dana@…) if your client needs a letter" is Dana's address.
    enhancer = LemmaContextAwareEnhancer(context_prefix_count=6, context_suffix_count=0,
                                         context_matching_mode="whole_word")
    return AnalyzerEngine(registry=registry, nlp_engine=BlankEnglishEngine(), supported_languages=["en"],
                          context_aware_enhancer=enhancer, default_score_threshold=THRESHOLD)
