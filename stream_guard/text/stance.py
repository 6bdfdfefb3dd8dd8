"""Whether a sentence is about the conversation rather than the world: its speaker, its listener.

Evidence can attest what a document says; it cannot attest what the speaker likes, did or
believes ("My favorite color is green", "I've been to Iowa"), and a question put to the
listener ("Have you ever tried cod liver oil?") states nothing it could attest.
Knowledge-grounded dialogue benchmarks count both as not attributable to the knowledge (BEGIN,
FaithDial's "personal experience"), and on BEGIN's tune half they are most of the difference
between the grounded answers and the rest: 6 of 153 windows of fully attributable answers speak
of their speaker or ask their listener, against 277 of 544 windows of the others. Word coverage
cannot see it (the rest of such a window is often copied from the knowledge), so the fusion gets
both as signals and learns their weight.

An assistant's service talk is neither: "I'd be happy to help", "Let me check", "I hope this
helps", "Would you like to know more?" offer, hedge or close, and say nothing about the speaker
a listener would take as a claim; so the first person inside such a formula is not counted, and
a question that offers is not one put to the listener.

A window that is nothing but service talk ("I hope this helps!", "Let me know if you have any
other questions."), or the scaffolding of an answer ("Here are the key points:", "Based on the
provided context, here is the answer.", "Great question!", a heading with no name or number),
states no claim at all: the segmenter marks it ``kind="talk"`` and, like code, it is not scored
(:func:`is_service_talk`). Halted at offset 0, such an opener stopped faithful answers before
their first fact.

The first person of someone quoted is theirs, not the speaker's: a report attests "'I was
terrified,' she said", so a first person after a quotation mark or a "Name:" colon is not
counted.

Only the first person *singular* counts: "we" is a company's or a meeting's voice in the
summaries the guard also checks ("we expect revenue to grow"), and there it states facts the
evidence can attest. Only a question with "you" in it counts: a summary's rhetorical question
("How can we build agents that solve social dilemmas?") restates its source, and a statement to
the listener ("you can reset it from the menu") is attested by a manual.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet

from stream_guard.text.figures import has_digit
from stream_guard.text.sentences import (
    QUIET_BREAKS,
    SUPERSCRIPT_CLASS,
    sentence_spans,
    without_citations,
)
from stream_guard.text.terms import APOSTROPHES, STOPWORDS, term_keys, terms

# I, me, my, myself, in any case; "I'm", "I 've" (tokenised dialogue) match by their "I". Not
# "mine": news has more mines than possessions. Nor a hyphenated name ("I-95"), nor "i.e.".
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|myself)\b(?![-.]\w)", re.IGNORECASE)
# A Roman numeral after a name ("World War I.", "Elizabeth I,") ends a phrase: not the speaker.
_NUMERAL_I = re.compile(r"[A-Z][a-z]+ I(?=\s*(?:[,.;:)!?]|$))")
# A capitalised "My" or "Me" inside a sentence starts a title ("My Girl 2", "Me Before You").
_TITLE_WORD = re.compile(r"(?<=[\w,;:] )(?:My|Me)\b")
_SECOND_PERSON = re.compile(r"\b(?:you|your|yours|yourself|yourselves)\b", re.IGNORECASE)
# Formulas of an assistant's service talk: offers, hedges, closings.
_SERVICE = re.compile("|".join([
    r"\bI(?:'d| would| will|'ll| am|'m)? (?:be )?(?:happy|glad|delighted|pleased) to\b",
    # (a review: "Let me look into that for you.", "How can I help you today?", "One
    # moment..." opened support answers and halted them; each before the shorter formula that
    # would take only its first words)
    r"\blet me (?:look into|check(?: on)?|look up|find out|see|take a look at) "
    r"(?:that|this|it)(?: for you)?\b",
    r"\blet me\b", r"\bI hope (?:this|that|it) helps\b",
    r"\b(?:can|may|could) I (?:help|assist)\b", r"\bI can (?:help|assist)\b",
    r"\bhow (?:can|may|could) I (?:help|assist)(?: you)?(?: today| further)?\b",
    r"^\W*(?:one|just a) (?:moment|second|sec)(?:,? please)?\b",
    r"\banything else (?:you need|I can (?:help|do)(?: you with| for you)?)\b",
    r"\bhow (?:can|may|could) I\b", r"\bI(?:'m| am) (?:sorry|afraid)\b",
    r"\bI(?:'m| am) not (?:sure|certain)\b", r"\bas far as I (?:know|can tell)\b",
    r"\bif I (?:recall|remember)(?: correctly)?\b", r"\bI (?:can )?confirm\b",
    r"\bhere(?:'s| is) what I found\b", r"(?:\bdo you |^\W*)want me to\b", r"\bwould you like\b",
    r"\bshall I\b", r"\banything else\b", r"\bany other questions\b", r"\bfeel free\b",
    r"\bI(?: can| could| would|'d)? (?:also )?(?:recommend|suggest)\b", r"\bwhat else can I\b",
]).replace("'", "['’]"), re.IGNORECASE)
# What an answer may be a summary of: a document, or what one records.
_DOCUMENT = (r"(?:article|obituary|study|report|review|paper|interview|transcript|meeting|call"
             r"|podcast|document|text|passage|story|release|announcement|minutes|discussion"
             r"|conversation|chat|episode|email|letter|post|piece|policy|guide|book|novel"
             r"|chapter|lecture|speech|presentation|ruling|findings|research|survey|analysis"
             r"|proposal|agreement|contract|page|thread|profile|essay|editorial|memo|statement"
             r"|filing|postmortem|exhibition|keynote|handbook|account)s?\b")
# What may say which document: words of kind and place only. Any other word is a claim the
# evidence must bear ("the retracted study", "the Supreme Court ruling": a review).
_DOCUMENT_KIND = (r"(?:latest|recent|above|provided|attached|following|full|whole|entire|"
                  r"original|earnings|quarterly|annual|monthly|weekly|news|research|press|board|"
                  r"team|sales|radio|podcast|meeting|council|court|case|product|policy|"
                  r"interview|conference)")
# An answer's scaffolding: what introduces the facts, not a fact ("Here are the key points:",
# "Based on the provided context, ...", "Great question!", "Let's dive in!"). Only for
# windows of nothing else (is_service_talk): unlike the formulas above, these do not change
# whether a sentence speaks of its speaker or asks its listener.
_SCAFFOLD = re.compile("|".join([
    # "Here's a summary of the obituary.", "... of the study described in the article." (a
    # long-answer probe's faithful summary halted at its first character on it)
    r"\bhere(?:'s| is) (?:a |an |the |my )?(?:quick |brief |short |concise )?(?:summary|"
    r"overview|recap|rundown|breakdown) of (?:the |this |that |your )?(?:" + _DOCUMENT_KIND
    + r" ){0,2}"
    + _DOCUMENT + r"(?: (?:described|discussed|reported|mentioned|covered) in (?:the |this )?"
    + _DOCUMENT + r")?",
    r"\bhere(?:'s| is| are) (?:a |an |the |some |my )?(?:few |quick |brief |short )?"
    r"(?:key |main )?(?:points?|highlights?|summary|overview|breakdown|rundown|recap|details|"
    r"takeaways|answer|facts|steps(?: to follow)?|differences|examples?|results|comparison|"
    r"tips|options|(?:code )?(?:snippets?|samples?))\b",  # "Here's an example:" before code
    r"\bhere(?:'s| is) (?:what you need to know|how it works)\b",
    # "Here's how the plans compare:" before a table (a review: it halted one)
    r"\bhere(?:'s| is) how (?:the |these |those |they |both |all |your )?(?:\w+ ){0,3}?"
    r"(?:compare|stack up|differ)\b",
    r"^\W*(?:good|great) news\W*$",
    r"^\W*(?:a few |some |the )?(?:key |main )?(?:points|highlights|takeaways|details|facts|"
    r"summary|overview)\W*:\W*$",
    r"^\W*(?:in summary|to summarize|in conclusion|in short|tl;?dr|(?:the )?short answer)"
    r"\W*:?\W*$",
    r"\b(?:great|good|excellent) question\b", r"^\W*(?:certainly|absolutely|of course)\b",
    r"\b(?:thanks|thank you) for (?:asking|your (?:question|message|inquiry|enquiry))\b",
    r"^\W*(?:I )?hope (?:this|that|it) helps\b",
    r"\blet(?:'s| us) (?:dive in|take a (?:closer |quick )?look|break (?:it|this) down|look at|"
    r"start|begin|explore|get started)\b",
    r"\b(?:based on|according to|from) (?:the |this )?(?:provided |given |above |available |"
    r"retrieved |search )?(?:context|information|documents?|text|sources?|passages?|article|"
    r"results|evidence)\b",
]).replace("'", "['’]"), re.IGNORECASE)
# A support answer's closing, apology, empathy and pleasantry: "Would you like me to start a
# return for you?", "Feel free to reach out if you need anything else.", "Sorry for the
# inconvenience!", "I understand your frustration.", "Happy shopping!". Whole windows only,
# with no figure in them (_closing_talk); a review's support answers halted on 9 of 15 such
# closers (the last window: a run the output ends in) and on empathy openers at offset 0.
_OFFER = re.compile(
    r"^\W*(?:(?:so|ok(?:ay)?|now),? )?(would you like(?: me| us)? to|would you like|"
    r"do you want(?: me| us)? to|want me to|shall (?:I|we)|should (?:I|we)|"
    r"(?:can|could|may) (?:I|we)|would it help if (?:I|we)|do you have your|"
    r"(?:can|could) you (?:share|send|provide|confirm|tell me|give me)"
    r")\b[^.!?\n]*\?[\s\"')\]]*$", re.IGNORECASE)
_CLOSING = re.compile("|".join([
    r"^\W*(?:please )?(?:feel free|don't hesitate|do not hesitate) to\b",
    # "Let me know if you need anything else!", "Happy to give you a deeper breakdown if
    # you'd like." (a review's realistic answers halted on 5 of 7 such closers)
    r"^\W*(?:just |please |and )?let (?:me|us) know\b",
    r"^\W*(?:(?:I|we)(?:'d| would) be |(?:I|we)(?:'m|'re| am| are) )?(?:always )?"
    r"(?:happy|glad) to\b",
    r"^\W*if you (?:have|need|got) (?:any )?(?:more|other|further|additional|follow-up)? ?"
    r"(?:questions?|help|assistance|problems?|issues?|concerns?)\b",
    r"^\W*(?:do you )?need anything else\b(?=[^.!\n]*\?)",  # "Need anything else?"
    r"^\W*(?:(?:I|we)(?:'m|'re| am| are)? )?(?:so |very |really |truly )?"
    r"(?:sorry|apologi[sz]e|apologies)(?: for (?:any|the) (?:inconvenience|trouble|confusion)"
    r"(?: (?:this )?(?:may have )?caused)?)?\b",
    r"^\W*(?:I|we) (?:completely |totally |fully |really |can )?(?:understand|know|see|hear|"
    r"imagine|appreciate)\b",
]).replace("'", "['’]"), re.IGNORECASE)
# An offer of more of the answer itself, which states nothing: "if you'd like more detail",
# "a deeper breakdown", "go into any step", "if anything is unclear". As phrases, taken out of
# a closing or an offer before its words are judged: as loose words they let "more points"
# and "provide any parts" through (a review).
_MORE_DETAIL = re.compile(
    r"\b(?:(?:any|some|a|an)\s+)?(?:(?:more|further|deeper|fuller|closer|extra|quick|brief|"
    r"short|detailed|step-by-step)\s+)*(?:detail(?:s|ed)?|breakdown|explanation|information|info|"
    r"examples?|walkthrough|overview|summary|help|clarification)"
    r"(?:\s+(?:of|for|on)\s+(?:each|any|the|every)\s+(?:steps?|points?|parts?))?\b"
    r"|\b(?:go|dig)\s+(?:into|deeper)\b|\bwalk\s+(?:you\s+)?through\b"
    r"|\b(?:explain|clarify|elaborate(?:\s+on)?|expand(?:\s+on)?)\b"
    r"|\b(?:any|each|a)\s+(?:steps?|parts? of (?:it|this|that)|points?)\s+(?:in\s+)?(?:more\s+)?"
    r"(?:detail|depth)\b"
    r"|\banything\s+(?:is\s+|seems\s+)?unclear\b|\bmore\b",
    re.IGNORECASE)
# A closing's wish and its giving, around the offer: "if you'd like", "as needed", "happy
# to give you" (what is given must be one of _MORE_DETAIL: "give you any part" is a claim;
# no "share": "Happy to share that our team can help you" states something, a review).
_WISH_WORDS = frozenset("like want prefer needed wanted give provide".split())  # noqa: SIM905
# Besides its formula, a closing holds words of politeness, of these and the filler alone: no
# negation, and nothing a policy says ("Sorry, this is not free.", "We apologize: this is
# always free.", "I'm sorry, we don't have a support team." state what the evidence must
# attest; a review found them hidden by a looser list).
_CLOSING_WORDS = frozenset("""reach out contact get touch need needs questions question help
assistance support team happy anything else further additional more other ask let know
please just again here if we our us i me my your you great nice wonderful lovely
inconvenient sorry apologize apologise apologies understand understanding
frustrating frustration frustrated confusing confused annoying concern concerns worry worried
disappointing upsetting situation must be how why that this would could can see feel s m re ll
d completely totally fully really so very truly any hear glad care best regards is are
am""".split()) | _WISH_WORDS  # noqa: SIM905 - no day, week or weekend (when support is open is a claim), no
# cause (who caused a delay is a claim): a review's probe hid such claims in closings
# What an offer may offer or ask, besides filler and politeness: service itself ("start a
# return", "check the status of your order", "connect you with an agent"). An offer of
# anything else presupposes a claim ("refund the shipping fee?", "extend your warranty?",
# "file an accidental damage claim?", "add your second free bag?": a review's probe) and is
# scored.
_OFFER_WORDS = frozenset("""start check look up find help explain walk through send share go
over open escalate connect transfer process track confirm it this that these those them more
details detail information info status order orders return returns request ticket case
account number handy steps options someone agent specialist human email link copy summary
now right away for you your me us the a an of with on in to""".split())  # noqa: SIM905
# A closing's invitation and its condition past its start, taken out as phrases before its
# words are judged: "Feel free to reach out if you have any other questions.", "If you have
# any other questions, feel free to reach out." (a probe of schedule answers: both halted, on
# "have", "free" and "to"). As loose words they would let "Sorry, this is free." through.
_CLOSING_INSIDE = re.compile(
    r"\b(?:please )?(?:feel free|don't hesitate|do not hesitate) to\b"
    r"|\bif you (?:have|need|got) (?:any )?(?:more |other |further |additional |follow-up )?"
    r"(?:questions?|help|assistance|problems?|issues?|concerns?)\b".replace("'", "['’]"),
    re.IGNORECASE)
_CLOSING_TRIGGERS = frozenset("""would want shall should can could may do feel don hesitate if
sorry apologize apologise apologies understand know see hear imagine appreciate need""".split())  # noqa: SIM905
# A chat's pleasantries: thanks and "you're welcome", greetings and farewells, "glad I could
# help", "nice talking to you", sympathy ("sorry to see you go"), a word on the listener's
# choice ("great choice!"), and wishes to the listener ("Good luck with your exam!", "Hope you
# enjoy it!", "Safe travels!", "Have a great day!"). They state nothing the evidence could
# attest, and scored they halted: 12 of 18 faithful chat answers with one ("Glad I could
# help!", "Thanks for chatting with me!", "Cheers!") halted on it (the detector gives such a
# line 0.01-0.08). Each clause of a window must hold one (:func:`_pleasantry`), and what is
# left beside it must be politeness and the words of goodwill (``_PLEASANTRY_ALLOWED``), so a
# formula inside a claim ("Members enjoy free shipping.", "You are welcome to bring pets.") or
# beside one ("Enjoy, and breakfast is free!") leaves the claim's words. A wish's object is an
# occasion of the listener's ("your trip", "the ride") or, as a line's last word, a thing of
# theirs ("Enjoy your coffee!"): "Enjoy the free upgrade!" and "Have fun at the rooftop bar!"
# presuppose what the evidence must attest. Not "sure", "okay", "anytime" or "no problem"
# alone: each can answer a question ("Is it free?" "Sure!").
# The occasions a wish may name: the listener's day, trip or event, not a thing a business
# offers ("Have a great direct flight!" and "a complimentary stay" say how it is offered).
_OCCASIONS = frozenset("""day one time trip journey travels flight drive ride visit stay weekend
evening night morning afternoon week holiday holidays vacation birthday anniversary wedding
party celebration graduation interview exam exams move engagement arrival retirement promotion
milestone recovery concert show game match race date break""".split())  # noqa: SIM905
# Who a wish or a sympathy is for, besides the listener ("Congratulations to your sister!",
# "So sorry about your grandad."), and what a chat calls its listener ("mate", "hon").
_PEOPLE = frozenset("""sister sisters brother brothers mum mom mother dad father parents son sons
daughter daughters grandad grandpa grandma gran granny nan grandparents wife husband partner
fiance fiancee friend friends mate mates boy girl baby niece nephew aunt uncle cousin
colleague colleagues team hon darling champ pal buddy""".split())  # noqa: SIM905
# What a business grants, which a congratulation or wish for "your ..." says was granted
# ("Congrats on your approval!", "Enjoy your upgrade!").
_GRANTED = frozenset("""upgrade upgrades refund refunds voucher vouchers reward rewards cashback
membership card approval win prize acceptance replacement suite room credit discount points
bonus loan order booking reservation ticket tickets seat seats package subscription plan trial
account coverage claim perks benefits gift""".split())  # noqa: SIM905
# ... and as what the listener does ("Happy upgrading!", "Happy booking!").
_GRANTING = ({g.removesuffix("e") + "ing" for g in _GRANTED}
             | {g for g in _GRANTED if g.endswith("ing")})
# "one" only as "have a good one" at the line's end ("a great one night stay" is a claim).
_OCCASION = ("(?:" + "|".join(sorted(_OCCASIONS - {"one"})) + r"|one(?=\W*$))(?: home)?")
_PLEASANTRY = re.compile("|".join([
    r"\b(?:you(?:'re| are|'r|r| re)|your) (?:very |so |most |always )?welcome\b(?! to)",
    r"\bwelcome (?:back|aboard)\b",
    # thanks for the custom ("Thanks for booking with us!": a probe of schedule answers halted
    # on it), with us and nothing more; before the plain thanks, which would take "Thanks"
    r"\b(?:(?:many )?thanks|thank you)(?: (?:so|very) much| again)? for (?:booking|choosing"
    r"|shopping|staying|ordering|flying|dining|travell?ing|banking) with us(?=\W*$)",
    r"\b(?:(?:many )?thanks|thank you|thx|much appreciated|(?:I )?appreciate it)"
    r"(?: (?:so|very) much| a lot| again)?\b",
    r"\b(?:(?:it|this)(?:'s| was| has been|'s been) )?(?:so |really |very )?(?:nice|great|good|"
    r"lovely|fun|a pleasure|always a pleasure) (?:talking|chatting|speaking|to talk|to chat)"
    r"(?: (?:to|with) (?:you|ya))?\b",
    r"\b(?:(?:it(?:'s| was|'s been) )?(?:my|a|the) pleasure|no worries|cheers"
    r"|bye(?: for now)?|goodbye|good-bye|(?:see|catch) (?:you|ya)(?: (?:later|soon|around|next"
    r" time|then|there))?(?=\W*$)|talk (?:to you )?(?:soon|later)(?=\W*$)|until next time|you too"
    r"|same to you"
    # a business's farewell, the line's end ("We look forward to seeing you!", "We hope to see
    # you soon!"; a probe of schedule answers halted on them): "... on Saturday" is a claim
    r"|(?:(?:we|I)(?:'re| are|'m| am)? )?(?:really |so |very )?look(?:ing)? forward to "
    r"(?:seeing|welcoming|meeting|hosting) you(?: (?:soon|again|then|there))?(?=\W*$)"
    r"|(?:we|I) hope to see you(?: (?:soon|again|then|there))?(?=\W*$)"
    r"|(?:hi|hello|hey)(?: there)?|good (?:morning|afternoon|evening)|take care|best regards"
    r"|kind regards|all the best)\b",
    r"\b(?:I(?:'m| am|'d be| would be) )?(?:so |really |very |always )?(?:glad|happy|delighted)"
    r" (?:to|(?:I|we) (?:could|was able to|were able to)) (?:help|assist)(?: (?:you|out))?\b",
    r"\b(?:(?:I'm |I am |so )?(?:glad|happy) (?:you asked|to hear (?:it|that))"
    r"|(?:(?:I'm |I am |so )?sorry|sad) to (?:see you go|hear (?:that|it|about (?:your|the) \w+"
    r"(?=\W*$)))|(?:I'm |I am )?(?:so |really |very )?sorry (?:for|about) the (?:wait|trouble"
    r"|delay|confusion|mix-up|hassle)|(?:I'm |I am )?(?:so |really |very )?sorry(?= you\b)"
    r"|(?:great|good|nice|excellent) (?:choice|pick|plan|idea)"
    r"|sounds? (?:like )?(?:a |an )?(?:fun|great|lovely|amazing|wonderful|like a plan|good)"
    r"|how (?:exciting|fun|lovely|wonderful|nice|special|sweet|thoughtful|brilliant|fantastic"
    r"|amazing))\b",
    # exclamations on the listener's news, and a word of cheer ("What a treat!", "That's
    # wonderful news!", "Well done!", "Lucky you!", "You've got this!")
    r"\bwhat an? (?:(?:lovely|great|fun|wonderful|fantastic|special|brilliant|beautiful|nice"
    r"|perfect|amazing|fabulous|exciting|thoughtful|cosy|cozy|big) )*(?:treat|way to celebrate"
    r"|way to mark it|milestone|idea|gift|present|celebration|occasion|achievement|surprise"
    r"|thing to do)\b",
    r"\b(?:(?:that's|that is|what) )?(?:(?:such|really|so) )?(?:wonderful|fantastic|great"
    r"|brilliant|amazing|lovely|exciting|happy|fabulous) news\b",
    r"\b(?:well done|good for you|lucky (?:you|them|her|him)|chin up|rock on|woohoo|hooray"
    r"|(?:you've|you have|you) got this|look after yourself|stay (?:safe|warm|well|dry)"
    r"|(?:I'm|I am) (?:so |really |very )?(?:glad|happy|thrilled|delighted) for (?:you|them"
    r"|her|him))\b",
    r"\b(?:(?:congrats|congratulations) to|(?:(?:I'm|I am) )?(?:so |really |very |truly )?"
    r"sorry (?:about|for|to hear about)) your (?:(?:little|new|dear|late) )?(?:"
    + "|".join(sorted(_PEOPLE)) + r")(?:'s \w+)?\b",
    r"\b(?:I'm|I am) (?:so |really |very |truly )?sorry for your loss\b",
    # wishes: an object of the listener's own, one word and the line's last ("Enjoy your
    # coffee!", not "Enjoy your complimentary stay!")
    r"\b(?:enjoy|good luck with|best of luck (?:with|on)|(?:congrats|congratulations) on)"
    r" your (?:new )?(?!(?:" + "|".join(sorted(_GRANTED)) + r")\b)\w+(?=\W*$)",
    r"\b(?:(?:good|best of) luck|enjoy|have fun|have a blast|fingers crossed|bon voyage"
    r"|sleep (?:well|tight)|get well soon|feel better(?: soon)?|rest up|treat yourself"
    r"|hang in there|(?:congrats|congratulations)(?: to (?:you|both of you)(?: both| all)?)?"
    r"|break a leg"
    r"|safe (?:travels|travel|trip|journey|flight|drive|ride|trip home|journey home)"
    r"|(?:ride|drive|travel|fly|stay) safe|(?:wishing|I wish|we wish) you"
    r"|give (?:your \w+|them|him|her) a (?:hug|pat|cuddle|scratch))\b",
    r"\b(?:I |we )?hope (?:this|that|it)(?: (?:helps|clears (?:things|it|that) up|makes sense"
    r"|answers your question)|(?:'s| is) (?:useful|helpful))\b",
    # a hope for the listener: what follows it is read word by word (``_PLEASANTRY_ALLOWED``)
    r"\b(?:I |we )?hope(?: that)?\b",
    r"\b(?:(?:I )?hope you )?have (?:a |an )?(?:(?:great|good|nice|wonderful|lovely|fun|safe"
    r"|brilliant|fantastic|relaxing|splendid|terrific|super|happy|magical|beautiful|fab"
    r"|amazing|restful|smooth) )+" + _OCCASION + r"\b",
    r"\bhappy (?:(?!(?:" + "|".join(sorted(_GRANTING)) + r")\b)\w+ing|birthday|holidays"
    r"|anniversary|new year|\d{1,3}(?:st|nd|rd|th)(?: birthday| anniversary)?)"
    r"(?: to (?:you|both of you)(?: both| all)?| to your (?:little |new )?"
    r"(?:" + "|".join(sorted(_PEOPLE)) + r"))?\b",
    r"(?:^|\b(?:that's|that is|what) )(?:a |an )?(?:great|good|excellent|interesting) question\b",
]).replace("'", "['’]"), re.IGNORECASE)

# What may stand beside the scaffolding formulas in a window of nothing else: words of
# politeness and these. Not pronouns with a verb ("Certainly, he did.", "According to the
# passage, it was." answer a question), not yes or no, not a negation.
_SCAFFOLD_FILLER = frozenset("""you your me us it this that through with a an the to of for in
on some few more below following further here basics details closer""".split())  # noqa: SIM905
# Section titles: a heading or bold line of these words alone ("### Key achievements",
# "**Highlights**") titles what follows; any other word may be a claim ("**False**",
# "### Ineffective", "**Approved**").
_TITLE_WORDS = frozenset("""key main points point highlights highlight summary overview
introduction conclusion conclusions background details detail notes note steps step examples
example features feature achievements achievement takeaways takeaway answer answers explanation
context sources source references faq frequently asked questions question tips options usage
installation setup requirements prerequisites next what how why more information quick short
brief final thoughts recap breakdown comparison differences difference findings pros cons and
the a of to in for with your our my about further reading related topics section part history
definition description method methods approach analysis discussion considerations
""".split())  # noqa: SIM905
# Where someone else's words begin: a quotation mark, or the colon of "Name: words". A first
# person after it is the quoted person's, and a report can attest it ("'I was terrified,' she
# said"; news highlights are full of them, often with the closing quote cut off).
_QUOTED = re.compile(r"[\"“”‘:]|(?<!\w)'")
# A word of each service formula: text with none of them needs no scan for the formulas.
_SERVICE_WORDS = frozenset("""happy glad delighted pleased let hope help assist how sorry afraid
sure certain far recall remember confirm found want like shall else questions free recommend
suggest moment second sec""".split())  # noqa: SIM905 - a word list reads better as text
_SCAFFOLD_WORDS = frozenset("""here question certainly absolutely course let based according
from points highlights takeaways details facts summary overview summarize conclusion short tl
dr tldr asking hope news""".split())  # noqa: SIM905
_FIRST_PERSON_WORDS = frozenset(["i", "me", "my", "myself"])
_WORD = re.compile(r"[a-z]+")
# Closing quotes and brackets a question mark may hide behind.
_CLOSERS = "\"')]}»”’ \t\r\n"


def speaks_of_self(text: str) -> bool:
    """Whether the text speaks of its speaker (a first-person singular pronoun before any
    quotation and outside the formulas of service talk)."""
    words = lowercase_words(text)
    if words.isdisjoint(_FIRST_PERSON_WORDS):
        return False
    quoted = _QUOTED.search(text)
    if quoted is not None:
        text = text[:quoted.start()]
    if not words.isdisjoint(_SERVICE_WORDS) and _SERVICE.search(text):
        text = _SERVICE.sub(" ", text)
    hits = sum(1 for _ in _FIRST_PERSON.finditer(text))
    return hits > (sum(1 for _ in _NUMERAL_I.finditer(text))
                   + sum(1 for _ in _TITLE_WORD.finditer(text)))


# What a line that names an answer's sources holds besides its markers: "Sources: [1], [2]",
# "(Source: [1])", "See [1].", a heading "References:" (a review: each halted a faithful RAG
# answer, as did a marker alone after a space: scored, it cleared the run of the false sentence
# before it).
_SOURCES_LABEL = re.compile(
    r"\W*(?:(?:sources?|references?|citations?|cited|see(?: also)?|from|via|bibliography"
    r"|further reading|links?|and)\b\W*)*", re.IGNORECASE)
# A footnote's definition ("[^1]: Returns policy, section 2."), and a reference entry: a line
# that begins with a citation marker and names a source ("[1] Returns policy", "¹ Shipping
# FAQ"): no figure, no end punctuation.
_FOOTNOTE_DEFINITION = re.compile(r"\s*\[\^[\w-]{1,16}\]:")
_REFERENCE_ENTRY = re.compile(f"\\s*(?:\\[\\d{{1,3}}\\]|[{SUPERSCRIPT_CLASS}]+)\\s+"
                              r"[^\d.!?]{1,80}")
_MARKS_ONLY = re.compile(f"\\s*[{SUPERSCRIPT_CLASS}]+\\s*")
# An entry of a list under a heading of sources: a title or a link, no claim's end punctuation
# or figure ("1. Returns policy", "- https://example.com/returns").
_SOURCE_ENTRY = re.compile(r"\s*(?:[-*+•]|\d{1,3}[.)])\s+(?:[^\d.!?]{1,80}|.{0,80}?\b(?:https?://|www\.)\S+)\s*")
_SOURCE_HEADING = re.compile(r"\W*(?:sources?|references?|citations?|bibliography"
                             r"|further reading)\W*:?\W*", re.IGNORECASE)


def names_sources(text: str) -> bool:
    """Whether the text only names sources, each line of it: citation markers with a label or
    none, a heading of sources, a footnote's definition, or a reference entry. It states no
    claim."""
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and all(map(_names_sources, lines))


def _names_sources(line: str) -> bool:
    bare = without_citations(line)
    return bool((bare != line and _SOURCES_LABEL.fullmatch(bare)) or _MARKS_ONLY.fullmatch(line)
                or _SOURCE_HEADING.fullmatch(line) or _FOOTNOTE_DEFINITION.match(line)
                or (_REFERENCE_ENTRY.fullmatch(line) and _PREDICATE.search(line) is None))


# A verb that makes a line after a marker a claim, not a source's title ("[1] Refunds are free").
_PREDICATE = re.compile(r"\b(?:is|are|was|were|will|can|cannot|can't|must|has|have|had|does|do|"
                        r"did|offers?|includes?|costs?|takes?)\b", re.IGNORECASE)


def source_entry(text: str) -> bool:
    """Whether a list item names a source (a title or a link): one under a heading of sources
    states no claim."""
    return _SOURCE_ENTRY.fullmatch(text) is not None and _PREDICATE.search(text) is None


def heads_sources(text: str) -> bool:
    """Whether the text is a heading of sources ("References:", "**Sources**"): the list
    items after it name sources (:mod:`stream_guard.oversight.segmenter`)."""
    return _SOURCE_HEADING.fullmatch(text) is not None


def lowercase_words(text: str) -> set[str]:
    """The text's lowercase words ("I'm" gives "i" and "m"): one cheap pass that spares the
    common text, which has neither a first person nor a service formula, every regex scan."""
    return set(_WORD.findall(text.lower()))


# A digit, or a letter outside a-z: what :func:`lowercase_words` does not see.
_UNSEEN = re.compile(r"[^\W_a-zA-Z]")


def beyond_lowercase_words(text: str) -> bool:
    """Whether the text holds a figure or a word outside a-z (Cyrillic, Greek, Chinese, an
    accented name), which a test of its :func:`lowercase_words` against a word list misses: a
    review found "According to the document, 1925." and "Here are the key points: <a claim in
    Russian>" read as scaffolding, never checked."""
    return _UNSEEN.search(text) is not None


def is_question(text: str) -> bool:
    """Whether the text ends in a question mark."""
    return text.rstrip(_CLOSERS).endswith("?")


def asks_listener(text: str) -> bool:
    """Whether the text is a question put to its listener ("you"), not an offer of service."""
    return (is_question(text) and _SECOND_PERSON.search(text) is not None
            and _SERVICE.search(text) is None)


# Words of politeness: with service formulas, all a window of service talk may say.
POLITENESS = frozenset("""welcome thank thanks hello hi hey bye goodbye great glad sorry enjoy
nice cool awesome fun pleasure cheer cheers wow interesting hope luck problem good day sound sure
okay help assist question ask know explain walk excellent certainly absolutely course quick brief
few provided context document information text source passage article""".split())  # noqa: SIM905


def is_service_talk(text: str) -> bool:
    """Whether the text is only service talk: a formula of it, and besides nothing but words of
    politeness (no name, number or other content word); or a label, a markdown heading or a
    line all in bold ("### Key achievements", "**Highlights**") with no number or name in it,
    which titles what follows and states nothing; or sentences each of which is one of these
    ("Sorry for the inconvenience! Have a great day!")."""
    if _talk(text):
        return True
    body = text.rstrip()
    # a sentence can end before the last character only at a terminal or a line break: most
    # windows are one sentence, and need no scan
    if QUIET_BREAKS.search(body, 0, len(body) - 1) is None:
        return False
    spans = sentence_spans(text)
    return (len(spans) > 1 and not may_answer(text)
            and all(_talk(text[start:end]) for start, end in spans))


# An answer: of a window of sentences each talk, one may answer the question asked ("As far as
# I know, yes. Thanks for asking!", "Certainly! Enjoy the afternoon.": a second review).
_ANSWER = re.compile(r"\b(?:yes|yeah|yep|no|nope|not|certainly|absolutely|of course|sure)\b"
                     r"|n['’]t\b", re.IGNORECASE)
_NO_TROUBLE = re.compile(r"\bno (?:problem|worries)\b", re.IGNORECASE)


# A letter's sign-off: a valediction and the lines of who signs ("Best regards,\nThe Acme
# Support Team"), names in capitals and no figure (a review: a faithful support answer halted
# on its signature); and no word that states ("Take care,\nYour Warranty Has Expired" is a
# claim: a second review, :data:`_NOT_SIGNATURE_WORDS`).
_NAME_WORD = r"(?:[A-Z][^\W\d_]*(?:['’&.-][^\W\d_]+)*\.?|&)"
_SIGN_OFF = re.compile(
    r"\W*(?i:(?:(?:best|kind|warm|warmest|many)\s+)?(?:regards|wishes)|sincerely|cheers|thanks"
    r"|thank you|best|all the best|take care|yours(?:\s+(?:truly|sincerely))?)[ \t]*[,!.]?"
    r"(?:[ \t]*\n[ \t]*(?:[-–—][ \t]*)?(?:the[ \t]+)?" + _NAME_WORD
    + r"(?:[ \t]+(?:(?:of|at|from|the|and)[ \t]+)*" + _NAME_WORD + r"){0,5}[ \t]*,?){1,3}\s*")


def may_answer(text: str) -> bool:
    """Whether the text holds a word that may answer a question ("Sure!", "Of course not."):
    talk of that kind is judged with the claim after it."""
    return _ANSWER.search(_NO_TROUBLE.sub(" ", text)) is not None


# Words a signature does not hold: those that state (a verb of being or having, a negation, a
# pronoun of a sentence); "the", "of", "and", "at" and "from" name teams ("The Team at Acme").
_NOT_SIGNATURE_WORDS = STOPWORDS - {"the", "of", "and", "at", "from"}


def _talk(text: str) -> bool:
    """:func:`is_service_talk` for text read as one piece."""
    if "\n" in text and _SIGN_OFF.fullmatch(text) is not None:
        signature = text.split("\n", 1)[1]
        return lowercase_words(signature).isdisjoint(_NOT_SIGNATURE_WORDS)
    words = lowercase_words(text)
    if (_closing_talk(text, words) or _referral(text, words) or _pleasantry(text, words)
            or names_sources(text)):
        return True
    if _LABEL.fullmatch(text.strip()):  # a section title: its words are title words alone
        return (bool(words) and words <= _TITLE_WORDS and ":" not in text.strip(" \t*_:")
                and not beyond_lowercase_words(text))
    service = not words.isdisjoint(_SERVICE_WORDS) and _SERVICE.search(text) is not None
    scaffold = not words.isdisjoint(_SCAFFOLD_WORDS) and _SCAFFOLD.search(text) is not None
    if service and not scaffold:
        # service talk: besides its formulas, politeness only (no name, number, content word)
        rest = _SERVICE.sub(" ", text)
        return not beyond_lowercase_words(rest) and all(t.key in POLITENESS for t in terms(rest))
    if not scaffold:
        return False
    # scaffolding: besides its formulas (and any service formula), only politeness and filler,
    # counting every word, stopwords and the halves of "n't" too
    rest = _SCAFFOLD.sub(" ", _SERVICE.sub(" ", text))
    return (not beyond_lowercase_words(rest)
            and lowercase_words(rest) <= POLITENESS | _SCAFFOLD_FILLER)


# What a closing may hold besides its formula ("any day": when support is open is a claim).
_CLOSING_ALLOWED = (_CLOSING_WORDS | POLITENESS | _SCAFFOLD_FILLER) - {"day"}
# What a pleasantry may hold besides its formulas: politeness, the words of a thanks ("for
# chatting with me", "for your patience") and of goodwill: who is wished well, the occasion
# (``_OCCASIONS``), how well ("Hope your pup has a wonderful stay!"). No offering a business
# makes or withholds (a meal, a class, an upgrade): a wish for one states that it is there
# ("Enjoy the cooking class!"). No "to", "we", "our" or a verb of being: "You're welcome to stay
# all day!", "we're open" and "your visit is today" are claims.
_PLEASANTRY_ALLOWED = POLITENESS | (_OCCASIONS - {"one"}) | frozenset("""for the a an your you me
us with and too so very really much all again today chat chatting talking speaking reaching out
patience understanding asking checking waiting writing getting touch bearing dealing alright it
its this that they them their she her he him everyone both kids kid children family friends pup
puppy dog cat pet ones has had goes go feel feels better times days rest of every minute
wonderful brilliant good fun safe lovely amazing fantastic relaxing restful happy splendid
terrific awesome perfect smooth smoothly pleasant memorable super well soon now later plan plans
work out from in at home love loves like likes enjoy enjoys re aw aww oh ooh wow
yay special big real lovely beautiful exciting proud thrilled lucky brilliantly beautifully
nicely quickly comfortable mend on settle settles settled settling celebrate celebrating mark s
""".split()) | _PEOPLE  # noqa: SIM905
# A word of each pleasantry formula: text with none of them needs no scan for the formulas.
_PLEASANTRY_TRIGGERS = frozenset("""welcome thanks thank thx appreciated appreciate talking
chatting speaking talk chat pleasure time worries cheers bye goodbye see catch next hi
hello hey too same care regards best help assist asked hear sorry sad choice pick plan idea
sounds sound exciting fun lovely wonderful luck enjoy blast crossed voyage sleep well better
rest treat hang give congrats congratulations leg safe wishing wish hope have happy question
morning afternoon evening no forward""".split())  # noqa: SIM905
# A capital inside a sentence: a name, which a wish presupposes ("Enjoy the Sunday market!");
# but not the listener's, called by it after a greeting or at the end ("Hi Sam!", "Thanks,
# Maria!").
_INNER_CAPITAL = re.compile(r"(?<=[\w,;:] )(?!I\b)[A-Z]")
_CALLED = re.compile(r"^(\W*(?i:hi|hello|hey|dear|thanks|thank you)),?(?: [A-Z][a-z]+){1,2}(?=[,!])"
                     r"|, [A-Z][a-z]+(?=\W*$)")
_OFFER_ALLOWED = _OFFER_WORDS | POLITENESS


# Where a pleasantry's clauses meet: each must hold a formula of its own, or be an
# interjection; a clause of allowed words without one is a claim ("Thanks! You're in.",
# "Thanks for checking! Your dog goes home today.": a second review).
_PUNCTUATION = re.compile(r"[,;:!?.\u2026\u2014\u2013()]+|\s-\s")
_CLAUSE = re.compile(_PUNCTUATION.pattern + r"|\b(?:and|but)\b", re.IGNORECASE)
# An ordinal is no figure in a wish ("Happy 70th to your mum!", "Happy 10th anniversary!").
_ORDINAL = re.compile(r"\b\d{1,3}(?:st|nd|rd|th)\b")
_INTERJECTIONS = frozenset("""oh aw aww ooh wow yay ok okay alright great perfect awesome lovely
wonderful cool nice super so again too welcome""".split())  # noqa: SIM905
# "Oh no" is sympathy only beside it ("Oh no, so sorry to hear that!"); alone it answers.
_SYMPATHY = re.compile(r"\bsorry\b|\bhang in there\b|\bfeel better\b|\bget well\b",
                       re.IGNORECASE)
# Words that state (a verb, a when): in a hope's clause only ("Hope your pup has a wonderful
# stay!"), never in a thanks or a greeting ("Thanks, it goes out today").
_HOPE_ONLY = frozenset("""has had goes go feel feels love loves like likes enjoys work re s days
times now later soon""".split())  # noqa: SIM905
_HOPE = re.compile(r"\b(?:hope|wishing|wish)\b", re.IGNORECASE)
# "Your little one" is the listener's child: "one" alone is a count ("your one night stay").
_LITTLE_ONE = re.compile(r"\blittle ones?\b", re.IGNORECASE)
# Words of politeness that answer a question or name a document ("Thanks for asking! Kids
# welcome all day.", "Great question! In the text, ..."): not beside a pleasantry.
_ANSWER_WORDS = frozenset("""welcome sure okay ok certainly absolutely course few quick brief
article text passage source document context information provided walk know explain
problem""".split())  # noqa: SIM905
_BESIDE_HOPE = _PLEASANTRY_ALLOWED - _ANSWER_WORDS
_BESIDE_FORMULA = _BESIDE_HOPE - _HOPE_ONLY


def _clauses(text: str) -> list[str]:
    """A pleasantry's clauses (``_CLAUSE``); but a hope runs on past "and" ("I hope he's
    comfortable and on the mend"): what it hopes is read word by word all the same."""
    out: list[str] = []
    for part in _PUNCTUATION.split(text):
        out.extend([part] if _HOPE.search(part) else _CLAUSE.split(part))
    return out


def _pleasantry(text: str, words: set[str]) -> bool:
    """Pleasantries of nothing else (``_PLEASANTRY``): no figure, and each clause a formula with
    only politeness and the words of goodwill beside it, or an interjection."""
    if words.isdisjoint(_PLEASANTRY_TRIGGERS) or has_digit(_ORDINAL.sub(" ", text)):
        return False
    text = _CALLED.sub(lambda m: m.group(1) or "", text)
    if _INNER_CAPITAL.search(text) is not None:
        return False
    found_any = False
    for clause in _clauses(text):
        clause_words = lowercase_words(clause)
        if not clause_words:
            if beyond_lowercase_words(clause):  # a clause in another script: a claim, unread
                return False
            continue
        rest, found = _PLEASANTRY.subn(" ", _LITTLE_ONE.sub(" kids ", clause))
        if not found:
            if clause_words <= _INTERJECTIONS or (clause_words == {"oh", "no"}
                                                   and _SYMPATHY.search(text)):
                continue
            return False
        allowed = _BESIDE_HOPE if _HOPE.search(clause) else _BESIDE_FORMULA
        if not lowercase_words(rest) <= allowed:
            return False
        found_any = True
    return found_any


def _closing_talk(text: str, words: set[str]) -> bool:
    """An offer or request to the user ("Want me to check the status of your order?"), or a
    closing, apology, empathy line or pleasantry of nothing else: no figure, and no word but
    politeness and the closing's own (``_CLOSING_WORDS``)."""
    if words.isdisjoint(_CLOSING_TRIGGERS) or beyond_lowercase_words(text):
        return False
    offer = _OFFER.search(text)
    if offer is not None:
        request = _MORE_DETAIL.sub(" ", text[offer.end(1):])  # what is offered or asked
        return lowercase_words(request) <= _OFFER_ALLOWED
    rest, found = _CLOSING.subn(" ", text)
    rest = _CLOSING_INSIDE.sub(" ", rest)
    return found > 0 and lowercase_words(_MORE_DETAIL.sub(" ", rest)) <= _CLOSING_ALLOWED


# A referral: "I'd check with HR on that", "You may want to contact sales.", "I'd suggest
# contacting the front desk directly." It sends the user elsewhere and states nothing, when the
# user is the one sent (the speaker's advice, a "you may want to", an imperative: "The bank will
# call you." and "You need to speak to your pharmacist first." are claims) and its words are
# these alone (no figure, no other content word: "Call us before 5 pm for a refund." is a
# claim).
_REFERRAL = re.compile(
    r"^\W*(?:(?:so|then|otherwise|also|or),?\s+)?(?:(?:I|we)(?:'d| would)?\s+(?:recommend"
    r"|suggest|advise)(?:\s+(?:that\s+)?you)?\s+|I(?:'d| would)\s+|(?:you|you'd|you would)\s+"
    r"(?:(?:may|might|could|can)\s+)?(?:(?:want|wish|like)\s+)?(?:to\s+)?|(?:please|it's best to"
    r"|it would be best to|best to|try|consider|feel free to)\s+)?(?:check|confirm|verify|ask"
    r"|contact|reach(?:ing)? out|call|e-?mail|consult|speak|talk|get(?:ting)? in touch"
    r"|follow(?:ing)? up)(?:ing)?\b",
    re.IGNORECASE)
_REFERRAL_WORDS = frozenset("""so i you we d would may might could can want wish like best worth
try consider advise feel free s it its is be to a an the your our their with on about that this
first please recommend suggest check checking confirm confirming verify ask asking contact
contacting reach reaching out call calling email emailing e mail consult consulting speak
speaking talk talking get getting in touch follow up hr human resources manager supervisor
team support sales service customer desk front office staff store shop hotel venue host
organizer organizers organiser organisers landlord agent agency provider vendor seller
manufacturer pharmacist doctor physician clinic school bank airline department administrator
admin help helpdesk representative them someone directly details more information info
before booking buying ordering management reception concierge property owner start starting
proceeding visit visiting going""".split())  # noqa: SIM905 - a word list reads better as text


# Or it names someone else who would know or tell: "HR or the finance team would know.", "The
# centre director should be able to tell you.", "Guest services would be the best place to
# ask.", "It'd be worth raising with the venue coordinator." Not "we", "you" or "I" (our own
# knowledge is a claim: "We can confirm."), and only who knows or tells: what they will do or
# hold is a claim ("Reception will have those.", "The team will know more next week."). Its
# own words, so that the patterns above take no more than they did ("Check-in will probably
# start before the visit." is a claim).
_WHO_KNOWS = re.compile(
    r"^[^\w'-]*(?:(?:so|then|otherwise|or),?\s+)?(?P<who>(?:\w[\w'-]*\s+){1,6}?)(?:would|should"
    r"|will|can"
    r"|could|might)\s+(?:(?:probably|definitely|certainly|likely|be able to)\s+)*(?:know|tell you"
    r"|be (?:the|a) (?:best |right )?(?:place|people|person) to (?:ask|check|contact))\W*$"
    r"|^[^\w'-]*(?:it(?:'d| would| might)|it's|it is)\s+(?:be\s+)?(?:worth|best)\s+(?:raising"
    r"(?: it)?|asking|checking)(?:\s+(?:with|about it with)(?:\s+\w[\w'-]*){1,5})?\W*$",
    re.IGNORECASE)
_WHO_KNOWS_WORDS = _REFERRAL_WORDS | frozenset("""
then otherwise or should will probably definitely certainly likely able know tell place people
person right raising raise coordinator director centre center services dining housing finance
accounts billing professional advisor adviser accountant lawyer attorney officer counselor
counsellor registrar insurer broker dealer technician dentist vet veterinarian nurse teacher
instructor coach ranger crew operator company carrier council authority tax guest guests""".split())  # noqa: SIM905
_WE_YOU_I = frozenset(["we", "you", "i", "us"])


def is_referral(text: str) -> bool:
    """Whether the text only sends the user elsewhere ("I'd check with HR on that")."""
    return _referral(text, lowercase_words(text))


def _referral(text: str, words: set[str]) -> bool:
    """:func:`is_referral` given the text's lowercase words: their test first, which fails at
    once for almost every window the segmenter asks about."""
    if has_digit(text):
        return False
    if words <= _REFERRAL_WORDS and _REFERRAL.match(text.translate(APOSTROPHES)) is not None:
        return True
    if not words <= _WHO_KNOWS_WORDS:
        return False
    who = _WHO_KNOWS.match(text.translate(APOSTROPHES))
    return who is not None and (who["who"] is None
                                or lowercase_words(who["who"]).isdisjoint(_WE_YOU_I))


# One line: a markdown heading, or bold as a whole (a heading merged with the sentence after it
# is a sentence to check).
_LABEL = re.compile(r"#{1,6}[ \t][^\n]*|(\*\*|__)[^*_\n]+\1[ \t]*:?")


# Small talk on the listener's life: a chat assistant congratulates, wishes well and
# sympathises about what the user said ("Have a wonderful time in Malaga, all three of you!",
# "I'm so sorry about your dad."). A blind probe of such answers had 56 of its 80 faithful
# answers halted on it: the formulas above cover its commonest words only, and the rest say
# things of the user's life the evidence never mentions, in words of their own. Read here as
# talk where nothing in it could be a claim on the evidence (:func:`chats_about_listener`).
# Each such window holds one of these marks of goodwill.
_GOODWILL = re.compile(
    # congratulations, condolences, wishes, sympathy for the listener's news
    r"\b(?:congrat(?:s|ulations?)\b|condolences"
    r"|poor (?:thing|baby|boy|girl|love|(?-i:[A-Z])\w+)"
    r"|(?:I'm |I am |so |really |very )*sorry (?:about|for|to hear"
    r"|you|your|that)|wish(?:es|ing)? (?:you|her|him|them|your)|best wishes"
    r"|happy (?:\d{1,3}(?:st|nd|rd|th)|birthday|anniversary|belated|early|almost|retirement"
    r"|holidays|new year)|(?:good|best of) luck|fingers crossed|well done|oh no|what a shame"
    r"|how (?:lovely|exciting|wonderful|fun|nice|special|sweet|brilliant|amazing|fantastic"
    r"|cool|perfect|romantic)|woohoo|yay|hooray|ooh+|aww*)\b"
    # ... and a wish or an exclamation that opens its clause: "Enjoy!", "Have a wonderful
    # time!", "What a treat!", "Sounds like a blast!", "Hope you ..." (not "I do enjoy those
    # films", "it does seem to have a darker theme": a dialogue's opinions, which BEGIN counts
    # as unattributable)
    r"|(?:^|[,;:!.\u2014\u2013(]\s*|\s-\s|\band\s+)(?:enjoy|have (?:a|an|the) |what (?:a|an) "
    r"|sounds? like|(?:I |we )?hope |welcome to|stay (?:safe|well|warm)|take care)",
    re.IGNORECASE)
# ... and none of these: the business's voice, what it offers or demands, what may or must be
# done ("our team will sing", "enjoy the free dessert we give", "flowers are welcome on the
# ward", "you can bring a guest"): a claim on the evidence in a friendly line.
_CLAIMS = frozenset("""we our ours us free complimentary included include includes including
offer offers offered discount discounts deal deals bonus upgrade upgrades refund refunds
voucher vouchers price prices cost costs fee fees charge charges charged pay paid book booked
booking available open opens closed close closes allowed permitted can cannot can't
mustn't need needs required require requires policy policies eligible guarantee
guaranteed get gets provide provides give gives always never every each per only midnight noon
hourly daily weekly until till half nothing""".split())  # noqa: SIM905
# ... nor these phrases of one: "flowers are welcome on the ward", "you're welcome to bring a
# guest", "drinks on the house", "you must book" (a greeting, "Welcome home, Biscuit!", the
# listener's own "first house" and "that must be worrying" are no claim); an adversarial
# review's promises are the rest.
_CLAIM_PHRASES = re.compile(r"\b(?:is|are|be|re|s|always|very|most|more than) welcome\b"
                            r"|\bwelcome to (?!(?:the|our|your)\b|(?-i:[A-Z]))\w+"
                            r"|\bon the house\b|\bmust\b(?! (?:be|have|feel)\b)"
                            # a promise of what the listener will be given or find ("you'll be
                            # seated together", "she'll receive a badge", "you'll find rose
                            # petals"), not a wish ("you'll smash it", "you'll be back on your
                            # feet")
                            r"|\b(?:you|she|he|they|it)(?:'ll|\s+will)\s+(?:be\s+(?:\w+ed|seen"
                            r"|given|shown|met|taken|first)\b|find|receive|get|land|board"
                            r"|have\s+it)\b"
                            # ... and what staff will do ("the chef will come out")
                            r"|\b(?:staff|crew|chefs?|reception|housekeeping|manager|concierge"
                            r"|waiters?|trainers?|instructors?|coach(?:es)?|drivers?|pilots?"
                            r"|nurses?|bakers?|movers|pharmacists?|team)\s+(?:will|'ll|would"
                            r"|always|usually)\b", re.IGNORECASE)
# What a friendly line states as a fact about the listener's world, which the speaker cannot
# know and no evidence attests (:func:`states_a_fact`): helper-written claims about the user
# passed as small talk (15 of 50 at the session-26 head: "Don't worry — your mum's blood tests
# came back normal.", "Your knee will be back to normal by Christmas.", "Congratulations —
# your visa application has been approved.", "Your new flat has the best view in the
# building.").
#
# A prediction of what someone or something else will do or be by when ("your knee will be
# back to normal by Christmas", "Biscuit's going to be house-trained within a fortnight"), not
# how they will feel or fare ("Maisie's going to love it on Saturday", "the kids are going to
# have a blast on Saturday", "Grandma is going to be so surprised on Sunday"); one with no time
# bound is a wish's or a sympathy's ("a spaniel is going to keep you busy", "losing her will
# be hard"), one of what it all will be ("that's going to be a lovely weekend") a comment, one
# to the listener the claim phrases' to judge ("you'll smash it").
_PREDICTION = re.compile(
    r"\b(?!(?:you|we|i|it|that|this|there)\b)\w+(?:'ll|\s+will|(?:\s+is|\s+are|'s|'re)\s+"
    r"going\s+to|\s+shall)\s+(?!(?:love|adore|enjoy|like|treasure|cherish|remember|miss"
    r"|have\s+(?:a|an|the|such|so|fun|lots|plenty|great|wonderful)|feel|look|be\s+(?:so|such"
    r"|very|absolutely|thrilled|delighted|chuffed|proud|excited|happy|glad|over\s+the\s+moon))"
    r"\b)\w+(?=[^.!?;\u2014]*\b(?:by|within|before|until"
    r"|tomorrow|tonight|next|monday|tuesday|wednesday|thursday|friday|saturday|sunday|morning"
    r"|weekend|fortnight|christmas)\b)", re.IGNORECASE)
# ... said as a hope, not as a fact ("I hope your mum will be feeling better by the weekend",
# "Fingers crossed she'll be home before Christmas!")
_HOPED = re.compile(r"\b(?:hope|hoping|hopefully|fingers\s+crossed|wish|wishing|pray|praying"
                    r"|i'm\s+sure|i\s+bet|can't\s+wait)\b", re.IGNORECASE)
# An outcome reported done ("your account's been upgraded", "the results came back clear"),
# unless the user's prompt said it ("So glad your scan came back clear!")
_DONE = re.compile(
    r"\b(?:your\s+\w+(?:\s+\w+)?|it|this|that)(?:'s|\s+has|\s+have)\s+been\s+(?P<done>approved"
    r"|accepted|confirmed|upgraded|granted|cleared|processed|refunded|credited|renewed|issued"
    r"|released|shipped|dispatched|delivered|booked|reserved|cancell?ed|canceled|paid|sent"
    r"|fixed|resolved|scheduled|rescheduled|arranged|completed|signed|verified|activated"
    r"|reinstated|waived|repaired|replaced|awarded|selected|offered)\b"
    r"|\bcame\s+back\s+(?P<result>negative|positive|normal|clear|fine|ok|okay|good|great|clean)"
    r"\b", re.IGNORECASE)
# A superlative fact of a thing or a judgement ("Your new flat has the best view in the
# building", "Yours was the strongest application they received"), not a wish or a compliment
# ("Have the best time in the Lake District!", "the nicest gift they could ask for", "the best
# day ever", "the happiest couple in the world")
_SUPERLATIVE = re.compile(
    r"\b(?:is|are|was|were|has|had|'s)\s+the\s+(?:best|worst|(?!(?:rest|interest|honest|forest"
    r"|request|contest|harvest|modest|guest|priest|conquest|protest|west|chest|test|quest)\b)"
    r"\w{2,}est)\s+\w+(?:\s+\w+)?\s+(?:they\s+(?!(?:could|would|can|might|'d|'ve|have|had|ever)\b)"
    r"\w+|in\s+(?:the|this|our)\s+(?!(?:whole\s+|wide\s+)?(?:world|universe|country|land|family"
    r"|history|house)\b))",
    re.IGNORECASE)


def states_a_fact(text: str, prompt_keys: AbstractSet[str] = frozenset()) -> bool:
    """Whether a friendly line states a fact of the listener's world: a prediction of someone
    else's by a time (not hoped for), an outcome reported done (not the prompt's own news), a
    superlative fact (see the patterns above). ``text`` with its apostrophes plain."""
    for prediction in _PREDICTION.finditer(text):
        # hoped for in its own sentence, before it or after it ("..., I hope!")
        start = max(text.rfind(end, 0, prediction.start()) for end in ".!?") + 1
        stops = [i for i in (text.find(end, prediction.end()) for end in ".!?") if i >= 0]
        if _HOPED.search(text, start, min(stops, default=len(text))) is None:
            return True
    for done in _DONE.finditer(text):
        keys = term_keys(done["done"] or done["result"])  # "ok" has none: not the prompt's
        if not keys or not keys <= prompt_keys:
            return True
    return _SUPERLATIVE.search(text) is not None


# Idioms of goodwill whose words are a claim's elsewhere ("look after each other", "a lot to
# deal with", "get well soon", "please accept our condolences", "every happiness"): left out
# before the claim words are looked for.
_GOODWILL_IDIOMS = re.compile(
    r"\beach other\b|\bdeal with\b|\bget (?:engaged|married|better|well|settled|through)\b"
    r"|\bour (?:condolences|sympathies|thoughts|best wishes|congratulations)\b"
    r"|\bevery (?:happiness|success|moment|minute|bit)\b", re.IGNORECASE)
# The words of goodwill and of the listener's occasions, which the evidence may use too (a
# bakery's "birthday cakes"; a venue's "wedding parties") without making a wish a claim.
_GOODWILL_WORDS = frozenset("""congratulation congratulations congrats happy birthday anniversary
wedding party celebration celebrate day time trip holiday weekend family sorry hope wish enjoy
luck best lovely wonderful exciting fun great special brilliant amazing fantastic beautiful
perfect new big first little""".split())  # noqa: SIM905
# A wish that presupposes what it wishes for ("Enjoy the clubhouse bar after your match!",
# "Enjoy a hot chocolate by the rink-side fire!"): a claim that it is there, unless it is an
# occasion of the listener's ("Enjoy the weekend!").
_PRESUPPOSING = re.compile(
    r"\b(?:enjoy|try|grab|check out|visit|make the most of|don't miss|pick up|catch|see"
    r"|look out for)(?:\s+\w+ing)?\s+(?:the|a|an|some|our|their|its)\s+"
    # ... not an occasion of the listener's, a big or well-earned one ("Enjoy a well-earned
    # retirement!", "Enjoy the family week away!", "Enjoy the planning!")
    r"(?!(?:(?:well-earned|big|special|long|whole|family)\s+)?(?:"
    + "|".join(sorted(_OCCASIONS - {"one"})) + r"|moment|moments|sunshine|weather|rest|view"
    r"|views|celebrations|festivities|planning|preparations|reunion|honeymoon)\b)"
    # ... or a tip: "be sure to catch the cannon firing at noon", "don't forget to ..."
    r"|\b(?:be sure|make sure|don't forget|do remember|remember) to\b", re.IGNORECASE)
_SMALL_TALK_CHARS = 200
# Where a line of small talk's clauses part (a sentence's end too: the segmenter joins a short
# opener, "Congrats!", to the sentence after it), and how a clause said of the listener or the
# speaker opens.
_TALK_BREAK = re.compile(r"\s*(?:[.!?]+\s+|[\u2014\u2013;:,]|\s-\s)\s*(?:and\s+|so\s+|but\s+)?"
                         r"|\s+and\s+")
_OF_US = re.compile(r"(?:you|your|yours|you're|you'll|you've|I|I'm|I'd|I've|I'll|she|she's|he"
                    r"|he's|they|they're|all|both|what|how|that's|here's|please|safe|many)\b"
                    .replace("'", "['’]"), re.IGNORECASE)


def could_be_small_talk(text: str, window_keys: AbstractSet[str],
                        evidence_keys: AbstractSet[str],
                        prompt_keys: AbstractSet[str] = frozenset()) -> bool:
    """Whether ``text`` (its content term keys ``window_keys``) has the shape of small talk on
    the listener's life that no evidence has a part in: a short window, no question, no figure
    but an ordinal or one the user's prompt (its term keys ``prompt_keys``) wrote ("after 40
    years"), none of the words or phrases of a claim on what a business offers or allows
    (``_CLAIMS``, ``_CLAIM_PHRASES``) nor a wish that presupposes it, nothing stated as a fact
    of the listener's world (:func:`states_a_fact`), and no content word the
    evidence (its ``evidence_keys``) uses but those of goodwill and occasions and the
    prompt's. Whether it is goodwill is read apart: by its words
    (:func:`chats_about_listener`) or by its meaning (the engine's small-talk head)."""
    if len(text) > _SMALL_TALK_CHARS or text.rstrip(_CLOSERS).endswith("?"):
        return False
    figures = _ORDINAL.sub(" ", text)
    if has_digit(figures) and not all(
            key in prompt_keys for key in (t.key for t in terms(figures)) if has_digit(key)):
        return False
    if (not lowercase_words(_GOODWILL_IDIOMS.sub(" ", text)).isdisjoint(_CLAIMS)
            or _PRESUPPOSING.search(text)
            or _CLAIM_PHRASES.search(text.translate(APOSTROPHES))
            or states_a_fact(text.translate(APOSTROPHES), prompt_keys)):
        return False
    # a word the evidence uses is the user's own where their prompt uses it too ("Happy
    # birthday - enjoy your first big bike!" to a question about bike servicing)
    return all(key in _GOODWILL_WORDS or key.isdigit() or key not in evidence_keys
               or key in prompt_keys for key in window_keys)


def talk_clauses(text: str) -> list[str]:
    """The clauses of a line of small talk (cut at dashes, semicolons, colons, commas and
    "and"), without their closing marks; empty ones dropped."""
    return [c for c in (part.strip(" !.") for part in _TALK_BREAK.split(text)) if c]


def chats_about_listener(text: str, window_keys: AbstractSet[str],
                         evidence_keys: AbstractSet[str],
                         prompt_keys: AbstractSet[str] = frozenset()) -> bool:
    """Whether ``text`` is small talk on the listener's life (:func:`could_be_small_talk`) that
    says so in words of goodwill: a mark of goodwill (``_GOODWILL``), and each clause after the
    first goodwill again or said of the listener or the speaker. What it says is the user's
    (their sister's wedding, their dog's illness), which no evidence could attest and none
    contradicts; a friendly line that touches the evidence's subject at all is judged as any
    other."""
    if _GOODWILL.search(text) is None or not could_be_small_talk(
            text, window_keys, evidence_keys, prompt_keys):
        return False
    # After its first clause each is goodwill again, or said of the listener or the speaker
    # ("..., all three of you!", "... — I hope she has a wonderful day!"): a review slipped
    # claims past the words above after a friendly opener ("Happy birthday — the rooftop pool
    # is heated all year round!", "How cool, Tom Hardy played the lead role!").
    return all(_GOODWILL.search(clause) is not None or _OF_US.match(clause)
               for clause in talk_clauses(text)[1:])
