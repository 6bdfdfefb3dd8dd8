"""Whether a window is about the conversation: its speaker, its listener."""

from __future__ import annotations

import pytest

from stream_guard.text.stance import (
    asks_listener,
    is_question,
    is_referral,
    is_service_talk,
    speaks_of_self,
)


@pytest.mark.parametrize("text", [
    "My favorite color is green, I like how it is between blue and yellow.",
    "I 've heard that skiing evolved in Scandinavia .",  # tokenised dialogue
    "i was shocked to find out that the locker room is pink.",
    "That happened to me once.",
    "Yes, I’m a big fan of the show.",  # typographic apostrophe
])
def test_first_person_singular_speaks_of_the_speaker(text: str) -> None:
    assert speaks_of_self(text)


@pytest.mark.parametrize("text", [
    "Google Chrome is a freeware web browser developed by Google.",
    "We expect revenue to grow by 4% next year.",  # a company's voice states facts
    "It ended after World War I.",
    "Traffic on I-95 was slow.",
    "Jamie Lee Curtis starred in My Girl 2.",  # a title
    "'I'm 38 weeks pregnant,' she said.",  # quoted speech: a report attests it
    'He wrote: "I am not sorry" on the wall.',
    "Lucas Moura: Lionel Messi is my idol.",
    "The model converges, i.e. the loss stops falling.",
    "Elizabeth I, Queen of England, died in 1603.",
    "The iPhone's IMEI is printed on the tray.",
    "Mine workers struck when the mine closed.",  # a mine, not a possession
])
def test_other_text_does_not(text: str) -> None:
    assert not speaks_of_self(text)


def test_a_numeral_does_not_hide_the_speaker() -> None:
    assert speaks_of_self("After World War I, I moved to Paris.")


@pytest.mark.parametrize(("text", "expected"), [
    ("Have you ever tried cod liver oil?", True),
    ('Did you hear him ask "is it true?"', True),
    ("What about your brother? ", True),
    ("(Do you know it?)", True),
    ("How can we build agents that solve social dilemmas?", False),  # rhetorical, restates
    ("You can reset it from the settings menu.", False),  # a statement to the listener
    ("Why? Because you asked.", False),  # ends by stating
    ("", False),
])
def test_a_question_to_the_listener(text: str, expected: bool) -> None:
    assert asks_listener(text) is expected


def test_any_question() -> None:
    assert is_question("How can we build agents that solve social dilemmas?")
    assert is_question("Is it? »")
    assert not is_question("It is a question of taste.")


@pytest.mark.parametrize("text", [
    "I'd be happy to help with that.",
    "Sure, let me look that up for you.",
    "I hope this helps!",
    "Is there anything else I can help you with?",
    "I can confirm that standard shipping is free on orders over $50.",
    "As far as I know, express shipping costs $12.",
    "I’m sorry, the warranty does not cover drops.",
    "Sure, I can also recommend The Dangerous Lives of Altar Boys.",
    "I'd recommend keeping the receipt until the refund arrives.",  # a review's false halt
    "I’d suggest packing it in the original box.",
])
def test_service_talk_is_not_the_speaker(text: str) -> None:
    assert not speaks_of_self(text)


@pytest.mark.parametrize("text", [
    "Would you like to know more about express shipping?",
    "Do you want me to check your order status?",
    "Want me to help you submit a meter reading?",  # a voice answer's offer, said short
    "Is there anything else I can help you with?",
])
def test_an_offer_is_not_a_question_to_the_listener(text: str) -> None:
    assert not asks_listener(text)


def test_the_speaker_beside_service_talk_or_a_title_still_counts() -> None:
    assert speaks_of_self("They want me to pay twice.")  # no offer: "want me to" opens one
    assert asks_listener("Why does your boss want me to sign it?")
    assert speaks_of_self("I love the NFL, let me tell you why.")
    assert speaks_of_self("My favorite film is My Girl.")
    assert speaks_of_self("I watched My Girl twice.")


@pytest.mark.parametrize(("text", "expected"), [
    ("I hope this helps!", True),
    ("Let me know if you have any other questions.", True),
    ("Is there anything else I can help you with?", True),
    ("Feel free to ask!", True),
    ("I hope this helps: shipping is free over $50.", False),  # a claim besides
    ("Let me check the warranty terms.", False),  # says what it will talk about
    ("Shipping is free on orders over $50.", False),
    # An answer's scaffolding, which halted faithful answers at offset 0 (a review found it)
    ("Great question!", True),
    ("Thanks for your question!", True),  # a probe's answer halted at offset 0 on it
    ("Here are the key points:", True),
    ("A few highlights:", True),
    ("Here's a breakdown:", True),
    ("Let's dive in!", True),
    ("Certainly! Let me walk you through it.", True),
    ("Based on the provided context, here is the answer.", True),
    ("According to the document:", True),
    ("### Key achievements", True),
    ("**Highlights**", True),
    # ... and what only looks like it: a fact besides, a name or number in the heading
    ("Great question, the tower is 330 metres tall.", False),
    ("According to the document, refunds take 30 days.", False),
    ("Here are the key points of the 1903 Nobel Prize.", False),
    # what the summary is of: a document (a long answer halted at offset 0 on it)
    ("Here's a summary of the obituary.", True),
    ("Here's a summary of the study described in the article.", True),
    ("Here's a quick recap of the latest earnings call.", True),
    ("Here's a summary of the 2023 study.", False),  # a figure: the evidence must have it
    ("Here's a summary of the merger.", False),  # a merger is no document: it states one
    ("Here's a summary of the retracted study.", False),  # a claim about it (a review)
    ("Here's a summary of the Supreme Court ruling.", False),  # a name: the evidence's
    ("Here's a summary of the article, which says sales rose.", False),
    ("### Marie Curie's Nobel Prizes", False),
    ("**Price: $999**", False),
    ("That's interesting!", False),  # no formula: BEGIN counts it as not attributable
    # a title is short, with no verb, no end; a heading with the sentence under it is that
    # sentence; an answer is a claim whatever surrounds it (a review of the rule found each)
    ("## Warranty\nThe warranty covers water damage.", False),
    ("**The warranty covers water damage.**", False),
    ("### The device is fully waterproof", False),
    ("**Aspirin is safe**", False),
    ("Based on the provided context, the answer is no.", False),
    ("Great question! The answer is no.", False),
    ("Here is the answer: no.", False),
    # ... a negation written short, an answer of pronouns and a verb, a title that is a verdict
    ("Based on the provided documents, it doesn't.", False),
    ("According to the text, it cannot.", False),
    ("Certainly, he did.", False),
    ("According to the passage, it was.", False),
    ("According to the text, there was a problem.", False),
    ("**Answer: Yes**", False),
    ("**False**", False),
    ("### Ineffective", False),
    ("**Side effects: none**", False),
    ("## Banned in france", False),
    # Title Case section titles are titles
    ("### Key Points", True),
    ("## Frequently Asked Questions", True),
    # more openers (a probe's list), and the same with a fact
    ("Here's what you need to know:", True),
    ("In summary:", True),
    ("Hope this helps!", True),
    ("Thanks for asking!", True),
    ("Let's take a closer look.", True),
    ("Based on the search results:", True),
    ("From the provided context:", True),
    ("From the provided context, refunds take 30 days.", False),
    ("In summary: the warranty covers water damage.", False),
    ("In short, no.", False),
    # a support answer's closings, offers, apologies and empathy (a review's answers halted on
    # them: the last window, or the first), and the same lines holding a claim or a figure
    ("Would you like me to start a return for you?", True),
    ("Want me to check the status of your order?", True),
    ("Do you have your order number handy?", True),
    ("Feel free to reach out if you need anything else.", True),
    ("Need anything else?", True),  # a voice answer's closing, said short
    ("Do you need anything else?", True),
    ("You need to bring your passport.", False),
    ("You need something else.", False),  # a claim, no question
    ("Need anything else for the trip, like the 5 kg bag?", False),
    ("If you have more questions, our support team is happy to help.", True),
    ("Sorry for the inconvenience!", True),
    ("We apologize for any inconvenience caused.", True),
    ("I understand your frustration.", True),
    ("I understand how frustrating this must be.", True),
    ("I can see why that would be confusing.", True),
    ("Happy shopping!", True),
    ("Have a great day!", True),
    ("Would you like me to process your $500 refund?", False),
    ("Sorry, gift cards cannot be returned.", False),
    ("Sorry, we do not ship to Canada.", False),
    ("I understand that refunds take five days.", False),
    ("I see that your order shipped yesterday.", False),
    ("I know Paris well, I lived there for ten years.", False),
    ("If you have questions, call 555-0100.", False),
    ("Feel free to use the express lane, which is free for members.", False),
    ("Do you like jazz?", False),
    ("Have you ever tried cod liver oil?", False),
    # ... and what a review of the rule hid: a claim in an offer's clause, a negation or a
    # policy word beside an apology
    ("Would you like me to issue the full refund now, since your product was recalled?", False),
    ("Shall I book the free upgrade that comes with every premium plan?", False),
    ("Want me to send the replacement, which ships free worldwide?", False),
    ("Sorry, this is not free.", False),
    ("We apologize: this is always free.", False),
    ("I'm sorry, we don't have a support team.", False),
    ("Do not hesitate to contact us.", True),
    ("I am sorry to hear that.", True),
    ("Shall I connect you with an agent?", True),
    # ... and what a second probe hid: when support is open, who caused a delay, an offer
    # that presupposes what is offered
    ("If you need help, our support team is here all weekend.", False),
    ("Feel free to contact our support team any day of the week.", False),
    ("I'm so sorry our team caused this delay.", False),
    ("We apologize for the delays our support team caused.", False),
    ("Would you like me to refund the shipping fee?", False),
    ("Would you like me to extend your warranty?", False),
    ("Shall I file an accidental damage claim?", False),
    ("Would you like me to start a return for your gift card?", False),
    ("Shall I remind you every two hours?", False),
    ("Feel free to contact our support team any day.", False),
    # a business's closings (a probe of schedule answers halted on each), and the same lines
    # holding a claim: a day, a fee, an offering
    ("Feel free to reach out if you have any other questions.", True),
    ("If you have any other questions, feel free to reach out.", True),
    ("Please don't hesitate to contact us if you have any questions.", True),
    ("We look forward to seeing you!", True),
    ("We look forward to welcoming you!", True),
    ("We hope to see you soon!", True),
    ("See you then!", True),
    ("Thanks for booking with us!", True),
    ("See you on Saturday!", False),
    ("We look forward to seeing you on Saturday!", False),
    ("We hope to see you at the gala!", False),
    ("Sorry, you have to pay a fee.", False),
    ("Sorry, this is free.", False),
    ("Feel free to use the free shuttle.", False),
    ("Feel free to bring your dog if you have any questions.", False),
    ("Thanks for booking the suite with us!", False),
    # a chat's pleasantries (12 of 18 faithful chat answers halted on one), also several in
    # one window, and a typo'd "you're"
    ("Glad I could help!", True),
    ("Happy to help!", True),
    ("Thanks for chatting with me!", True),
    ("You're welcome! Have a good day.", True),
    ("You'r welcome. Have a good day.", True),
    ("You are welcome, have a nice evening.", True),
    ("Thanks for the chat, have a good one!", True),
    ("It was nice chatting with you.", True),
    ("Anytime!", False),  # it answers "When can I come?" too (a second review)
    ("Cheers!", True),
    ("Bye, see you later!", True),
    ("My pleasure!", True),
    ("Good luck with your trip!", True),
    ("Hope you enjoy your visit!", True),
    ("I hope you have a great time!", True),
    ("That's a great question!", True),
    ("Sorry for the inconvenience! Have a great day!", True),
    ("Alright, thanks!", True),
    # farewells, wishes, sympathy and a word on the choice, in the words of goodwill
    ("Safe travels!", True),
    ("Ride safe!", True),
    ("Catch you later!", True),
    ("Hope this clears things up!", True),
    ("Hope that's useful!", True),
    ("Hope your pup has a wonderful stay!", True),
    ("Hope the kids have fun!", True),
    ("Hope she loves it!", True),
    ("Enjoy the ride!", True),
    ("Sorry to see you go!", True),
    ("You're welcome, glad you asked!", True),
    ("Great choice!", True),
    ("Sounds like fun!", True),
    ("Congratulations!", True),
    ("Thanks, Maria!", True),  # the listener called by name
    ("Hi Sam, thanks for reaching out.", True),
    ("Good luck with your interview!", True),
    ("Congratulations on your new job!", True),
    ("Congrats to you both!", True),
    ("Hope you feel better soon!", True),
    ("Hope your pup has a wonderful stay!", True),
    ("So sorry to hear about your cat.", True),
    ("Sorry for the wait!", True),
    ("Welcome back!", True),
    ("Good morning, Alex!", True),
    ("Treat yourself!", True),
    ("Have a fantastic time at the wedding!", True),
    # ... and what they do not cover: a formula inside a claim, a claim beside one, a wish
    # that presupposes, an answer word that can say yes or no
    ("Members enjoy free shipping.", False),
    ("You are welcome to bring pets.", False),
    ("Thanks to the new law, prices fell.", False),
    ("Thank you for your patience, the refund is on its way.", False),
    ("Thanks! The refund is on its way.", False),
    ("It is free. Enjoy!", False),
    ("Enjoy the free upgrade!", False),
    ("Good luck with your refund claim!", False),
    # ... a wish for what a business offers states that it is there; a name; an answer
    ("Enjoy the rooftop pool!", False),
    ("Enjoy the cooking class!", False),
    ("Hope you have a great time at the spa!", False),
    ("Hope you get the refund soon!", False),
    ("Enjoy the Sunday market!", False),
    ("Have a good trip home, and mind the platform change!", False),
    ("Hey Monday", False),  # a band's name, answering which band
    # ... and what a review wrote to pass as pleasantries: how a trip is offered, the state of
    # the user's order or booking, a permission, the business's voice, a second clause
    ("Have a great nonstop flight!", False),
    ("Have a wonderful complimentary stay!", False),
    ("Enjoy your complimentary stay!", False),
    ("Congratulations, your loan has been approved!", False),
    ("Thanks, your payment went through!", False),
    ("Congratulations, you're eligible for priority boarding!", False),
    ("You're welcome to visit anytime!", False),
    ("Enjoy the long weekend, we're closed on the holiday!", False),
    ("Sorry about the delay, the technician arrives tomorrow!", False),
    ("Treat yourself, everything's half price today!", False),
    ("Thanks, your visit is today!", False),
    ("Enjoy your stay, you have it all week!", False),
    ("Have fun with your instructor, Mike!", False),
    # ... and a second review's: a clause of allowed words beside a pleasantry, "one" as a
    # count, a time after "see you", "oh no" alone, what a business grants, a two-word name
    ("Thanks! You're in.", False),
    ("Thanks for checking! Your dog goes home today.", False),
    ("Thanks for asking! Kids welcome all day.", False),
    ("Great choice! The kids love it.", False),
    ("Enjoy your one night stay!", False),
    ("See you at one!", False),
    ("Oh no, enjoy!", False),
    ("Enjoy your upgrade!", False),
    ("Congrats on your approval!", False),
    ("Have a wonderful stay with us, Grand Hyatt!", False),
    ("As far as I know, yes. Thanks for asking!", False),  # sentences each talk, one answers
    ("Certainly! Enjoy the afternoon.", False),
    ("Thanks! Happy upgrading!", False),  # what a business grants, as an activity
    ("Enjoy! Happy snorkeling!", True),
    ("Hope your little one feels better soon!", True),
    ("Oh no, so sorry to hear that!", True),
    # a chat probe's small talk on the listener's news: who it is for, an ordinal, an
    # exclamation, a hope that runs on past "and"
    ("How lovely, congratulations to your sister!", True),
    ("Happy 70th to your mum, what a special celebration!", True),
    ("Happy 10th anniversary, what a lovely way to celebrate!", True),
    ("Happy anniversary to you both — what a lovely way to celebrate!", True),
    ("I'm so sorry about your grandad's fall; I hope he's comfortable and on the mend.", True),
    ("That's fantastic news for your friend, what a lovely way to celebrate her!", True),
    ("Woohoo, congratulations!", True),
    ("What a treat for you!", True),
    ("Stay well!", True),
    # ... and what they do not cover: a figure that is no ordinal, a claim after "and" or
    # beside the exclamation, what a business grants for "your" person
    ("Happy 3rd birthday, and your 2nd night is free!", False),
    ("Happy birthday to your son, your refund is approved!", False),
    ("What a treat, breakfast is free!", False),
    ("I hope you enjoy it and breakfast is free!", False),
    ("Hope you have fun and the pool is open!", False),
    ("Sorry about your refund!", False),
    ("Well done, your order shipped!", False),
    ("Congratulations to your sister on the free upgrade!", False),
    ("Thanks for your order of 3 items!", False),
    ("Yes. Thanks!", False),
    ("Sure thing!", False),
    ("No problem!", False),
    ("Okay!", False),
    # an offer of more of the answer, however it is put (a review's realistic answers halted
    # on 5 of 7 such closers) ...
    ("Let me know if you need anything else!", True),
    ("Let me know if you'd like more detail!", True),
    ("Feel free to ask if you'd like more detail.", True),
    ("Happy to give you a deeper breakdown if you'd like.", True),
    ("Would you like a deeper breakdown?", True),
    ("Would you like me to go into more detail?", True),
    ("Let me know if anything is unclear!", True),
    ("Here's an example:", True),
    # ... but not an offer of something a business grants, nor a claim beside it
    ("Let me know if you'd like a refund.", False),
    ("Would you like a free upgrade?", False),
    ("I'd be happy to give you a discount.", False),
    ("Happy to help: returns are free.", False),
    ("Let me know if you'd like the premium plan.", False),
    ("Here's an example: the X2 costs $500.", False),
    # ... and no more of anything but the answer (a second review)
    ("Would you like more points?", False),
    ("Let me know if you'd like more points.", False),
    ("We're happy to provide any parts you need.", False),
    ("Would you like us to provide the parts?", False),
    ("Let me know: we can give you any part.", False),
    ("Let me know if you'd like examples of each step.", True),
    ("Happy to share that our support team can help you.", False),
    # a support bot's openers, holds and sign-offs (a review: each halted a faithful answer)
    ("Hi there! How can I help you today?", True),
    ("Let me look into that for you.", True),
    ("Let me check that for you...", True),
    ("One moment, please.", True),
    ("Is there anything else you need?", True),
    ("Good news!", True),
    ("Here's how the plans compare:", True),
    ("Best regards,\nThe Acme Support Team", True),
    ("Kind regards,\nJohn Smith\nAcme Support", True),
    # ... but not with a claim beside them
    ("Let me check: the store opens at 9.", False),
    ("One moment, the store opens at 9.", False),
    ("Good news! Your refund is approved.", False),
    ("Here's how the Pro plan compares: it costs $49.", False),
    ("How can I help you get a refund of $50?", False),
    ("Best regards,\nThe store opens at 9", False),
    ("Best regards,\nAcme Support 2024", False),
])
def test_a_window_of_only_service_talk(text: str, expected: bool) -> None:
    assert is_service_talk(text) is expected


@pytest.mark.parametrize("text", [
    "According to the document, 1925.",
    "Certainly, 1925.",
    "According to the article, $5,000.",
    "Here's the answer: 1925.",
    "Here are the key points: Эйфелева башня сделана из золота.",
    "Here's a quick summary: 埃菲尔铁塔建于1925年，由黄金制成。",
    "I hope this helps! 1925",
    "Glad to help! Это золото.",
    "**Highlights 免费**",
])
def test_a_formula_beside_a_figure_or_a_word_in_another_script_is_no_talk(text: str) -> None:
    """A review: these were scaffolding or service talk, never checked, as the word lists read
    only a-z words: a figure or a word of another script beside a formula is a claim."""
    assert not is_service_talk(text)


@pytest.mark.parametrize(("text", "talk"), [
    ("Sources: [1], [2]", True), ("Sources: [1][2]", True), ("See [1].", True),
    ("(Source: [1])", True), ("Source: [1]", True), ("[1]", True), ("¹", True),
    ("[^1]: Returns policy, section 2.", True), ("[1] Returns policy\n[2] Shipping FAQ", True),
    ("¹ Returns policy", True), ("References:", True), ("【1†source】", True),
    ("[1] Refunds take 30 days.", False), ("Refunds take 14 days.[1]", False),
    ("See the policy.", False), ("[1] Returns policy\nRefunds take 30 days.", False),
    ("[1] Refunds are free", False), ("¹ Shipping costs nothing", False),
])
def test_a_line_that_only_names_sources_is_talk(text: str, talk: bool) -> None:
    """A review: a faithful RAG answer halted on its sources line, and a marker alone after a
    space was scored (supported), which cleared the run of the false sentence before it."""
    assert is_service_talk(text) is talk


def test_scaffolding_does_not_change_the_conversation_checks() -> None:
    """The scaffolding formulas are only for windows of nothing else: "Of course, do you like
    jazz?" still asks the listener, "Here are my details: I grew up in Ohio." still speaks of
    the speaker (they briefly did not)."""
    assert asks_listener("Of course, do you like jazz?")
    assert asks_listener("Absolutely, have you tried it yourself?")
    assert speaks_of_self("Here are my details: I grew up in Ohio.")


@pytest.mark.parametrize(("text", "referral"), [
    ("You may want to contact sales.", True),
    ("I'd suggest contacting the front desk directly.", True),
    ("I'd check with HR on that.", True),
    ("Please call the hotel to confirm.", True),
    ("Call us before 5 pm for a refund.", False),  # a figure and a claim
    ("You should contact your doctor if symptoms persist.", False),
    ("Contact sales for a free upgrade.", False),
    # the user is not the one sent: a claim about someone else
    ("The bank will call you.", False),
    ("The front desk will contact you directly.", False),
    ("You need to speak to your pharmacist first.", False),
    ("Try contacting support.", True),
    ("You may wish to contact sales.", True),
    ("It's best to contact the hotel.", True),
    ("I'd suggest reaching out to HR.", True),
    # who would know: the user is sent there, nothing is said of them
    ("HR or the finance team would know.", True),
    ("The centre director should be able to tell you.", True),
    ("Guest services would be the best place to ask.", True),
    ("It'd be worth raising with the venue coordinator.", True),
    # what they will do or hold is a claim
    ("The team will know more next week.", False),
    ("Staff will help you load the car.", False),
    ("The front desk can confirm your booking by 6 pm.", False),
    ("Reception will have those.", False),
    ("We can confirm.", False),
    ("It is worth asking, you can get it free.", False),
    ("So we can tell you.", False),
    ("HR or we will know.", False),
    ("Check-in will probably start before the visit.", False),
])
def test_a_referral_alone_is_service_talk(text: str, referral: bool) -> None:
    assert is_referral(text) is referral
    assert is_service_talk(text) is referral


RINK = ("The rink is open 10am to 8pm. Skate hire costs £5, and groups of 10 or more get 10% "
        "off. Birthday parties include skate hire and a reserved table.")


@pytest.mark.parametrize(("window", "talk"), [
    # small talk on the listener's life, in words of its own (a blind chat probe halted 56 of
    # its 80 faithful answers, most on such a line)
    ("Have a wonderful time in Malaga, all three of you!", True),
    ("Congratulations to your sister!", True),
    ("Happy 8th birthday to your son!", True),  # "birthday" is the evidence's word too
    ("Enjoy the weekend!", True),
    ("Enjoy a well-earned retirement!", True),  # an occasion, a big or well-earned one
    ("Safe travels, and enjoy the celebrations!", True),
    ("What a lovely way to celebrate, how exciting!", True),
    # ... and what it does not cover: a claim in a friendly line on what the business offers,
    # allows or charges, a wish that presupposes it, a figure, a word of the evidence's
    ("Happy birthday, and enjoy the free dessert we give birthday guests!", False),
    ("Enjoy a hot chocolate by the rink-side fire afterwards!", False),
    ("Enjoy the clubhouse bar after your match!", False),
    ("Enjoy the family suite!", False),
    ("Enjoy browsing the cactus greenhouse when you visit!", False),
    ("Enjoy your visit, and be sure to catch the cannon firing at noon!", False),
    ("Congratulations, your group gets 20% off!", False),
    ("Happy birthday, skate hire is on us!", False),
    ("Have a wonderful time at the rink!", False),
    ("Flowers are welcome on the ward.", False),
    ("The rink is lovely at night.", False),  # no mark of goodwill
    # ... and a review's: a claim after a friendly opener, in words of its own; an hour in
    # words
    ("Happy birthday — the rooftop pool is heated all year round!", False),
    ("Happy birthday, and the chef will bake you a cake to celebrate!", False),
    ("How cool, Tom Hardy played the lead role!", False),
    ("Happy birthday to your son — kids under twelve go in for nothing!", False),
    ("How fun — late openings on Thursdays last until nine!", False),
    # ... and the second review's: a promise after a friendly opener, what staff will do, a
    # short opener joined to a claim, "congratulate"
    ("Happy anniversary, and you'll find rose petals scattered across the bed!", False),
    ("Congratulations, and you'll be seated together with extra legroom!", False),
    ("Happy 7th birthday to your daughter — she'll receive a unicorn badge!", False),
    ("Congrats! The trainers will put together a plan for you.", False),
    ("How sweet! The unicorn cake serves twenty kids comfortably.", False),
    ("What a milestone! The chef will come out to congratulate her.", False),
    ("Good luck, you'll smash it!", True),
    ("Oh no, poor Biscuit!", True),
    ("Have a wonderful time in Malaga, all three of you!", True),
    ("Happy birthday to your daughter — I hope she has a wonderful day!", True),
])
def test_small_talk_on_the_listeners_life(window: str, talk: bool) -> None:
    from stream_guard.text.stance import chats_about_listener
    from stream_guard.text.terms import term_keys, terms

    keys = {t.key for t in terms(window)}
    assert chats_about_listener(window, keys, term_keys(RINK)) is talk


CAKES = ("Custom cakes must be ordered at least 72 hours in advance. A 6-inch cake serves 8-10 "
         "people and costs £32. Collection is from our Mill Street shop on Saturday mornings.")
ASKED = "My daughter turns 7 on Saturday and 18 kids are coming. Which cake should I order?"


@pytest.mark.parametrize(("window", "shape"), [
    # the shape of small talk: the user's own figures and words may come back
    ("Happy early 7th birthday — 18 little guests sounds like a lively Saturday!", True),
    ("I'm so sorry Biscuit isn't well — that must be really worrying.", True),
    ("Welcome home, Biscuit!", True),
    ("Congratulations on buying your first house!", True),
    # idioms of goodwill in a claim's words
    ("I'm so sorry for your loss; please accept our condolences.", True),
    ("Wishing you both every happiness, and look after each other!", True),
    ("That's a lot to deal with — get well soon!", True),
    # ... not a figure the user never wrote, a question, a claim's words or phrases, or a word
    # of the evidence's the user did not use
    ("Happy birthday — 20 guests sounds like a lively party!", False),
    ("Are you excited for the big day?", False),
    ("Happy birthday, and enjoy the free sparkler we add!", False),
    ("Flowers are welcome on the ward.", False),
    ("You're welcome to bring a guest.", False),
    ("Drinks are on the house for birthdays!", False),
    ("Every birthday guest gets a sparkler!", False),
    ("Enjoy every moment of our rooftop terrace!", False),
    ("What a treat — Mill Street is lovely in the morning!", False),
    # ... nor a fact of the listener's world the speaker cannot know: a prediction of what
    # someone else will do or be, an outcome reported done, a superlative fact (a review: 15
    # of 50 such claims passed as small talk)
    ("Your mum will be out of intensive care by Monday.", False),
    ("Biscuit's going to be fully house-trained within a fortnight!", False),
    ("Don't worry — your mum's blood tests came back normal.", False),
    ("Congratulations — your visa application has been approved.", False),
    ("Your account's been upgraded to premium — enjoy!", False),
    ("Your new flat has the best view in the building.", False),
    # ... but how someone will feel, or what it will be like, is small talk
    ("Nine years old and penguin-mad — Maisie's going to love it!", True),
    ("She'll be over the moon, and it'll be worth the wait.", True),
    ("Happy birthday — the best way to spend it!", True),
    ("You've been married forty years — what a thing to celebrate!", True),
    # (a first version read these as facts: a prediction with no time bound, "the best ...
    # ever")
    ("Congratulations — I'm so glad it was the best day ever!", True),
    ("A cocker spaniel puppy is going to keep you busy!", True),
    ("I'm so sorry about Bella — losing her will be very hard.", True),
    ("Seeing the sea for the first time — that's going to be a lovely weekend!", True),
])
def test_the_shape_of_small_talk(window: str, shape: bool) -> None:
    from stream_guard.text.stance import could_be_small_talk
    from stream_guard.text.terms import term_keys, terms

    keys = {t.key for t in terms(window)}
    assert could_be_small_talk(window, keys, term_keys(CAKES), term_keys(ASKED)) is shape


def test_clauses_of_small_talk() -> None:
    from stream_guard.text.stance import talk_clauses

    assert talk_clauses("Congratulations — newlyweds get a free bottle of prosecco!") == [
        "Congratulations", "newlyweds get a free bottle of prosecco"]
    assert talk_clauses("I'm so sorry about your mum, and please take your time.") == [
        "I'm so sorry about your mum", "please take your time"]


@pytest.mark.parametrize(("line", "fact"), [
    ("Your mum will be out of intensive care by Monday.", True),
    ("Your knee will be back to normal by Christmas.", True),
    ("Don't worry — your mum's blood tests came back normal.", True),
    ("Congratulations — your visa application has been approved.", True),
    ("Your account's been upgraded to premium — enjoy!", True),
    ("Your new flat has the best view in the building.", True),
    ("Yours was the strongest application they received this year.", True),
    # a review of the first version: hopes, feelings, sympathy, compliments, wishes
    ("I hope your mum will be feeling better by the weekend.", False),
    ("Fingers crossed she'll be home before Christmas!", False),
    ("The kids are going to have a blast at the party on Saturday!", False),
    ("Grandma is going to be so surprised on Sunday!", False),
    ("It's been fifteen years already — happy anniversary to you both!", False),
    ("I'm so sorry — your whole world has been turned upside down.", False),
    ("Have the best time in the Lake District!", False),
    ("Enjoy the rest of it in the sun!", False),
    ("It's the nicest gift they could ask for!", False),
    # a second review
    ("I hope so. Your mum will be out of intensive care by Monday.", True),
    ("Your mum will be out of intensive care by Monday, I hope!", False),
    ("It's the best birthday they have ever had!", False),
    ("She's the happiest girl in the whole world!", False),
    ("Your refund will have cleared by Monday.", True),
    ("Your test came back OK.", True),
])
def test_a_fact_of_the_listeners_world(line: str, fact: bool) -> None:
    from stream_guard.text.stance import states_a_fact
    from stream_guard.text.terms import APOSTROPHES

    assert states_a_fact(line.translate(APOSTROPHES)) is fact


def test_the_users_own_news_is_no_fact_of_ours() -> None:
    """An outcome the prompt reports, said back ("So glad your scan came back clear!")."""
    from stream_guard.text.stance import states_a_fact
    from stream_guard.text.terms import term_keys

    for line, prompt in (("I'm thrilled your visa has been approved!", "My visa's been approved!"),
                         ("So glad your scan came back clear!", "My scan came back clear!")):
        assert states_a_fact(line, term_keys(prompt)) is False
        assert states_a_fact(line) is True
