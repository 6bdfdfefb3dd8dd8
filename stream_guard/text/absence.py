"""Absence statements: a window that says its source leaves something out, or that the speaker
cannot answer from it.

An assistant that answers from documents says so when they do not hold the answer: "The policy
doesn't say whether international orders have a different return window.", "A fitness center
isn't listed here.", "I couldn't find anything about student discounts in this policy.",
"Sorry, I don't have that information." That is the right answer, and it is a claim about the
evidence, not about the world: it is borne out when the evidence indeed lacks what the window
says it lacks. Word coverage reads the opposite (the missing thing is a word the evidence does
not have), the detector finds no sentence that says it, and so such answers halted: half the
faithful abstentions of a probe written for this (``docs/results/abstention-probe.jsonl``).

So this module finds the statements, and :func:`borne_out` checks what they say is left out
against the evidence: every figure of it present (a presupposed figure, "beyond the 16 weeks",
is still a claim), at least half of what a question word takes for granted ("who will work on
dark mode when it is revisited"), and less than half of its other words (none at all: "I can't
tell from the syllabus." states nothing to check). A false abstention about something the
evidence covers ("The policy doesn't mention a restocking fee." beside its 15 % fee) is scored
as any window; one that names it in other words ("any fee for returning opened gadgets" beside
a restocking charge) is not caught.

Every clause of the window must be such a statement or a referral ("so I'd check with HR on
that"): "The policy doesn't say, but returns are free." states something besides and is scored.
A clause is an absence statement when it has a negation and either the source is its subject
or what it leaves a thing out of ("the policy doesn't say", "nothing in the letter about"), or
its verb is one only text has ("isn't mentioned", "doesn't come up"), or it says the source
lacks it ("isn't covered in this part of the handbook", "aren't part of this spec sheet") beside
the speaker's own "so I can't say"; or when it opens with the
speaker's inability to find or tell ("I can't find", "I don't know whether", "Sorry, I don't
have that information") and goes on to nothing but what is sought (a question, or what one
cannot find with no verb of its own). The window must also show that it speaks of the source:
name it as what says or was searched ("the FAQ doesn't list", "in this policy"), use a verb or
noun only text has ("isn't mentioned", "there's no information on"), be the speaker's own search
for anything of the kind ("I couldn't find anything about a shuttle"), or be the speaker's "I
don't know." and nothing else ("Not sure, sorry."): an answer that stops there has told the user
nothing false, and half the faithful abstentions of a second probe halted on such phrasings
(``docs/quality.md``). The speaker's ignorance of something named with no source ("I'm not sure
how good they are", "I'm not sure what else I can say about it") is talk about the speaker,
which knowledge-grounded dialogue counts as unattributable (BEGIN;
:mod:`stream_guard.text.stance`); "we" and a past "didn't" report what someone found in the
world ("We did not find any defects."), and without the source named they do not count as
searches of it. (BEGIN's bare "i am not sure." is service talk already and never scored.) Not
when the negation bears on what the source *rules* ("The policy doesn't cover flood damage.",
"Pets aren't allowed."): that is the source's term, which the evidence must attest. Pure
regular expressions over one window.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import NamedTuple

from stream_guard.text.figures import has_digit
from stream_guard.text.stance import is_referral
from stream_guard.text.terms import APOSTROPHES, Term, known, terms

# What a source is called: the document the answer was given, or a part of it.
_SOURCE_WORDS = """documents document docs doc documentation policy policies spec specs
specification specifications sheet datasheet information info context article articles text
page pages passage passages excerpt excerpts extract extracts snippet snippets section sections
paragraph paragraphs guide manual faq faqs listing description menu source sources minutes report
contract agreement lease website site post handbook brochure email e-mail message announcement
summary transcript notice instructions label recipe itinerary materials letter invitation agenda
timetable schedule catalogue catalog readme changelog wording syllabus leaflet flyer terms
conditions rules guidelines notes booklet pamphlet bulletin newsletter quote quotation overview
prospectus programme""".split()  # noqa: SIM905
# (Not "details", "results", "records": "The results don't show any benefit" is a claim; nor
# what is also a thing of the world, "card", "ticket", "box", "statement", "table", "receipt":
# "There's no expiry shown on the card.", "No charger is in the box." (a review). A
# source word alone names no source either: "I'm not sure about the rules of cricket" is talk,
# and left_out wants the source searched, "in the house rules".)
_SOURCE = r"(?:" + "|".join(sorted(_SOURCE_WORDS, key=len, reverse=True)) + r")"
# A source's name is one of those words after a determiner and at most two words ("the spec
# sheet", "this visitor information page", "this part of the handbook").
_REF = (r"\b(?:the|this|these|that|those|your|our|its|their|my)\s+(?:(?:part|section|portion|bit"
        r"|version|page|excerpt)s?\s+of\s+(?:the|this|that|your|our)\s+)?(?:[\w'-]+\s+){0,2}?")
_SOURCE_REF = re.compile(_REF + _SOURCE + r"\b", re.IGNORECASE)
_NEGATION = re.compile(
    r"\b(?:not|no|nothing|none|neither|nor|never|silent|unable|cannot)\b|n't\b", re.IGNORECASE)
_NEGATION_HINTS = ("no", "n't", "never", "neither", "silent", "unable", "cannot")
# The source, as the subject, says nothing of it: a verb of saying ("the policy doesn't say",
# "the spec sheet doesn't list"), not one of what it rules ("the lease doesn't prohibit
# subletting" is a term of the lease); or a negation that is the saying ("the FAQ has no
# information", "this excerpt is silent on").
# Not "indicate", "include", "give", "provide": "The results don't indicate any benefit", "The
# policy doesn't provide coverage for floods" are claims about the world or the source's terms.
_SAYING = (r"(?:say|says|said|mention|mentions|mentioned|specify|specifies|specified|state"
           r"|states|stated|list|lists|listed|contain|contains|address|addresses|discuss"
           r"|discusses|detail|details|describe|describes|note|notes|explain|explains"
           r"|go into|goes into|talk about|talks about|refer to|refers to|spell out|spells out"
           r"|clarify|clarifies|touch on|touches on|get into|set out|sets out|lay out|lays out"
           r"|bring (?:it |this |that )?up|brings (?:it |this |that )?up"
           r"|(?:make|makes|seem to|appear to) (?:it )?(?:clear|mention|say)|clear|specific"
           r"|explicit)")
_NEGATED = (r"(?:doesn't|does not|don't|do not|didn't|did not|isn't|is not|aren't|are not"
            r"|wasn't|was not)\s+(?:\w+ly\s+)?" + _SAYING
            + r"|(?:has|have|had|contains|gives|lists|makes|provides|offers) no (?:mention"
            r"|information|info|details?|data|word|specifics|reference)|(?:says|say|mentions"
            r"|has|have) nothing|(?:is|are) silent")
# What a negation says is not in the source: "nothing in the letter about", "no mention of a
# shuttle in the guide", "No noise level is given on the spec sheet", "not in the specs"; not
# a world claim about what a source describes ("There are no nuts in any dish on the menu.",
# "No one died in the crash described in the article.").
# The word of saying comes right after the negation ("no mention", "not listed", "no specific
# information"), not anywhere after it ("The CEO was not worried about the losses in the
# report."); "nothing" is followed by the source or what it is about ("nothing in the letter
# about", "nothing about parking in the guide"), not a verb ("Nothing was stolen ... in the
# burglary described in the report").
_STATEMENT_WORD = (r"(?:mention|information|info|details?|reference|word|data|specifics"
                   r"|listed|mentioned|specified|stated|noted|addressed|covered|featured?"
                   r"|discussed|given|dealt with|referred to)")
_IN_SOURCE = (r"(?:\bnothing\s+(?:(?:about|on|regarding|concerning)\b.{0,80}?)?"
              r"|(?:\bno|\bnone|\bnot|n't)\s+(?:(?:any|specific|further|more|real|clear|even"
              r"|really)\s+)?" + _STATEMENT_WORD + r"\b.{0,80}?"
              r"|\bno\s+(?:(?!(?:is|are|was|were|be|been|in|on|at|of|for|with|to|any|every|each"
              r"|one)\b)[\w'-]+\s+){0,4}?|(?:n't|\bnot)\s+(?:(?:really|even|anywhere)\s+)?)"
              r"\b(?:in|on|from|within|anywhere in)\s+")
_SOURCE_SAYS_NOT = re.compile(
    _SOURCE_REF.pattern + r"(?:\s+(?:provided|given|shared|attached|above|below|here|available"
    r"|(?:I|you|we)\s+(?:have|had|got|shared|sent|was given)))?"
    r"\s+(?:(?:also|even|really|actually|\w+ly)\s+)?(?:" + _NEGATED + r")\b|" + _IN_SOURCE
    + _SOURCE_REF.pattern,
    re.IGNORECASE)
# Verbs only text has, in the passive (an active "did not mention" may be a person's, a claim
# about the world; "No improvement was shown", "Tips aren't included here" are the world's):
# "isn't mentioned", "isn't listed here", "No children's menu is listed"; and "doesn't come
# up", "it doesn't say".
_TEXT_VERB = re.compile(
    r"(?:n't|\bnot)\s+(?:\w+ly\s+)?(?:(?:been\s+)?(?:mentioned|specified|stated|spelled out"
    r"|listed here)|come up)\b"
    r"|\bit (?:doesn't|does not|didn't|did not) (?:say|mention|specify|state|list)\b"
    r"|^no\b.*\b(?:is|are|was|were) (?:listed|specified|stated)\b",
    re.IGNORECASE)
# The speaker cannot answer, at the start of a clause: "I can't find", "I couldn't see
# anything about", "I don't know whether", "I'm not sure", "Sorry, I don't have that
# information"; followed by nothing, or by what is sought ("whether ...", "anything about
# ...", "from the syllabus"), not by a claim of its own ("I'm not sure, they had a funny story
# about it").
_LEAD = (r"^\W*(?:(?:unfortunately|sadly|sorry|however|also|and|but|so|hmm+|well|oh|no)\W+"
         r"|I(?:'m| am) (?:afraid|sorry)(?: that| but)?\W+"
         # where the speaker looked: "From this contract summary I can't tell whether ..."
         r"|(?:from|in|based on)\s+" + _REF + _SOURCE + r"\b,?\s+)*")
_UNABLE = (r"(?:I|we)(?:'m| am|'re| are)? (?:can't|cannot|can not|couldn't|could not|don't"
           r"|do not|didn't|did not|wasn't able to|was not able to|weren't able to|not able to"
           r"|unable to|was unable to|were unable to|have no way to)\s+(?:\w+ly\s+)?")
_HAVE_NO_INFORMATION = (r"(?:I|we) (?:don't|do not) have (?:that|this|the|any|enough|specific"
                        r"|more|those)?\s*(?:information|info|details?|data|answer|specifics)")
# (Not _LEAD + r"\W*$": a clause of 600 dashes after a "no" took 6 ms there, \W+ and \W*
# trading the dashes; the clause is matched with a space after it, which _LEAD's \W+ takes.)
_LEAD_ONLY = re.compile(_LEAD + r"$", re.IGNORECASE)
# What "tell" or "answer" may take before what is sought: "so I can't tell you whether ...", "so
# I'm not able to answer that one", "I can't say for sure".
_TOLD = r"(?:\s+(?:you|for (?:sure|certain)|either way|that(?: one)?|this(?: one)?|it|much|more))*"
_CANNOT_TELL = re.compile(
    _LEAD + r"(?:" + _UNABLE + r"(?:tell|say|confirm|answer|know|determine|verify|give you)"
    + _TOLD + "|" + _HAVE_NO_INFORMATION + r"|(?:I|we)(?:'m| am|'re| are) not (?:sure|certain"
    r"|aware)|(?:not sure|not certain|no idea|no clue)(?:,? (?:I'm afraid|sorry))?"
    r"|(?:I|we) (?:don't|do not) know of (?:one|any))"
    r"(?:$|\s+(?:whether|if|what|how|who|when|where|why|which|anything|any|mention"
    r"|information|details|from|about|in|on|yet)\b)", re.IGNORECASE)
# What one cannot find (or confirm) is whatever follows ("I can't find shuttle information
# here"), if it is no clause of its own (_FINITE).
_CANNOT_FIND = re.compile(
    _LEAD + r"(?:" + _UNABLE + r"|(?:I|we)(?:'m| am|'re| are) not\s+)(?:find|finding|see|seeing"
    r"|locate|spot|confirm|verify)\b", re.IGNORECASE)
# The speaker's own search, "I" and unable, not a "we" nor a past "didn't", which report what
# someone found in the world ("We did not find any defects in the batch."): such a clause
# searched the source the answer was given, and need not name it, and another clause may lean on
# it ("I couldn't find that — public computers don't come up.").
_OWN_SEARCH = re.compile(
    _LEAD + r"I(?:'m| am)? (?:can't|cannot|can not|couldn't|could not|don't|do not|not|wasn't able"
    r" to|was unable to|unable to)\s+(?:\w+ly\s+)?(?:find|finding|see|seeing|locate|spot|confirm"
    r"|verify)\b", re.IGNORECASE)
# ... for anything of the kind ("I couldn't find anything about a shuttle.", "I'm not seeing any
# mention of airport transfers."), not "any" of a thing ("I'm not seeing any charges"), nor in a
# place of the user's or the world's ("anything on your account", "about the suspect online").
_SEARCHED = re.compile(_OWN_SEARCH.pattern + r"\s+(?:anything\s+(?:about|on|regarding|concerning"
                       r"|related to)\b|any\s+(?:mention|reference|information|info|details?)\b)",
                       re.IGNORECASE)
_ELSEWHERE = re.compile(r"\b(?:your|our|my|his|her|their|online|on file|in the system|records?"
                        r"|account|database|news)\b", re.IGNORECASE)
# Information said to be missing, which only a source holds: "There's no mention of a mobile
# app.", "Unfortunately there's no information on water temperature.", "There's nothing about
# fees." Not a "word" or "data" (the world's: "There is no word on the ceasefire"), not in the
# past ("There was no information about casualties given by police."), not "nothing on" ("There's
# nothing on your account."), nor with a verb after it ("No details about the suspect were
# released.": _FINITE) or a source or time in the world (_WORLD_TAIL).
_NO_INFORMATION = re.compile(
    _LEAD + r"(?:there(?:'s| is| are)\s+)?(?:no\s+(?:(?:specific|further|other|clear"
    r"|more|real)\s+)?(?:mention|information|info|details?|reference|specifics)\s+"
    r"(?:(?:here|in (?:it|this|there))\s+)?(?:of|on|about"
    r"|regarding|concerning|as to)\b|nothing\s+(?:(?:listed|mentioned|stated|said|at all)\s+)?"
    r"(?:about|regarding|concerning|as to)\b)", re.IGNORECASE)
_WORLD_TAIL = re.compile(r"\b(?:from|by|yet|so far|until|since|released|announced|reported)\b",
                         re.IGNORECASE)
# Sources that only tell, neither rule nor hold things: "mentioned in" one says nothing of the
# world, while "isn't covered in your policy summary", "isn't included in the listing", "isn't
# part of this recipe" state a term or a fact (two reviews); so no "covered", "included" or "part
# of" at all, and no policy, contract, lease or terms.
_TELLING_SOURCES = (r"(?:page|pages|section|sections|excerpt|summary|faq|faqs|guide|handbook|notes"
                    r"|article|text|information|info|spec sheet|specs|brochure|leaflet|flyer"
                    r"|booklet|pamphlet|changelog|readme|manual|documentation|email|message"
                    r"|letter|transcript|minutes)")
# Saying, in the passive, that such a source leaves it out: "Home office equipment isn't
# specifically dealt with in the summary.", "No noise level is given on the spec sheet."
_LEFT_OUT_OF = re.compile(
    r"(?:(?:n't|\bnot)\s+(?:\w+ly\s+)?(?:been\s+)?(?:mentioned|addressed|discussed|described"
    r"|detailed|dealt with|explained|given)|^\W*no\b[^,;]{0,60}?\b(?:is|are|was|were)\s+"
    r"(?:given|stated|mentioned|specified))\s+(?:\w+ly\s+)?(?:anywhere\s+)?(?:in|on|within)\s+"
    + _REF + _TELLING_SOURCES + r"\b(?!['’]s)", re.IGNORECASE)
# The source, or a part of it, lacks the thing: "Nap times aren't covered in this part of the
# handbook", "voltage and plug type aren't part of this spec sheet", "garage door openers don't
# appear in the summary", "The release notes don't cover pricing", "the guide doesn't give opening
# times" (a source that only tells, as the subject). Each also reads as the source's term or the
# world's fact ("Flood damage isn't covered in your policy summary", "Dairy is not included in this
# recipe"), so such a clause counts only beside the speaker's own inability to tell ("..., so I
# can't say.", "I don't know - ..."): who says they cannot tell has not told the user the thing is
# excluded. Not "covered by" ("isn't covered by the policy" is the policy's term whatever follows),
# nor "has no" ("The policy summary has no flood cover").
_SOURCE_LACKS = re.compile(
    r"(?:n't|\bnot)\s+(?:\w+ly\s+)?(?:(?:covered|included|featured|found)\s+(?:anywhere\s+)?"
    r"(?:in|on|within)|part\s+of|(?:appear|show\s+up)\s+(?:anywhere\s+)?(?:in|on|within))\s+"
    + _REF + _SOURCE + r"\b(?!['’]s)"
    r"|" + _REF + r"(?:" + _TELLING_SOURCES + r"|newsletter|extract|specifications|key facts)"
    r"\s+(?:doesn't|does not|don't|do not)\s+(?:\w+ly\s+)?(?:cover|include|feature|give"
    r"|provide|go into)\b"
    # "Price matching isn't something this returns policy covers"
    r"|(?:n't|\bnot)\s+(?:really\s+)?something\s+(?:that\s+)?" + _REF + _SOURCE
    + r"\s+(?:(?:\w+ly\s+)?(?:covers?|includes?|mentions?|lists?|address(?:es)?|says?"
    r"|goes into|talks? about|deals? with|gets? into)|(?:(?:is|are)\s+)?about)\b",
    re.IGNORECASE)
# The auxiliary a passive's negation is written on ("are" of "aren't mentioned"): what comes
# before it is the thing left out, with no verb of its own ("Pets aren't allowed and aren't
# mentioned in the handbook." states a rule first).
_AUXILIARY_AT_END = re.compile(r"\b(?:is|are|was|were|has|have|had|been|be|do|does|did)\s*$",
                               re.IGNORECASE)
# What the speaker alone can say of nothing named, and nothing else: "I don't know.", "Not sure,
# sorry.", "No idea, I'm afraid." Not a "we" nor a past "didn't" ("We did not confirm that."
# reports an event), nor "I do not know of any" alone (side effects, say: it implies there are
# none; beside another absence statement it is one, "I don't know of one — student pricing isn't
# mentioned."), nor "I'm not sure what else I can say about it" (talk about the speaker, as
# BEGIN counts it).
_BARE = re.compile(
    _LEAD + r"(?:I (?:really |honestly |just )?(?:can't|cannot|can not|couldn't|could not|don't"
    r"|do not) (?:know|tell|say|answer)|I(?:'m| am) (?:really |honestly )?not (?:sure|certain"
    r"|able to (?:tell|say|answer))|I have no idea|not sure|not certain|no idea|no clue)" + _TOLD
    + r"(?:,?\s+(?:sorry|I'm afraid))?\W*$", re.IGNORECASE)
# A verb that makes what follows a clause of its own: "I can't see the landlord objecting" is
# a search, "I can't find it, the fee was removed" is not.
_FINITE = re.compile(r"\b(?:is|are|was|were|has|have|had|will|would|can|could|should|must|may"
                     r"|might|does|did|do|being|lets|allows|says|said|means)\b", re.IGNORECASE)
# Where the window names its source as what it searched or read: "in this policy", "from the
# syllabus", "on the page"; or says it has no information.
_NAMES_SOURCE = re.compile(r"\b(?:in|from|on|within)\s+" + _SOURCE_REF.pattern + "|"
                           + _HAVE_NO_INFORMATION, re.IGNORECASE)
# A negation that bears on what the source rules, not on what it says: a term of its, to attest
# ("doesn't cover", "isn't allowed", "nothing in the lease forbids dogs").
_RULE_VERB = (r"(?:cover|allow|permit|accept|require|charge|appl(?:y|ies|ied)|support|exclude"
              r"|refund|work|need|prohibit|forbid|forbade|ban|bar|restrict|limit|prevent|oblig"
              r"|mandate|penali[sz]e|impose|cap|entitle|guarantee|waive|void)\w*")
_RULES = re.compile(
    r"(?:n't|\bnot|\bno longer|\bnever)\s+(?:\w+ly\s+)?(?:be\s+)?(?:" + _RULE_VERB
    + r"|eligible|available|free|open|included in (?:the|your) (?:price|fee|rate|cost))\b"
    r"|\b(?:nothing|no \w+)\b(?:(?!\b(?:whether|if|about|on|regarding)\b).){0,80}?\b"
    + _RULE_VERB + r"\b", re.IGNORECASE)
# Words of the statement itself, not of what it says is missing (stopwords aside: terms() drops
# them).
_STATEMENT_WORDS = """mention mentions mentioned say says said specify specifies specified
state states stated list lists listed spell spelled refer refers referred reference references
come comes bring brings feature features appear appears talk talks discuss discusses discussed
describe describes described detail detailed address addresses addressed deal deals dealt
include includes included give gives given provide provides provided show shows shown cover
covers covered part silent anything something nothing data find found see tell know certain
aware able unable confirm answer locate spot determine verify sorry afraid unfortunately hmm
specifically explicitly anywhere specifics idea clue sure""".split()  # noqa: SIM905
# The word before a source that was searched: "in the permit information", "part of this sheet";
# not "on" ("nothing on the kids' menu" is about it) nor "of" ("the price of the programme").
_SEARCHED_IN = re.compile(r"\b(?:in|from|within|throughout|part of)\s+$", re.IGNORECASE)
_IGNORED_KEYS = frozenset(t.key for t in terms(" ".join(_STATEMENT_WORDS + _SOURCE_WORDS)))
# Where a window turns from one clause to the next: a claim after "which", "meaning",
# "because", an "and" or a comma before a verb, a parenthesis ("I can't find the fee in the
# policy, it was removed last year.", "The lease doesn't mention pets and says dogs are
# welcome.") is a clause of its own, and must be an absence statement too.
_VERB_AHEAD = (r"(?=(?:[\w'-]+\s+){0,3}(?:is|are|was|were|has|have|had|will|would|can|could"
               r"|should|must|may|might|does|did|do|says|said|being|usually|always|often|lets"
               r"|allows|means)\b)")
_CLAUSE = re.compile(
    r"(?:;|\s[-–—]\s|[()]|\.\s+|,?\s+(?:so|but|while|whereas|although|though|yet|and so"
    r"|meaning|because|since|therefore|hence|thus|given that)\b|,\s+(?:and|as|which|who)\b"
    r"|,\s+" + _VERB_AHEAD + r"|\s+and\s+" + _VERB_AHEAD + r")", re.IGNORECASE)
# A question word: what follows it is taken for granted ("doesn't say why the driver fell
# asleep", "who will work on dark mode when it is revisited in Q3"), and must be in the
# evidence; the answer is what is missing, which the evidence cannot be searched for.
_WH = re.compile(r"\b(?:why|how long|how much|how many|how often|who|when|where|what|which)\b",
                 re.IGNORECASE)
# What joins a question's own parts ("whether your laptop | and printer would be covered"), not
# the next sentence's.
_WITHIN = re.compile(r",?\s+(?:and|or)\s*$|,\s*$")
# What is left out, going on after "while" in a few words with no subject ("doesn't say anything
# about drinking alcohol | while taking Brufenol"): a part of it, not a clause of its own. Not
# after a comma, nor longer: "..., while drinking a little wine with it causes no problems." is
# a claim (a review).
_WHILE_DOING = re.compile(r"\s+while\s+\w+ing(?:\s+[\w'-]+){0,3}[\s.!?]*$", re.IGNORECASE)
# A verb written on its subject ("they're", "it's", "we'll"), and a subject pronoun: a
# question that has either has its own clause already.
_CONTRACTED = re.compile(r"\w'(?:s|re|ll|d|ve|m)\b", re.IGNORECASE)
_PRONOUN = re.compile(r"\s*(?:it|they|one|he|she|we|you|this|that|there)\b", re.IGNORECASE)
# The yes-or-no question a speaker says they cannot answer: "whether it's permitted".
_WHETHER = re.compile(r"\b(?:whether|if)\b", re.IGNORECASE)
# ... and the words any such question asks with, which say nothing of what is sought.
_QUESTION_KEYS = frozenset(t.key for t in terms(
    "allowed permitted available possible included covered offered accepted required needed "
    "eligible apply applies applied suitable okay fine exist exists provided supported served "
    "open valid provide provides offer offers charge charges cost costs include includes take "
    "takes accept accepts need needs get gets"))
# An absence statement has a negation or two ("No, the FAQ doesn't list it"); a clause of many
# is something else, and each one costs the patterns above a scan of what follows it (a window
# of "no no no ..." took 10 ms).
_MAX_NEGATIONS = 4
# Less than this share of what an absence statement names may be in the evidence.
_BORNE_OUT_SHARE = 0.5


def left_out(text: str) -> tuple[str, ...] | None:
    """The clauses of ``text`` that say its source leaves something out, when every clause of
    it is such a statement or a referral, and the window names the source or what it searched
    ("in this policy"), uses a verb or noun only text has ("isn't mentioned", "no information
    on"), searches ("I couldn't find anything about"), or names nothing at all ("I don't know.",
    "Not sure, sorry."); None otherwise. "I'm not sure how good they are" names what the speaker
    does not know with no source: talk about the speaker (see the module docstring)."""
    parts = _left_out_parts(text)
    return None if parts is None else tuple(clause for clause, _ in parts)


def _left_out_parts(text: str) -> list[tuple[str, str]] | None:
    """:func:`left_out`'s clauses, each with its kind (:func:`_absence`)."""
    text = _normal(text)
    clauses = _clauses(text)
    if clauses is None or any(c.kind is None for c in clauses):
        return None
    return _statement(text, _absence_parts(clauses))


def _normal(text: str) -> str:
    """One space between words, apostrophes as ASCII: the clause pattern is slow on long runs
    of blanks (a padded table cell), and the window may be scored on the event loop."""
    return " ".join(text.translate(APOSTROPHES).split())


class _Clause(NamedTuple):
    """One clause of a window, as :func:`_clauses` cuts it."""

    joint: str  # the words joining it to the one before ("", ", so", ". ")
    written: str  # as written, less the joining words
    clause: str  # stripped of its end's marks
    kind: str | None  # one of _absence's kinds, "referral", or None: a claim


def _absence_parts(clauses: tuple[_Clause, ...]) -> list[tuple[str, str]]:
    """The absence statement's clauses and their kinds: not the claims, nor the referrals."""
    return [(c.clause, c.kind) for c in clauses if c.kind is not None and c.kind != "referral"]


@functools.lru_cache(maxsize=1024)
def _clauses(text: str) -> tuple[_Clause, ...] | None:
    """Each clause of ``text`` (:func:`_normal`); None for a text with no negation. A claim cut
    from the speaker's question ("I can't confirm whether your laptop | and printer would be
    covered") is part of it. Kept for the last texts read: the engine asks
    :func:`beside_absence` of a window and the fusion's signals :func:`borne_out` of the same
    text, and the patterns are the costly part of both."""
    low = text.lower()
    # most windows have no negation ("not", "none", "nothing", "nor" hold "no"): a substring
    # test finds that before any pattern runs
    if not any(word in low for word in _NEGATION_HINTS) or _NEGATION.search(text) is None:
        return None
    out: list[_Clause] = []
    start, joint = 0, ""
    for cut in (*_CLAUSE.finditer(text), None):
        written = text[start:None if cut is None else cut.start()]
        clause = written.strip(" ,.!?")
        if clause and not _LEAD_ONLY.match(clause + " "):  # "Sorry," before a comma
            kind = _absence(clause)
            if kind is None and out and out[-1].kind not in (None, "referral") and (
                    _WHILE_DOING.match(joint + written) or (
                        out[-1].kind == "tell" and _WITHIN.match(joint)
                        and _cut_short(out[-1].clause))):
                asking = out.pop()
                out.append(_Clause(asking.joint, asking.written + joint + written,
                                   asking.clause + (joint + written).rstrip(" ,.!?"),
                                   asking.kind))
            else:
                out.append(_Clause(joint, written, clause, kind if kind is not None
                                   else "referral" if is_referral(clause) else None))
        if cut is not None:
            start, joint = cut.end(), cut.group()
    return tuple(out)


def _cut_short(clause: str) -> bool:
    """Whether the speaker's question in ``clause`` ("I can't confirm whether your laptop") was
    cut before its verb, so that what follows ("and printer would be covered") is the rest of
    it; not when the question has a verb or a subject pronoun already ("whether wine is
    served", "whether they're available", "whether one runs"): what follows is a clause of its
    own ("..., and the chef trained in Naples."), a claim."""
    question = _WHETHER.search(clause) or _WH.search(clause)
    if question is None:
        return False
    asked = clause[question.end():]
    return (_FINITE.search(asked) is None and _CONTRACTED.search(asked) is None
            and _PRONOUN.match(asked) is None)


def _statement(text: str, parts: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """``parts`` (absence clauses and their kinds) when they make an absence statement of the
    window ``text``: see :func:`left_out`."""
    if not parts:
        return None
    kinds = {kind for _, kind in parts}
    if "lacks" in kinds and not any(kind == "tell" or _BARE.match(clause)
                                    for clause, kind in parts):
        return None  # "Flood damage isn't covered in your policy summary.": a term, told
    # where the source is not named, a search of someone else's ("we did not find", "we're
    # not seeing any") is a report of the world, not of the source
    named = _says_not(text) or _NAMES_SOURCE.search(text) is not None
    if "search" in kinds and not named:
        return None
    # ("left out" names its source, always one of _SOURCE_WORDS: ``named`` covers it)
    if (named or kinds & {"own search", "no information", "lacks"}
            or all(_BARE.match(clause) and not _named(clause) for clause, _ in parts)):
        return parts
    return None


def beside_absence(text: str, evidence_keys: AbstractSet[str]) -> str | None:
    """The claims of a window that also says, truly, that its source leaves something out:
    "The page says vegetarian dishes are marked on the menu, but it doesn't mention vegan
    options, so I can't confirm what's available for vegans." is scored as "The page says
    vegetarian dishes are marked on the menu." Assistants write their abstentions so, a fact
    the source gives and then what it does not; scored whole, the window's words the evidence
    lacks (the abstention's own: "vegan") read as unsupported, and 10 of the 26 faithful
    abstentions a blind probe's answers halted on were such windows
    (``docs/results/abstention-probe4.jsonl``).

    None unless the window opens with its claims and the clauses after them make an absence
    statement (:func:`left_out`) that names what is left out and that the evidence bears out
    (:func:`borne_out`); then the window is scored whole, as before. The claims are the
    window's own words, joined as written, and a false claim beside a true abstention is scored
    alone: as likely to halt as it is alone, which is less than beside the abstention's words
    for a claim the detector reads badly ("Parking is free, but the page doesn't mention EV
    charging." halted before, on "EV charging"; a review)."""
    text = _normal(text)
    clauses = _clauses(text)
    if clauses is None:
        return None
    parts = _absence_parts(clauses)
    kinds = [c.kind for c in clauses]
    first = next((i for i, kind in enumerate(kinds) if kind is not None), 0)
    # the claims come first, the fact the source gives; one after the abstention may lean on
    # what it names ("I can't find the fee in the policy, it was removed last year.", "...
    # about descaling, which voids the warranty": a review's false claims)
    if (first == 0 or None in kinds[first:]
            or not any(kind != "tell" and _named(clause) for clause, kind in parts)):
        return None
    # None of what it names may be in the evidence (not less than half, as for an abstention
    # alone): the claims are scored without it, and a false abstention in other words ("a
    # different excess for burst pipes or water leaks" beside an escape-of-water excess, "any
    # break clause or early-termination option" beside a break clause) loses the detector's
    # reading of the whole window, which had halted both in a blind probe.
    statement = _statement(text, parts)
    if statement is None or not _borne_out(statement, evidence_keys, none_known=True):
        return None
    # the claims as written, with the words that join two claims next to each other
    claims, previous = "", False
    for c in clauses:
        if c.kind is None:
            claims += (c.joint if previous else " ") + c.written
        previous = c.kind is None
    claims = claims.strip(" ,;:")
    return claims if claims.endswith((".", "!", "?")) else claims + "."


def _absence(clause: str) -> str | None:
    """What kind of absence statement the clause is, or None: "left out" (a verb of saying in
    the passive, :data:`_LEFT_OUT_OF`), "tell" (the speaker cannot tell), "no information",
    "own search" (the speaker's, for anything of the kind), "search by me" (the speaker's, for
    something named), "search" (anyone else's, or a past "didn't"), "says" (the source or a
    verb only text has says nothing of it), "lacks" (the source does not cover, include or
    hold it: :data:`_SOURCE_LACKS`, which counts only beside the speaker's inability)."""
    negations = len(_NEGATION.findall(clause))
    if negations == 0 or negations > _MAX_NEGATIONS:
        return None
    # The passive first, before the rules ("isn't dealt with in the summary"), when what it
    # leaves out has no verb of its own; what follows any of these is what is left out, if it is
    # no clause of its own ("... in the handbook as they were dropped").
    left_out_of = _LEFT_OUT_OF.search(clause)
    passive = left_out_of or _TEXT_VERB.search(clause)
    if passive is not None:
        before = _AUXILIARY_AT_END.sub("", clause[:passive.start()])
        if _FINITE.search(before) is None and _RULES.search(before) is None:
            if left_out_of is not None:
                return "left out" if _FINITE.search(clause, passive.end()) is None else None
        elif _CANNOT_TELL.match(clause) is None and _CANNOT_FIND.match(clause) is None:
            return None  # a claim, then what is not mentioned ("was excluded and isn't ...")
    lacks = _SOURCE_LACKS.search(clause)
    if lacks is not None:
        before = _AUXILIARY_AT_END.sub("", clause[:lacks.start()])
        if (_FINITE.search(before) is None and _RULES.search(before) is None
                and _FINITE.search(clause, lacks.end()) is None):
            return "lacks"
    if _RULES.search(clause) is not None:
        return None
    if _CANNOT_TELL.match(clause) is not None:
        return "tell"
    found = _NO_INFORMATION.match(clause)
    if found is not None:
        rest = clause[found.end():]
        return ("no information" if _FINITE.search(rest) is None
                and _WORLD_TAIL.search(rest) is None else None)
    found = _CANNOT_FIND.match(clause)
    if found is not None:
        if _FINITE.search(clause, found.end()) is not None:
            return None
        if _OWN_SEARCH.match(clause) is None:
            return "search"
        return ("own search" if _SEARCHED.match(clause) is not None
                and _ELSEWHERE.search(clause) is None else "search by me")
    return "says" if _says_not(clause) else None


def _says_not(text: str) -> bool:
    """Whether the text has a verb only text has in the negative, or the source saying nothing
    of something (the cheap patterns first: most negated text names no source)."""
    return _TEXT_VERB.search(text) is not None or (
        _SOURCE_REF.search(text) is not None and _SOURCE_SAYS_NOT.search(text) is not None)


def borne_out(text: str, evidence_keys: AbstractSet[str]) -> bool:
    """Whether ``text`` is an absence statement the evidence (its content-term keys) bears
    out. Every figure it names must be in the evidence (a figure it presupposes, "beyond the
    16 weeks", is still a claim). What a question word takes for granted ("why the driver fell
    asleep", "when the course is revisited") must mostly be in it: at least half its words.
    And of the other words it names (less the statement's own) less than half may be, or none
    at all. A name the evidence has does not count: it is what the statement is about
    ("whether the Aero 14 has a touchscreen"), and what it asks of it is the rest.

    Less than half, not "a word of it": a false abstention names what the evidence holds with
    a word or two of its own ("duplex printing" for "two-sided printing", "accepted" for
    "accept"), and one new word let a third of the abstention probes' false ones through; at
    half, 1 of 15, while 58 of 71 faithful ones are borne out
    (``docs/results/absence-sentences.json``)."""
    parts = _left_out_parts(text)
    return parts is not None and _borne_out(parts, evidence_keys)


def _borne_out(parts: list[tuple[str, str]], evidence_keys: AbstractSet[str], *,
               none_known: bool = False) -> bool:
    """:func:`borne_out` of an absence statement's clauses and their kinds; ``none_known``:
    none of what it names may be in the evidence, rather than less than half."""
    # Where another clause names what is left out ("The summary doesn't address subletting"),
    # the speaker's "so I can't tell you whether it's permitted" asks the user's question
    # again: it takes nothing for granted, and its words are what is sought, as the named
    # thing is, less the words any such question asks with ("permitted", "available"). "...,
    # so I can't say whether it's step-free" beside a page that says it is step-free is a
    # false abstention. What a question word there takes for granted is not checked: "which
    # finishes are available" takes finishes for granted as much as "what the rooftop bar
    # serves" takes the bar, and a probe's faithful answers asked the first kind (a review
    # found the second kind, and "how long you should wait" beside a sheet that says, passing).
    named_elsewhere = any(kind != "tell" and _named(clause) for clause, kind in parts)
    asked: list[Term] = []
    sought: list[Term] = []  # the words of the user's question asked again
    for clause, kind in parts:
        if kind == "tell" and named_elsewhere:
            question = _WH.search(clause) or _WHETHER.search(clause)
            if question is not None:
                sought += [t for t in _named(clause[question.end():])
                           if t.key not in _QUESTION_KEYS]
                clause = clause[:question.start()]
        else:
            wh = _WH.search(clause)
            if wh is not None:
                taken = _named(clause[wh.end():])
                if _unknown_figure(taken, evidence_keys) or _share_known(
                        taken, evidence_keys) < _BORNE_OUT_SHARE:
                    return False
                clause = clause[:wh.start()]
        asked += _named(clause)
    if _unknown_figure(asked + sought, evidence_keys):
        return False
    # the question's words may show the evidence answers it, never that it does not
    return all(_lacks(named, evidence_keys, none_known)
               for named in (asked, asked + sought))


def _lacks(named: Sequence[Term], evidence_keys: AbstractSet[str], none_known: bool) -> bool:
    """Whether less than half of the words ``named`` (``none_known``: none) is in the
    evidence: not its figures (each must be there), nor a name the evidence has, which is what
    the statement is about ("whether the Aero 14 has a touchscreen"), not what it says is
    missing."""
    words = [t for t in named if not has_digit(t.key)
             and (t.weight <= 1.0 or not known(t.key, evidence_keys))]
    share = _share_known(words, evidence_keys) if words else 0.0
    return share == 0.0 if none_known else share < _BORNE_OUT_SHARE


@functools.lru_cache(maxsize=1024)
def _named(text: str) -> tuple[Term, ...]:
    """The content terms of ``text`` less the words of an absence statement itself, and less
    the name of the source it speaks of (:func:`_without_source`). Kept for the last clauses
    read: a window's are asked for again (whether another clause names what is missing, then
    what each names), and :func:`beside_absence` and :func:`borne_out` read the same window."""
    return tuple(t for t in terms(_without_source(text)) if t.key not in _IGNORED_KEYS)


def _without_source(text: str) -> str:
    """``text`` less the names of its source where it is the subject, before the negation
    ("The warranty terms don't say", "The entry requirements page doesn't mention"), or where
    it was searched ("isn't mentioned in the permit information", "part of the club's
    terms"). A document is named by its topic, whose words the evidence holds as a rule, and
    they read as covering what the statement says is missing: a blind probe's right
    abstentions halted so. Not a source word after the negation otherwise: "doesn't say
    anything about the kids' menu" names what is missing (a review)."""
    negation = _NEGATION.search(text)
    subject_ends = negation.start() if negation else 0

    def name(match: re.Match[str]) -> str:
        searched = _SEARCHED_IN.search(text, 0, match.start()) is not None
        return " " if match.start() < subject_ends or searched else match.group()

    return _SOURCE_REF.sub(name, text)


def _unknown_figure(named: Sequence[Term], evidence_keys: AbstractSet[str]) -> bool:
    return any(has_digit(t.key) and not known(t.key, evidence_keys) for t in named)


def _share_known(named: Sequence[Term], evidence_keys: AbstractSet[str]) -> float:
    """The weighted share of ``named`` the evidence has (1.0 for none: nothing unsupported)."""
    total = sum(t.weight for t in named)
    return sum(t.weight for t in named if known(t.key, evidence_keys)) / total if total else 1.0
