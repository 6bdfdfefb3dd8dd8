"""What the user says of themselves: the only evidence there is for an answer that restates it.

A user writes "My daughter Maisie just turned 7 and lost her first tooth last night" and the
assistant answers "Maisie turning 7 and losing her first tooth, no wonder she's proud!". No
document can attest the user's own news; the user's message is its one source, and a detector
that held the prompt to be no evidence at all halted such answers (blind chat probe 8: 29 of
its 40 answers that restate the user's details). Nor is the user's whole message evidence: what
a user asks, believes, has heard, wants or plans is not attested by their saying it ("The tower
is 500 m tall, right?" must not let "Yes, it is 500 m tall" through, nor "I'd like a refund for
order 4471" let "Your refund has been processed" through), and a claim about the world inside a
sentence about themselves ("I'm a doctor and aspirin cures cancer") is not theirs to attest.

So what counts is read narrowly, as an allow-list of one shape rather than a list of what to
leave out. The prompt (at most :data:`MAX_TURN_CHARS` of each of its last
:data:`MAX_TURNS` user turns) is cut into clauses at every comma, colon, bracket, dash and
conjunction; a clause counts when its subject is the user (it opens with I, we, my or our), and
so does one that goes on with that subject's predicate in the same sentence ("... and lost her
first tooth", "... to the seaside next weekend"); any other clause does not ("... and aspirin
cures cancer", "... the capital of Germany", "..., which invented the telephone"). A clause
that counts must not be a question, say anything to or of the listener ("you"), or state a
belief, hearsay, liking, wish, plan, request, cause, condition or possibility
(:data:`_NOT_A_REPORT`). A conversation history counts only in the user's turns, up to a line
another speaker opens, and one whose turns cannot be told apart counts not at all; what the
user quotes, passes on or hands over for a task ("Summarize this note from our CEO: We grew
...", "They replied: ...") is not their news. Every pattern here is linear in its input (two
reviews found runs of spaces and newlines that took seconds, holding the GIL). The clauses
kept are put in the second person ("you lost your first tooth"), as an answer restates them.
A claim inside the user's own clause stays theirs ("My grandfather Napoleon won the Battle of
Waterloo"): a client that must not take the user's word for their own situation sends no
prompt.

They are evidence only for a window that restates the user's news (:func:`user_may_attest`):
one that speaks to or of them ("you", "your") or names one of their people or pets
(:func:`told_names`: Maisie, not "Acme"), that is not a question, does not have its speaker
speak of itself, does not agree with the user nor follow a sentence that does ("You're right,
...", "Exactly."), and promises them nothing (:func:`promises`): a perk or what they qualify for
("free", "20% off", "eligible", "includes"), or what they asked for reported done ("I've
renewed your books", "Your table is all set"). What a business gives, and what it has done, is
for its documents and its systems' results to attest. And the user's figures never override
the context's: a figure of a unit the context states is the context's (engine).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Set as AbstractSet

from stream_guard.text.sentences import sentence_spans
from stream_guard.text.stance import is_question, speaks_of_self

MAX_TURNS = 4
MAX_TURN_CHARS = 2000
MAX_READ_CHARS = 16384  # of the prompt's end: no more is scanned for turns

# --- reading the prompt ------------------------------------------------------------------------
_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc\u2032\u0060\u00b4"})
# A speaker's turn that can be told apart: the user's, and the others' ("[Human]:", "User:",
# "Assistant:").
_SPEAKERS = r"(human|user|customer|assistant|ai|bot|agent|system)"
_TURN = re.compile(r"\[" + _SPEAKERS + r"\]\s*:|^[ \t]*" + _SPEAKERS + r"[ \t]*:",
                   re.IGNORECASE | re.MULTILINE)
_USER_TURNS = frozenset(("human", "user", "customer"))
# Marks of a transcript this reader cannot take apart: chat-template tokens, markdown or JSON
# roles, other speakers' names. A prompt with one is read as no news at all (fail closed).
_OTHER_TRANSCRIPT = re.compile(
    r"<\|[^|>]{1,30}\|>|\[/?INST\]|\"role\"\s*:|^[ \t]*#+[ \t]*(?:user|assistant|system|human)\b"
    r"|</?(?:assistant|bot|ai|system|model)>"
    r"|^[ \t]*(?:q|a|me|model|chatgpt|gpt|claude|gemini|llm|support|representative|rep"
    r"|operator|staff|advisor|adviser|helper|assistant|ai|bot|agent|system|user|human"
    r"|customer)[ \t]*(?:\([^)]{0,30}\))?[ \t]*(?:[:：>]|-\s)",
    re.IGNORECASE | re.MULTILINE)
# A line that opens with a speaker's name ("Dave:", "**Assistant:**", "- Acme Support:"): in a
# prompt with turns, one not the user's is another speaker's. The marks before the name are
# taken whole (an atomic group): both parts read "*", and a line of thousands of them split
# every way between the two held the event loop for seconds (a review).
_SPEAKER_LINE = re.compile(
    r"^[ \t]*(?>(?:[-*>#•]+[ \t]*)?)\**[A-Z][\w .()'-]{0,30}?\**[ \t]*[:：]", re.MULTILINE)
# What the user hands over for a task, or passes on, is not their news ("Summarize this note:
# We grew ...", "They replied: our warranty lasts 5 years").
_TASK = re.compile(
    r"\b(?:summari[sz]e|translate|rewrite|re-write|proofread|paraphrase|edit|correct|fix|check"
    r"|improve|shorten|polish|reword|draft|write|reply to|respond to|answer|wrote|replied"
    r"|reply|said|says|emailed|email|message|response|letter|note|post)\b[^:\n]{0,60}"
    r"(?:[:：]|\s[-–—]\s)", re.IGNORECASE)
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|«[^»]*»")

# --- clauses ------------------------------------------------------------------------------------
# Where a sentence's clauses part: punctuation within it, a stop before a lower-case word (chat
# text: "i like him too. i moved ..."), and conjunctions (anchored, so that a run of spaces is
# not tried from each of its places).
_CLAUSE = re.compile(
    r"([,;:()\[\]{}/&|]|(?<!\s)\s+[-–—]+\s+|[–—]|(?<=[a-z]{2}[.!?])\s+(?=[a-z])"
    r"|(?<!\s)\s+(?:and|but|or|so|because|cos|cause|since|although|though|yet|while|whereas"
    r"|which|who|whom|whose|where|that|when|especially|particularly)\s+)",
    re.IGNORECASE)
# A clause whose subject is the user: I, we, my or our first (after a word of greeting,
# linking, feeling or time: "Sadly, my dad ...", "Last week I ...").
_OPENER = (r"^\W*(?:(?:oh|hi|hello|hey|well|ok|okay|so|yes|yeah|and|but|also|now|just|finally"
           r"|actually|basically|honestly|anyway|um|uh|big news|good news|great news|sadly"
           r"|unfortunately|luckily|fortunately|recently|yesterday|today|tonight|this morning"
           r"|(?:last|this) (?:week|month|year|night|weekend|spring|summer|autumn|fall|winter"
           r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday))\W+)*")
_SELF_SUBJECT = re.compile(_OPENER + r"(?:i|we|my|our|it(?:'s| is| was) (?:my|our))\b",
                           re.IGNORECASE)
# What happened to the user, in the past: a verb that opens a sentence whose "I" chat leaves
# out (_UNSAID_I), or goes on with a kept subject's predicate (_GOES_ON, which lists more).
_DEEDS = ("got|lost|left|took|went|came|bought|sold|paid|broke|fell|met|began|flew|drove|spent"
          "|won|moved|started|turned|finished|passed|retired|joined|adopted|married|booked"
          "|ordered|arrived|returned|graduated|celebrated|visited|stayed|signed|received|applied"
          "|had")
# A sentence that opens with the user's deed in the past, its "I" left out as chat leaves it
# ("Got married last weekend!", "Just adopted a puppy called Biscuit"): a listed verb of what
# happened to someone, not any word in -ed, nor a present or a gerund, whose subject is as often
# the world ("Looks like rain", "Going to be sunny"). The sentence's first clause only: later
# ones have a subject before them ("The bridge fell and got rebuilt").
_UNSAID_I = re.compile(_OPENER + r"(?=(?:" + _DEEDS + r")\b)", re.IGNORECASE)
_ADVERBS_ONLY = re.compile(r"(?:(?:just|finally|recently|also|actually|now|only|so)\W+)*",
                           re.IGNORECASE)
# A sentence of a condition or a supposition: none of it is a report ("If I cancel today, I
# get my deposit back").
_SUPPOSED = re.compile(r"\b(?:if|unless|whether|in case|suppose|supposing|assuming"
                       r"|hypothetically|imagine)\b", re.IGNORECASE)
# After a dash, a phrase with no verb that tells more of the news ("our first dog — a
# 9-week-old spaniel called Pickle!", "our first holiday abroad — Disneyland Paris in August!");
# not one about the world ("I'm a historian — the Battle of Hastings was in 1067").
_TELLS_MORE = re.compile(r"^\W*(?:an?\s|[A-Z])")
_VERB = re.compile(r"\b(?:is|are|was|were|am|be|been|being|has|have|had|do|does|did|will"
                   r"|would|can|could|shall|should|may|might|must)\b|'(?:s|re|ve|d|ll)\b"
                   r"|\b[a-z]+[^su\W]s\b")
# An appositive beside a kept clause: a name or a short figure ("my cat, Biscuit,", "Oliver
# (8)", "7 kg").
_APPOSITIVE = re.compile(r"^\W*(?:[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2}|\d[\d.,]*(?:\s+\S+)?)"
                         r"\W*$")
# A clause that goes on with the kept subject's predicate: a verb, an adverb or a preposition
# first ("... and lost her first tooth", "... to the seaside next weekend"); listed, not any
# word in -ed, which may open a clause of its own ("... and infected people die ...").
_GOES_ON = re.compile(
    r"^\W*(?:am|is|are|was|were|be|been|has|have|get|gets|did|do|does|just|never|still"
    r"|also|already|finally|recently|now|then|only|even|really|" + _DEEDS
    + r"|made|found|gave|ran|became|grew|wrote|kept|sent|born|lived|worked|studied|trained"
    r"|decided|waited|changed|missed|opened|closed|completed"
    r"|to|for|in|on|at|with|from|after|before|by|of|into|over|around"
    r"|during|since|until|last|next|this|every)\b",
    re.IGNORECASE)
# "I" the Roman numeral ("World War I", "Type I"), "i.e.", and "ME", "US", "Us" mid-sentence
# as names: no first person.
_NOT_PRONOUN = re.compile(r"[A-Z][a-z]+ I(?=\s*(?:[,.;:)!?]|$))|\bi\.e\b|\b(?:ME|US|MY|OUR)\b"
                          r"|(?<=\w )(?:Us|Me|My|Our)\b|\bthe us\b")
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|mine|myself|we|us|our|ours|ourselves)\b"
                           r"(?:'(?:m|ve|ll|d|re))?(?![-\w])", re.IGNORECASE)
_SECOND_PERSON = re.compile(r"\b(?:you|your|yours|yourself|yourselves|u|ur|ya)\b", re.IGNORECASE)
# What a user believes, has heard, likes, wants, plans, supposes, asks, or what may be: no
# report of their situation ("I like the action" is no report that "it's so action packed").
_NOT_A_REPORT = re.compile(r"\b(?:" + "|".join("""
think thinks thought believe believes believed heard hear hears read reading told tell tells
say says said saying claim claims claimed according apparently supposedly reportedly allegedly
rumou?red? rumou?rs guess guessing assume assuming assumed suppose supposed supposing wonder
wondering know knows knew understand understood understanding reali[sz]e reali[sz]ed
remember recall bet reckon figure figured suspect suspected gather noticed notice saw
seen confirmed informed announced mentioned stated states certain convinced confident opinion
iirc idk imo imho hypothetically pretend imagine
like likes liked love loves loved prefer prefers preferred enjoy enjoys enjoyed hate hates hated
dislike dislikes disliked feel feels felt fan favou?rite interested doubt maybe perhaps probably
possibly might could should would will shall won't 'd 'll want wants wanted wanting wish wishes
cure cured cures cause caused causes prevent prevented prevents prove proved proven proves
wishing hope hopes hoped hoping need needs needed plan plans planned planning going gonna
intend intending expect expects expected expecting try trying tried if unless whether whenever
sure seem seems seemed let please kindly ask asking asked request requesting requested can
cannot can't right correct""".split())  # noqa: SIM905
    + r"|found out|get (?:that|it|what)|in (?:my|our) (?:dreams?|novel|story|game|book)"
    r"|my character|learn(?:ed|t)(?! to\b)|(?-i:may|MAY))\b", re.IGNORECASE)
_SWAPS = {"i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself",
          "we": "you", "us": "you", "our": "your", "ours": "yours", "ourselves": "yourselves"}
_AGREE = re.compile(r"\b(you) (am|was|wasn't)\b", re.IGNORECASE)
_AGREED = {"am": "are", "was": "were", "wasn't": "weren't"}
_WORDS = re.compile(r"\w+\W+\w")
_DASH = re.compile(r"\s*[-–—]+\s*")
# A relative word: what follows it is said of the noun before, whoever that is ("I work for
# Acme, which invented ..."); only a clause with the user as its own subject counts after it.
_RELATIVE = re.compile(r"\s*(?:which|who|whom|whose|where|that|when)\s*", re.IGNORECASE)
_CAPITALISED = re.compile(r"\b[A-Z][a-z]{2,}\b")
# Who the user's news names: their people and pets, by relation, or what they called them.
_KIN = ("sisters?|brothers?|mum|mom|mother|dad|father|parents|sons?|daughters?|grandad|grandpa"
        "|grandma|gran|granny|nan|grandparents|grandfather|grandmother|granddad|grandsons?"
        "|granddaughters?|grandchild|grandchildren|stepson|stepdaughter|in-laws?"
        "|wife|husband|partner|fianc[eé]e?|friends?|boyfriend|girlfriend|baby|babies|niece|nephew"
        "|aunt|uncle|cousin|kids?|children|child|twins|boy|girl|guy|lad|toddler|teenager"
        "|dog|dogs|cat|cats|puppy|kitten|pet|pets|horse|pony|rabbit|hamster|parrot|spaniel|terrier"
        "|labrador|collie|greyhound|retriever")
_NAME_WORD = r"[A-Z][a-z]{2,}"
_NAMED = re.compile(
    r"\b(?i:your|our|my)\s+(?:[\w-]+\s+){0,3}?(?i:" + _KIN + r"),?\s+(" + _NAME_WORD
    + r"(?:(?:,\s*|\s+and\s+)" + _NAME_WORD + r"){0,4})"
    r"|\b(?i:called|named)\s+(" + _NAME_WORD + r")")
_NAME_LIST = re.compile(_NAME_WORD)

# --- windows ------------------------------------------------------------------------------------
# What a business grants, and who qualifies for it, or what a plan includes.
_GRANT = re.compile(r"\b(?:" + "|".join([
    r"(?<!feel )free(?! to\b)", r"complimentary", r"waiv(?:e|ed|es|ing)", r"on the house",
    r"on us", r"no (?:extra |additional )?(?:charge|cost|fee)s?", r"at no cost",
    r"discount(?:s|ed)?", r"\d+ ?%(?= off\b)", r"\d+ (?:percent|per cent) off",
    r"(?<=[£$€])\d[\d,.]* off", r"half[- ](?:price|off)", r"refund(?:s|ed)?", r"reimburs\w*",
    r"money back", r"returned in full", r"(?:won't|will not|wouldn't) be charged",
    r"upgrad(?:e|es|ed)", r"priority",
    r"(?:top|front|head) of the (?:waiting |wait )?(?:list|queue|line)",
    r"(?:jump|jumps|skip|skips) the (?:queue|line|list|waiting list)", r"fast[- ]track\w*",
    r"qualif(?:y|ies|ied)", r"eligible", r"entitled", r"exempt\w*", r"bonus(?:es)?",
    r"rewards?", r"vouchers?", r"perks?", r"credit(?:s|ed)?", r"compensat\w+",
    r"goodwill", r"covered in full", r"fully covered", r"includ(?:e|es|ed|ing)",
    r"cover(?:s|ed)", r"owed", r"gives? you", r"allowed",
]) + r")(?:\b|(?<=%))", re.IGNORECASE)
# What the assistant, or the business, has done for the user: a transaction reported done.
_ACTS = ("added|booked|renewed|reserved|cancell?ed|processed|refunded|issued|scheduled"
         "|rescheduled|arranged|confirmed|upgraded|waived|applied|credited|sent|shipped|sorted"
         "|updated|changed|moved|swapped|registered|enrolled|submitted|ordered|extended"
         "|transferred|approved|fixed|reset|unlocked|activated|emailed|placed|logged|noted"
         "|signed (?:you|them|him|her) up|set (?:you|it|that|this|them) up"
         "|put (?:you|them|him|her|it) (?:down|through)|taken care of|took care of")
# ... how soon ("I've just added"), and the states a thing of the user's is then in.
_SO_WORDS = "just|now|already|also|successfully|gone ahead and"
_SO = rf"(?:(?:{_SO_WORDS})\s+)?"
_STATES = ("confirmed|booked|reserved|renewed|processed|scheduled|rescheduled|registered"
           "|enrolled|approved|cancell?ed|refunded|credited|upgraded|issued|set up")
_DONE = re.compile(
    rf"\b(?:I|we)(?:'ve| have)?\s+(?:(?:{_SO_WORDS}|went ahead and)\s+)?(?:{_ACTS})\b"
    r"|\b(?:is|are|'s|'re|has been|have been|'s been|'ve been)\s+(?:now\s+|all\s+"
    r"|already\s+|been\s+|successfully\s+|fully\s+)?(?:" + _STATES + r"|arranged|added"
    r"|sorted|shipped|sent|dispatched|delivered|paid|released|activated|resolved|replaced"
    r"|repaired|completed|signed up|locked in|set|due|taken care of|on (?:its|the|their) way)\b"
    r"|\byou(?:'re| are)\s+(?:now\s+|all\s+)?(?:down for|booked in|in for|all set)\b"
    r"|\bgot you (?:booked|in|down|sorted|covered)\b",
    re.IGNORECASE)
# A transaction reported done for the user: the assistant's own act in the perfect ("I've
# added", "I just booked", "we've signed you up": "we" only with the user as the object, it is a
# company's voice in a summary), the user's people now enrolled, or the user's things now
# processed.
_DONE_FOR_USER = re.compile(
    r"\bI(?:'ve| have)\s+" + _SO + r"(?:" + _ACTS + r")\b"
    r"|\bI\s+(?:just|went ahead and)\s+(?:" + _ACTS + r")\b"
    r"|\b(?i:we)(?:'ve| have)\s+" + _SO
    + r"(?=[^.!?]{0,40}\b(?i:you|your|them|him|her)\b)(?:" + _ACTS + r")\b"
    r"|\b(?i:you|they|he|she|it)(?:'re| are| is|'s)\s+now\s+(?:enrolled|booked|registered"
    r"|confirmed|signed up|scheduled|reserved|set up|all set)\b"
    r"|\b(?i:your)\s+(?:[\w'-]+\s+){0,4}?(?:is|are|has been|have been|'s been)\s+(?:now\s+"
    r"|all\s+|already\s+|successfully\s+)?(?:" + _STATES + r"|all set)\b")
# The answer agreeing with the user: what the user said is then what is claimed.
_AGREES = re.compile(
    r"\byou(?:'re| are| were|'ve| have)(?: \w+)? (?:right|correct|spot on|got it)\b"
    r"|\b(?:as|like|just as) you(?:'ve| have)? (?:said|say|mention\w*|note\w*|suggest\w*"
    r"|thought|pointed out|described|know|put it)\b|\byou said it\b"
    r"|\bthat(?:'s| is) (?:right|correct|true)\b|\bgood point\b|\bof course\b"
    r"|^\W*(?:yes|yep|yeah|indeed|correct|exactly|absolutely|agreed|right|true|sure)\b",
    re.IGNORECASE)


def self_reports(prompt: str) -> str:
    """The clauses of ``prompt`` in which the user reports their own situation, put in the
    second person, one per line; ``""`` when there are none."""
    kept: list[str] = []
    for turn in _user_turns(_normal(prompt)):
        task = _TASK.search(turn)
        if task is not None:  # what follows is handed over, not told
            turn = turn[:task.start()]
        turn = _QUOTED.sub(" ", turn)
        for start, end in sentence_spans(turn):
            sentence = turn[start:end]
            if is_question(sentence) or _SUPPOSED.search(sentence):
                continue
            run: list[tuple[str, str]] = []  # kept clauses in a row, and what parts them
            going_on = False  # the clause before in this sentence was kept
            pieces = _CLAUSE.split(sentence)
            previous = ""  # the mark before the clause
            opened = False  # a clause with words came before in this sentence
            for clause, mark in zip(pieces[::2], [*pieces[1::2], ""], strict=True):
                text = clause.strip(" -–—.,!")
                if not _WORDS.search(text):  # a mark alone, or a pronoun with no news
                    if run:
                        run.append((clause, mark))
                    previous = mark
                    continue
                relative = _RELATIVE.fullmatch(previous) is not None
                unsaid = None if opened else _UNSAID_I.match(clause)
                opened = True
                going_on = _is_report(text) if unsaid else _counts(
                    text, going_on and not relative,
                    after_dash=_DASH.fullmatch(previous) is not None)
                if going_on:
                    run.append((_second_person(_said(clause, unsaid) if unsaid else clause),
                                mark))
                elif run:
                    kept.append(_joined(run))
                    run = []
                previous = mark
            if run:
                kept.append(_joined(run))
    return "\n".join(kept)


def _joined(run: list[tuple[str, str]]) -> str:
    """Kept clauses that stood together, as they stood: one line, a sentence's start."""
    text = ("".join(c + m for c, m in run[:-1]) + run[-1][0]).strip(" -–—,;:(")
    return text[:1].upper() + text[1:]


def told_names(told: str) -> frozenset[str]:
    """The names of people and pets the user's news gives, lower case: a name after one of
    the user's own ("your daughter Maisie", "your husband, Graham") or after "called" or
    "named"; not a company's, a place's or a battle's ("your Acme kettle")."""
    return frozenset(name.lower() for match in _NAMED.finditer(told)
                     for name in _NAME_LIST.findall(match.group(1) or match.group(2)))


def user_may_attest(window: str, names: AbstractSet[str] = frozenset(),
                    previous: str = "") -> bool:
    """Whether what the user says of themselves may be the window's evidence: it speaks to
    or of them, or names one of ``names`` (:func:`told_names`); and it is no question, its
    speaker does not speak of itself (the user's "my favourite colour is green" attests nothing
    of the assistant's), it does not agree with the user, and it promises nothing
    (:func:`promises`)."""
    about_user = _SECOND_PERSON.search(window) is not None or any(
        name.lower() in names for name in _CAPITALISED.findall(window))
    return (about_user and not is_question(window) and not speaks_of_self(window)
            and _AGREES.search(window) is None and _AGREES.search(_last_sentence(previous)) is None
            and not promises(window))


def _last_sentence(text: str) -> str:
    """The last sentence of the text before a window: an agreement there ("You're right.")
    governs the window after it."""
    spans = sentence_spans(text[-400:]) if text else []
    return text[-400:][spans[-1][0]:spans[-1][1]] if spans else ""


def reports_done(window: str) -> bool:
    """Whether the assistant reports done for the user a transaction ("I've added them to the
    Saturday list", "They're now enrolled", "Your refund has been processed"): a claim the user
    acts on at once, which the halt policy does not wait on (``WindowScore.firm``). In the
    assistant's voice or of the user's own things only, not a report of others' ("The merger
    has been approved") nor a quotation."""
    window = window.translate(_APOSTROPHES)
    return '"' not in window and _DONE_FOR_USER.search(window) is not None


def promises(window: str) -> bool:
    """Whether the window grants the user something, says what they qualify for or what their
    plan includes, or reports done what they asked for: its evidence is the context alone,
    never what the user says of themselves."""
    window = window.translate(_APOSTROPHES)
    return _GRANT.search(window) is not None or _DONE.search(window) is not None


def _normal(text: str) -> str:
    """Compatibility forms folded (NFKC: full-width letters), format characters (zero-width
    space, joiners) dropped and apostrophes made one, so that each list sees the words."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if unicodedata.category(c) != "Cf").translate(_APOSTROPHES)


def _user_turns(prompt: str) -> list[str]:
    """The user's turns (the last :data:`MAX_TURNS`, each cut to :data:`MAX_TURN_CHARS`): the
    whole prompt when it names no speaker, none when it is a transcript whose turns this
    reader cannot tell apart."""
    prompt = prompt[-MAX_READ_CHARS:]
    marks = list(_TURN.finditer(prompt))
    if _OTHER_TRANSCRIPT.search(_TURN.sub(" ", prompt)) is not None:
        return []
    if not marks:
        if len(_SPEAKER_LINE.findall(prompt)) >= 2:  # lines of speakers this reader cannot name
            return []
        turns = [prompt]
    else:
        if prompt[:marks[0].start()].strip():  # text before the first speaker: whose?
            return []
        turns = [_own_lines(prompt[mark.end():after.start() if after is not None else None])
                 for mark, after in zip(marks, [*marks[1:], None], strict=True)
                 if (mark.group(1) or mark.group(2)).lower() in _USER_TURNS]
    return [turn[:MAX_TURN_CHARS] for turn in turns[-MAX_TURNS:] if turn.strip()]


def _own_lines(turn: str) -> str:
    """A user's turn up to a line that opens with another speaker's name."""
    newline = turn.find("\n")
    other = _SPEAKER_LINE.search(turn, newline + 1) if newline >= 0 else None
    return turn if other is None else turn[:other.start()]


def _counts(clause: str, going_on: bool, *, after_dash: bool = False) -> bool:
    """Whether the clause reports the user's situation: its subject is the user (or it goes on
    with the predicate of the clause before, which was kept, or tells more of it after a dash),
    and it is nothing else."""
    masked = _NOT_PRONOUN.sub(" ", clause)
    subject = _SELF_SUBJECT.search(masked) is not None and (
        _FIRST_PERSON.search(masked) is not None)
    goes_on = going_on and (_GOES_ON.search(clause) is not None
                            or _APPOSITIVE.search(clause) is not None
                            or (after_dash and _TELLS_MORE.search(clause) is not None
                                and _VERB.search(clause) is None))
    return (subject or goes_on) and _is_report(clause)


def _is_report(clause: str) -> bool:
    """Whether a clause of the user's says nothing but their situation: no question, nothing
    to or of the listener, no belief, hearsay, wish or plan."""
    return (not is_question(clause)
            and _SECOND_PERSON.search(clause) is None
            and _NOT_A_REPORT.search(clause) is None)


def _said(clause: str, match: re.Match[str]) -> str:
    """A clause opening with the user's deed (``match``: :data:`_UNSAID_I`'s), the "I" that
    chat leaves out put back: before the adverbs it opens with ("Just got married" -> "I just
    got married"), else before its verb ("Yesterday got my results" -> "Yesterday I got my
    results"); then "you"."""
    lead = len(clause) - len(clause.lstrip(" -–—.,!\"'(“‘"))
    if _ADVERBS_ONLY.fullmatch(clause[lead:match.end()]):  # "I just got back", not "Just I"
        return clause[:lead] + "I " + clause[lead].lower() + clause[lead + 1:]
    return clause[:match.end()] + "I " + clause[match.end():]  # "Last week I got married"


def _second_person(clause: str) -> str:
    def swap(match: re.Match[str]) -> str:
        word = match.group()
        stem, _, contraction = word.partition("'")
        # a letter the pattern matched only by Unicode case folding ("İ" for "I", "ſ" in
        # "uſ") is no pronoun the table knows: left as written (it raised, and the stream's
        # whole evidence failed: a review)
        you = _SWAPS.get(stem.lower())
        if you is None:
            return word
        if contraction.lower() == "m":
            you += "'re"
        elif contraction:
            you += "'" + contraction.lower()
        return you

    masked = _NOT_PRONOUN.sub(lambda m: "\0" * len(m.group()), clause)
    out, last = [], 0
    for match in _FIRST_PERSON.finditer(masked):
        out.append(clause[last:match.start()])
        out.append(swap(match))
        last = match.end()
    out.append(clause[last:])
    return _AGREE.sub(lambda m: f"{m.group(1)} {_AGREED.get(m.group(2).lower(), m.group(2))}",
                      "".join(out))
