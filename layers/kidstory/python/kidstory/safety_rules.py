"""The offline moderator's rules, as data: for each category of unsuitable idea, the words that
name it and the phrases that show the intent behind it, and the benign phrases that must never
count (a "killer whale", a "blood test", a "bath bomb").

Every pattern is written against text as kidstory.offline_moderation reads it: lower case,
accents and apostrophes dropped ("don't" is "dont"), any other punctuation a single space,
leetspeak and spaced-out letters undone. `forms` adds the plural and verb forms of a word;
`near` lets a few words stand between two parts of a phrase. docs/moderation.md describes the
categories and how the corpus that measures them is kept."""

from __future__ import annotations

import re
from dataclasses import dataclass


def word_forms(word: str) -> frozenset[str]:
    """`word` and its plural and verb forms ("stab": stabs, stabbed, stabbing, stabber); of a
    phrase, the forms of its first and last word ("kill himself": "killed himself")."""
    words = word.split(" ")
    if len(words) > 1:
        middle = " ".join(words[1:-1])
        inner = f" {middle} " if middle else " "
        return frozenset(
            first + inner + last for first in word_forms(words[0]) for last in word_forms(words[-1])
        )
    found = {word}
    consonant_y = word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou"
    doubled = (
        len(word) >= 3
        and word[-1] not in "aeiouwxy"
        and word[-2] in "aeiou"
        and word[-3] not in "aeiou"
    )
    if word.endswith(("s", "x", "z", "ch", "sh")):
        found.add(word + "es")
    elif consonant_y:
        found |= {word[:-1] + "ies", word[:-1] + "ied"}
    else:
        found.add(word + "s")
    if word.endswith("e"):
        found |= {word + "d", word[:-1] + "ing", word + "r", word + "rs"}
    elif not consonant_y:
        found |= {word + "ed", word + "ing", word + "er", word + "ers"}
    if doubled:
        found |= {word + word[-1] + ending for ending in ("ed", "ing", "er", "ers")}
    return frozenset(found)


def forms(word: str) -> str:
    """A pattern for `word_forms(word)`, written short: the part they share, then the rest."""
    words = word.split(" ")
    if len(words) > 1:
        middle = " ".join(re.escape(each) for each in words[1:-1])
        inner = f" {middle} " if middle else " "
        return f"{forms(words[0])}{inner}{forms(words[-1])}"
    found = sorted(word_forms(word), key=len, reverse=True)
    shared = found[-1]  # the shortest
    while not all(each.startswith(shared) for each in found):
        shared = shared[:-1]
    rest = "|".join(re.escape(each[len(shared) :]) for each in found if each != shared)
    return f"{re.escape(shared)}(?:{rest})?" if rest else re.escape(shared)


def any_of(*parts: str) -> str:
    return "(?:" + "|".join(parts) + ")"


def verbs(*words: str) -> str:
    """Any form of any of `words`."""
    return any_of(*(forms(word) for word in words))


def near(first: str, then: str, within: int = 3) -> str:
    """`first`, then at most `within` other words, then `then`."""
    return f"(?:{first})(?: \\w+){{0,{within}}} (?:{then})"


@dataclass(frozen=True)
class Intent:
    """A phrase that shows what an idea is after; with `requires`, only when that is found
    somewhere in the idea too; with `unless`, never when that is."""

    pattern: str
    requires: str | None = None
    unless: str | None = None


@dataclass(frozen=True)
class Category:
    name: str
    subject: str
    """What its words are, for a parent: 'It mentions {subject} ("gore")'."""
    described: str
    """What its phrases show, for a parent: 'It {described} ("hurt yourself")'."""
    intents: tuple[Intent, ...] = ()
    words: tuple[str, ...] = ()


# Who an idea can be about.
SELF = any_of(
    r"(?:my|your|him|her|them|it|one|our)sel(?:f|ves)",
    r"themself",
    r"(?:his|her|their|your|my|its) own (?:body|arms?|legs?|skin|head|life)",
)
_POSSESSIVE = r"(?:his|her|their|your|my|its|the|a|an|some|all the|all|two|three|little)"
_PERSON = any_of(
    r"(?:little |baby |big |new |older |younger )?(?:brother|sister|baby|babies|child|children|"
    r"kids?|boys?|girls?|man|men|woman|women|people|persons?|teachers?|classmates?|friends?|"
    r"neighbou?rs?|mom|mum|mommy|mummy|dad|daddy|mother|father|parents?|grandma|grandpa|"
    r"granny|family|families|villagers?|prisoners?|soldiers?|sailors?|guards?|babysitters?|"
    r"campers?|students?|farmers?|hunters?|puppy|puppies|kittens?|cats?|dogs?|pets?|"
    r"classmates?|wife|husband|king|queen|princess|prince|everyone|everybody|humans?)"
)
VICTIM = any_of(
    r"him|her|them|each other|one another|everyone|everybody|people|children|kids|babies",
    f"{_POSSESSIVE} {_PERSON}",
    r"puppies|kittens",
)
_ADULT = any_of(
    r"grown ?ups?",
    r"adults?",
    r"strangers?",
    r"(?:nice |old |kind |strange |older )?(?:man|men|woman|women|lady|guy)",
    r"coach(?:es)?",
    r"teachers?",
    r"neighbou?rs?",
    r"babysitters?",
    r"uncles?",
    r"aunts?",
    r"priests?",
    r"tutors?",
    r"older (?:boy|girl|kid|friend|teen)s?",
    r"(?:an |a |new |adult |secret )?online friends?",
    r"friends? (?:from|on) the internet",
    r"someone (?:online|from the internet)",
)
_PARENTS = any_of(
    r"parents",
    r"(?:mum|mom|mommy|mummy|mama)(?: and (?:dad|daddy|papa))?",
    r"(?:dad|daddy|papa)(?: and (?:mum|mom|mommy|mummy))?",
    r"mother|father|family",
)
_NOT_TELL = r"(?:dont|do not|not to|not|never|must not|mustnt|shouldnt|should not|wont|cant) tell"
# Keeping something from a child's parents.
_SECRET_FROM_PARENTS = any_of(
    near(_NOT_TELL, r"(?:(?:your|his|her|their|the|a) )?" + _PARENTS, 1),
    near(r"secrets?", r"from (?:(?:your|his|her|their|the) )?" + _PARENTS, 2),
    near(
        _PARENTS,
        r"(?:wont|would not|wouldnt|dont|do not|doesnt|does not|need not|must not|mustnt|"
        r"shouldnt|should not|never) (?:need to |ever |have to )?(?:know|understand|find out|see)",
        2,
    ),
    r"without (?:telling|asking) (?:(?:your|his|her|their) )?" + _PARENTS,
    r"(?:so|that) (?:(?:your|his|her|their) )?" + _PARENTS + r" (?:wont|cant|doesnt|dont) "
    r"(?:see|know|find out)",
)
# Secrecy of any kind, which counts when a grown-up also seeks a child's company (_CONTACT).
_SECRECY = any_of(
    _SECRET_FROM_PARENTS,
    near(_NOT_TELL, r"(?:anyone|anybody|nobody|no one|a soul)", 1),
    r"(?:keep|keeps|keeping|kept) (?:it|this|that|them|these|those|everything)(?: (?:a|our|their))?"
    r" secrets?",
    r"(?:our|their|your|a) (?:little|special|own|big|secret) (?:secret|game|games|friendship)",
    r"(?:our|their|your|its) secret",
    r"secrets? (?:between|with)",
    r"just between|between you and me",
    r"delete (?:the |all the |your |his |her )?messages",
    r"in secret",
)
_CONTACT = any_of(
    r"alone",
    r"photos?|pictures?|pics|selfies?|videos?",
    r"room|bedroom|car|van|house|lap|bed",
    r"touch\w*|hug\w*|kiss\w*|cuddl\w*",
    r"gifts?|presents?|sweets|candy|money|toys",
    r"meet\w*|visit\w*",
    r"special friends?|online|internet|chat\w*|messages?",
    r"games?",
)
_SAFETY_LESSON = any_of(
    r"body safety",
    r"say no|says no|saying no",
    r"safe (?:and|or) unsafe",
    r"stranger danger",
    r"(?:teaches|teach|teaching|learns?|learning|knows?|know|helps?) (?:\w+ ){0,4}"
    r"(?:to tell|it is (?:ok|okay) to tell|its (?:ok|okay) to tell|not to keep|never to keep)",
    r"(?<!not )(?<!not to )(?<!dont )(?<!never )(?<!mustnt )(?<!shouldnt )(?<!wont )(?<!cant )"
    r"tells? (?:a |their |his |her |your )?(?:trusted|parents?|mum|mom|dad|teacher)",
    r"belongs? to (?:them|you|him|her)",
)
# Groups of people a hateful idea turns on.
_FAITH_OR_ORIGIN = any_of(
    r"(?:black|white|brown|asian|jewish|muslim|christian|hindu|sikh|buddhist|arab|african|"
    r"latino|latina|mexican|chinese|indian|gypsy|roma|gay|lesbian|trans|transgender|disabled|"
    r"deaf|blind|foreign|immigrant|refugee|native|indigenous|poor|fat)"
    r" (?:people|persons|kids|children|families|folks|men|women|boys|girls|students|neighbou?rs)",
    r"(?:jews|muslims|christians|hindus|sikhs|buddhists|asians|africans|arabs|mexicans|"
    r"latinos|chinese|indians|gypsies|immigrants|refugees|foreigners|migrants|gays|lesbians|"
    r"blacks|whites|catholics|protestants|atheists|natives)",
    r"(?:people|kids|children|families|folks) (?:of|from|with)(?: \w+){0,3} (?:race|races|"
    r"religions?|colou?r|skin|skin colou?r|country|countries|faith|culture|tribe)",
    r"(?:people|folks|families) from \w+",
    r"(?:people|kids|children|families|folks) with (?:dark|brown|black|white|yellow|pale) skin",
    r"(?:dark|brown|black|white|yellow) skinned(?: \w+)?",
    r"(?:one|a certain|another|that|this|the other|a different|their|his|her) "
    r"(?:race|religion|skin colou?r|colou?r of skin|ethnic group|ethnicity|nationality)",
    r"races|religions|ethnic groups",
)
_ANY_GROUP = any_of(
    _FAITH_OR_ORIGIN,
    r"girls|boys|women|men|females|males|wom[ae]n and girls",
)
_HATEFUL = any_of(
    r"inferior",
    r"subhuman",
    r"sub human",
    r"vermin",
    r"worthless",
    r"less than",
    r"lesser",
    r"not (?:really )?(?:human|people)",
    r"(?:should|must|deserve to|ought to|need to) be (?:hated|killed|banished|removed|"
    r"kicked out|thrown out|enslaved|wiped out|got rid of|gotten rid of)",
    r"(?:should|must) (?:not|never) be allowed",
    r"(?:do not|dont|should not|shouldnt) deserve",
    r"deserve (?:it|to suffer|to die|nothing)",
    r"slaves",
)
_DEMEANING = any_of(
    _HATEFUL,
    r"dirty",
    r"filthy",
    r"evil",
    r"disgusting",
    r"stupid",
    r"dumb",
    r"criminals",
    r"terrorists",
    r"thieves",
    r"animals",
    r"savages",
    r"monsters",
    r"dangerous",
    r"bad",
    r"worse",
    r"lazy",
    r"ugly",
    r"gross",
    r"not welcome",
    r"cannot be trusted",
    r"cant be trusted",
    r"dont belong",
    r"do not belong",
    r"(?:should|must) (?:go|be sent) back",
)
_WEAPON = any_of(
    r"(?:pipe )?bombs?",
    r"explosives?",
    r"grenades?",
    r"guns?",
    r"pistols?",
    r"rifles?",
    r"firearms?",
    r"ammo",
    r"ammunition",
    r"bullets",
    r"gunpowder",
    r"molotov(?: cocktails?)?",
    r"napalm",
    r"poisons?",
    r"(?:nerve|mustard|chlorine|toxic|poison) gas",
    r"silencers?",
    r"detonators?",
    r"tnt",
    r"dynamite",
    r"thermite",
    r"land ?mines?",
    r"(?:a )?weapon of mass destruction",
)
_MAKE = any_of(
    verbs("make", "build", "craft", "assemble", "cook", "mix", "brew", "create", "print"),
    r"3d (?:print|prints|printed|printing)",
    r"(?:get|buy|find|load|fire|shoot|use|hide|sneak)",
)
_INSTRUCTIONS = any_of(
    near(r"how (?:to|do you|can i|can you|would you|you|do i|does one)", _MAKE, 2),
    near(
        verbs("teach", "show", "explain", "learn", "tell"),
        r"(?:how to|to|how they|how you|how he|how she) " + _MAKE,
        4,
    ),
    r"(?:step by step|instructions?|recipes?|directions|guide|tutorial|blueprints?|"
    r"exact (?:steps|recipe|amounts))",
    r"where (?:to|you can|i can|can i|can you|they can|he can|she can) (?:buy|get|find)",
    r"(?:make|makes|making|made|build|builds|building|built)",
    r"3d (?:print|prints|printed|printing)",
    r"homemade|home made",
)
_DRUG = any_of(
    r"drugs",
    r"meth",
    r"crack cocaine",
    r"cocaine",
    r"heroin",
    r"lsd",
    r"ecstasy",
    r"marijuana",
    r"cannabis",
    r"opium",
    r"moonshine",
)
_FEELING_LOW = any_of(
    r"sad(?:ness)?",
    r"upset",
    r"angry",
    r"lonely",
    r"unhappy",
    r"depressed",
    r"bad feelings?",
    r"feel(?:s|ing)? (?:bad|better|nothing|something)",
    r"on purpose",
    r"because",
    r"punish\w*",
    r"whenever",
    r"every time",
    r"encourag\w*",
    r"should",
    r"teach\w*",
    r"wants? to",
    r"no one (?:loves|likes|cares)",
    r"nobody (?:loves|likes|cares)",
    r"hates? (?:him|her|them|my|your)sel(?:f|ves)",
    r"bleed|bleeds|bleeding",
    r"make (?:it|the pain|the feelings?) (?:go away|stop)",
)

CATEGORIES: tuple[Category, ...] = (
    Category(
        name="self_harm",
        subject="self-harm",
        described="is about someone hurting themselves on purpose",
        intents=(
            Intent(
                near(
                    verbs("kill", "harm", "starve", "drown", "hang", "poison", "stab", "unalive")
                    + "|punish|punishes|punished|punishing",
                    SELF,
                    2,
                )
            ),
            Intent(
                near(
                    verbs("hurt", "cut", "hit", "burn", "scratch", "bang", "injure", "bite")
                    + "|beat|beats|beating|slap|slaps|slapping",
                    SELF,
                    3,
                ),
                requires=_FEELING_LOW,
            ),
            Intent(
                near(
                    verbs("cut", "scratch", "burn", "hit", "bang", "bite", "carve"),
                    r"(?:(?:his|her|their|your|my|its) )?(?:arms?|wrists?|legs?|skin|thighs?|head)",
                    2,
                ),
                requires=_FEELING_LOW,
            ),
            Intent(
                near(
                    r"(?:wants?|wanted|wanting|decides?|decided|deciding|tries|tried|trying|try|"
                    r"plans?|planned|planning|thinks? about|thinking about|how)",
                    r"to (?:die|be dead|end (?:it all|it|(?:his|her|their|my|your|its) (?:own )?"
                    r"life)|not be alive|disappear forever|stop living|never wake up|"
                    r"go to sleep forever|sleep forever)",
                    1,
                )
            ),
            Intent(
                r"(?:end|ends|ended|ending|take|takes|took|taking) (?:it all|(?:his|her|their|my|"
                r"your|its) (?:own )?life)"
            ),
            Intent(
                r"(?:doesnt|dont|didnt|does not|do not|did not|no longer|not|never) (?:want|wants|"
                r"wanted|wish|wishes) to (?:live|be alive|exist|wake up|be here)"
            ),
            Intent(
                r"better off dead|nobody would miss|no one would miss|wish(?:es)? (?:he|she|i|"
                r"they) (?:was|were|had never been) (?:dead|born)"
            ),
            Intent(
                near(
                    r"(?:bottle|box|handful|packet|pack|all|lots) of (?:\w+ )?(?:pills|tablets|"
                    r"medicine|sleeping pills)",
                    r"(?:sleep|forever|die|dead|never wake|swallow|swallows|swallowed|take|takes|"
                    r"took|eat|eats|ate)",
                    6,
                )
            ),
            Intent(near(r"(?:pills|tablets|medicine)", r"(?:sleep forever|never wake up|die)", 6)),
            Intent(
                near(
                    r"(?:stop|stops|stopped|stopping|skip|skips|skipping|skipped|refuses?)",
                    r"(?:eating|meals|food)",
                    1,
                ),
                requires=r"thin|skinny|fat|weight|pretty|beautiful|disappear|punish",
            ),
            Intent(
                r"(?:throw|throws|throwing|threw) up after (?:eating|meals|dinner|lunch|food)|"
                r"make (?:him|her|your|my|them)sel(?:f|ves) (?:throw up|sick|vomit)|"
                r"anorexi\w*|bulimi\w*|pro ana"
            ),
            Intent(
                near(
                    verbs("jump", "throw") + r" (?:\w+ )?(?:off|from)",
                    r"(?:bridge|roof|building|tower|cliff|balcony|window)",
                    2,
                ),
                requires=r"\b(?:die|dies|dead|death|end it|never come back|gone forever|"
                r"nobody|no one|lonely)\b",
            ),
            Intent(r"suicide (?:note|letter)s?|kys"),
        ),
        words=(
            "suicide",
            "suicidal",
            "self harm",
            "selfharm",
            "self harming",
            "kill himself",
            "kill herself",
            "kill myself",
            "kill yourself",
            "kill themselves",
            "overdose",
            "cutting herself",
            "cutting himself",
            "unalive",
        ),
    ),
    Category(
        name="grooming",
        subject="a grown-up keeping secrets with a child",
        described=(
            "describes a grown-up asking a child to keep secrets from their parents, a warning "
            "sign of abuse"
        ),
        intents=(
            Intent(near(_ADULT, _SECRET_FROM_PARENTS, 14), unless=r"surprise|" + _SAFETY_LESSON),
            Intent(near(_SECRET_FROM_PARENTS, _ADULT, 10), unless=r"surprise|" + _SAFETY_LESSON),
            Intent(
                near(_ADULT, _SECRECY, 14),
                requires=_CONTACT,
                unless=r"surprise|" + _SAFETY_LESSON,
            ),
            Intent(
                near(_SECRECY, _ADULT, 10),
                requires=_CONTACT,
                unless=r"surprise|" + _SAFETY_LESSON,
            ),
            Intent(
                near(
                    verbs("send", "share", "ask", "take") + r"|asks? for",
                    r"(?:photos?|pictures?|pics|selfies?|videos?) of (?:yourself|himself|herself|"
                    r"themselves|you|her|him|them)",
                    4,
                ),
                requires=any_of(_ADULT, r"online|internet|chat|secret|delete"),
                unless=_SAFETY_LESSON,
            ),
            Intent(
                near(
                    verbs("meet", "visit", "come") + r"|go with|goes with|went with|get in",
                    r"(?:\w+ )?(?:alone|in secret|in (?:his|her) (?:car|van|house|room))",
                    4,
                ),
                requires=_ADULT,
                unless=_SAFETY_LESSON,
            ),
            Intent(
                near(r"(?:sit|sits|sitting) on", r"(?:his|her) lap", 0),
                requires=r"secret|dont tell|not tell|alone",
            ),
        ),
    ),
    Category(
        name="sexual",
        subject="sexual content",
        described="asks for sexual or adult content",
        intents=(
            Intent(
                near(
                    r"(?:sexually )?explicit",
                    r"(?:content|scenes?|story|stories|details?|pictures?|images?|photos?|"
                    r"material|romance|parts?|version|bits|stuff|description)",
                    2,
                )
            ),
            Intent(
                r"(?:adult|adults|grown up|grownup|mature) (?:only|content|material|themes?|"
                r"scenes?|stories|story|videos?|films?|movies?|romance|entertainment|version)|"
                r"only for (?:adults|grown ups)"
            ),
            Intent(r"(?:18|21) plus|(?:r|x|nc) rated|rated (?:r|x|18)|over 18s?"),
            Intent(
                r"(?:spicy|steamy|smutty|raunchy|dirty) (?:romance|scenes?|love scenes?|story|"
                r"stories|stuff|details|bits|parts|version|pictures?)"
            ),
            Intent(
                near(
                    verbs("touch", "show", "see", "rub", "kiss", "lick", "feel")
                    + r"|look at|looks at|play with|plays with|pictures? of|photos? of",
                    r"(?:\w+ )?(?:private parts|privates|private areas?|private places?|genitals)",
                    4,
                ),
                unless=_SAFETY_LESSON,
            ),
            Intent(
                near(
                    verbs("take", "pull", "strip") + r" (?:off|down)",
                    r"(?:\w+ )?(?:clothes|pants|underwear|knickers|dress|shirt|top)",
                    3,
                ),
                requires=r"for (?:the )?(?:boys|girls|men|man|camera|money|him|her|them)|"
                r"in front of|photos?|pictures?|videos?|watch|sexy|dance",
                unless=r"\b(?:bath|shower|swim|swimming|pyjamas|pajamas|bed ?time|doctor)\b",
            ),
            Intent(
                r"(?:have|has|had|having) (?:sex|intercourse)|make love|making love|"
                r"(?:sleep|sleeps|slept|sleeping) together|one night stand|friends with benefits"
            ),
        ),
        words=(
            "sex",
            "sexual",
            "sexually",
            "sexy",
            "seggs",
            "nude",
            "nudity",
            "naked",
            "porn",
            "porno",
            "pornography",
            "pornographic",
            "erotic",
            "erotica",
            "rape",
            "rapist",
            "orgasm",
            "genitals",
            "genital",
            "stripper",
            "striptease",
            "nsfw",
            "lewd",
            "horny",
            "intercourse",
            "molest",
            "molester",
            "paedophile",
            "pedophile",
            "incest",
            "fetish",
            "kinky",
            "lingerie",
            "seduce",
            "seductive",
            "seduction",
            "masturbate",
            "penis",
            "vagina",
            "boobs",
            "onlyfans",
            "hentai",
            "smut",
            "xxx",
            "topless",
        ),
    ),
    Category(
        name="hate",
        subject="hate or cruelty toward people",
        described="says a group of people is worse than others or should be hated",
        intents=(
            Intent(
                near(
                    _FAITH_OR_ORIGIN,
                    r"(?:are|is|were|be|being|as|seem|look) (?!not |never |no )(?:\w+ )?"
                    + _DEMEANING,
                    4,
                )
            ),
            Intent(
                near(_ANY_GROUP, r"(?:are|is|were|be|being) (?!not |never )(?:\w+ )?" + _HATEFUL, 3)
            ),
            Intent(near(_ANY_GROUP, r"(?:and|who|which|that|they) " + _HATEFUL, 6)),
            Intent(
                near(
                    r"(?:inferior|lesser|superior|master|pure|subhuman|dirty)",
                    r"(?:race|"
                    r"races|people|peoples|religion|blood)",
                    0,
                )
            ),
            Intent(
                near(
                    verbs("hate", "mock", "tease", "bully", "exclude", "attack", "hurt", "beat")
                    + r"|laugh at|laughs at|make fun of|makes fun of|made fun of|drive out|drives "
                    r"out|drove out|kick out|kicks out|kicked out|is mean to|are mean to",
                    r"because (?:of )?(?:their|his|her|they are|he is|she is|theyre|hes|shes) "
                    r"(?:\w+ )?(?:skin|race|religion|colou?r|faith|accent|eyes|jewish|muslim|"
                    r"black|brown|asian|gay|disabled|foreign|an immigrant|immigrants|refugees?|"
                    r"a refugee|chinese|mexican|african|arab)",
                    6,
                )
            ),
            Intent(near(verbs("hate", "mock", "ridicule", "despise"), _FAITH_OR_ORIGIN, 2)),
            Intent(
                near(
                    r"(?:mocked|teased|laughed at|hated|bullied|made fun of|excluded)",
                    r"for (?:their|his|her) (?:eyes|skin|race|religion|accent|colou?r|faith)",
                    2,
                )
            ),
            Intent(
                r"racist (?:story|stories|jokes?|tale|song|words|names|version)|"
                r"racial slurs?|slurs"
            ),
            Intent(
                near(
                    verbs(
                        "wipe out",
                        "exterminate",
                        "eliminate",
                        "drive out",
                        "kick out",
                        "get rid of",
                        "kill",
                    ),
                    _FAITH_OR_ORIGIN,
                    2,
                )
            ),
        ),
        words=(
            "nazi",
            "nazis",
            "hitler",
            "genocide",
            "ethnic cleansing",
            "white power",
            "kkk",
            "master race",
            "white supremacy",
            "white supremacist",
            "supremacist",
            "subhuman",
        ),
    ),
    Category(
        name="weapons",
        subject="weapons",
        described="asks how to make or get weapons or poison",
        intents=(
            Intent(near(_INSTRUCTIONS, _WEAPON, 5)),
            Intent(
                near(
                    r"how (?:to|do you|can i|can you)",
                    verbs("poison", "stab", "shoot", "strangle", "kill", "murder", "hurt", "choke"),
                    2,
                )
            ),
            Intent(
                near(
                    r"poison",
                    r"(?:in|into|to put in) (?:\w+ ){0,2}(?:drink|food|tea|wine|"
                    r"soup|juice|water|coffee)",
                    3,
                )
            ),
            Intent(near(verbs("poison"), VICTIM + r"(?:s)?", 0), unless=r"apple"),
            Intent(
                r"ghost guns?|(?:knife|knives|gun|guns) to (?:hurt|stab|kill|attack|scare|"
                r"threaten|shoot)"
            ),
        ),
    ),
    Category(
        name="drugs",
        subject="drugs or alcohol",
        described="is about taking or getting drugs or alcohol",
        intents=(
            Intent(
                near(
                    verbs("smoke", "grow", "sell", "buy", "bake", "roll", "try", "take", "deal")
                    + r"|smoked|on",
                    r"weed",
                    2,
                )
            ),
            Intent(r"weed (?:brownies|gummies|cookies|plants?|dealers?|pen|vapes?|joints?)"),
            Intent(
                r"(?:get|gets|getting|got|feel|feels|feeling) (?:high|drunk|wasted|stoned|"
                r"hammered|smashed|tipsy)",
                requires=r"party|pills|smok\w*|drugs|powder|sniff|drink|weed|vodka|wine|beer|"
                r"alcohol|booze|take|took|swallow",
            ),
            Intent(
                near(
                    verbs("snort", "sniff", "inject", "huff"),
                    r"(?:powder|glue|drugs|pills|lines?|heroin|cocaine|paint|gas|markers?|stuff)",
                    2,
                )
            ),
            Intent(
                near(
                    verbs("steal", "take", "swallow", "find", "eat", "sneak", "try")
                    + r"|took|stole|found|ate",
                    r"(?:\w+ ){0,2}(?:pills|tablets|medicine|meds|painkillers)",
                    2,
                ),
                requires=r"(?:to|for) (?:feel|get|fun|be happy|the fun)|high|happy|party|"
                r"(?:lots|all) of",
            ),
            Intent(
                near(
                    verbs("drink", "sneak", "steal", "share", "pour") + r"|drank|stole",
                    r"(?:alcohol|booze|liquor|wine|champagne|rum|gin|tequila|shots|"
                    r"cocktails)",
                    3,
                ),
                requires=r"kids?|children|child|boys?|girls?|teens?|year olds?|friends|"
                r"sneak|drunk|cool|party|school|baby|toddler|we\b|wasted",
            ),
            Intent(
                near(
                    _INSTRUCTIONS
                    + "|"
                    + verbs(
                        "sell",
                        "deal",
                        "take",
                        "try",
                        "do",
                        "use",
                        "smoke",
                        "buy",
                        "find",
                        "hide",
                        "grow",
                        "share",
                        "give",
                    ),
                    _DRUG,
                    3,
                ),
                unless=r"say no|says no|saying no|stay away|dangerous|not to|never",
            ),
            Intent(
                r"(?:drug|drugs) (?:dealer|dealers|deal|deals|party)|crack pipe|"
                r"(?:magic )?shrooms|get wasted|got wasted|getting wasted"
            ),
        ),
        words=(
            "cocaine",
            "heroin",
            "meth",
            "methamphetamine",
            "crack pipe",
            "marijuana",
            "cannabis",
            "lsd",
            "ecstasy",
            "mdma",
            "drunk",
            "vodka",
            "whiskey",
            "whisky",
            "tequila",
            "beer",
            "cigarette",
            "vape",
            "opioid",
            "fentanyl",
            "ketamine",
            "bong",
            "stoned",
            "hungover",
            "hangover",
            "narcotics",
        ),
    ),
    Category(
        name="horror",
        subject="gruesome horror",
        described="asks for gruesome horror",
        intents=(
            Intent(
                r"serial killers?|zombie apocalypse|(?:possessed|possession) by (?:a |the )?"
                r"(?:demon|devil|evil spirit)|demon(?:ic)? possession|human sacrifices?|"
                r"ritual (?:sacrifice|killing)s?|slender ?man|creepypasta"
            ),
            Intent(
                near(verbs("skin", "flay", "eat", "cook", "boil"), VICTIM + r"(?: \w+)? alive", 1)
            ),
            Intent(near(verbs("skin", "flay", "disembowel", "dismember", "mutilate"), VICTIM, 1)),
            Intent(
                near(
                    r"horror|slasher",
                    r"(?:gore|gory|bloody|blood|guts|screaming|dismember\w*"
                    r"|as scary as possible)",
                    5,
                )
            ),
            Intent(
                r"cannibals?|(?:cook|cooks|cooked|cooking) (?:the )?(?:children|kids|babies|"
                r"people|neighbou?rs)(?! (?:food|dinner|lunch|breakfast|cake|soup|a))"
            ),
        ),
        words=(
            "demonic",
            "satanic",
            "chainsaw",
            "dismember",
            "disembowel",
            "mutilate",
            "mutilation",
            "exorcism",
            "exorcist",
            "cannibal",
            "slasher",
            "flay",
        ),
    ),
    Category(
        name="violence",
        subject="violence",
        described="describes graphic violence",
        intents=(
            Intent(
                near(
                    r"(?:guts|intestines|brains|entrails|organs|insides)",
                    r"(?:spill|spills|spilled|spilling|come out|came out|coming out|everywhere|"
                    r"splatter|splatters|splattered|hanging out)",
                    3,
                )
            ),
            Intent(r"bones (?:crack|cracked|crunch|crunched|snap|snapped|break|broke)"),
            Intent(
                near(
                    verbs(
                        "rip", "tear", "cut", "chop", "hack", "slice", "bite", "blow", "pull", "saw"
                    )
                    + r"|tore|torn|bit|blew|blown",
                    r"(?:\w+ )?(?:head|heads|arms?|legs?|limbs?|throat|face|eyes?|fingers?|tongue|"
                    r"ears?|nose|skin) off",
                    3,
                )
            ),
            Intent(
                near(
                    verbs("rip", "tear", "chop", "cut", "hack", "slice", "bite", "blow", "pull")
                    + r"|tore|torn|bit|blew|blown",
                    r"off (?:\w+ )?(?:\w+ )?(?:head|heads|arms?|legs?|limbs?|fingers?|tongue|ears?|"
                    r"nose|face)",
                    3,
                )
            ),
            Intent(
                near(
                    verbs("cut", "slit", "slice", "rip", "tear", "split") + r"|tore|torn",
                    r"(?:\w+ )?(?:open|throat|throats|belly|stomach)",
                    3,
                ),
                requires=VICTIM + r"|sailor|pirate|soldier|knight|guard|prisoner|belly|throat",
                unless=r"present|presents|gift|box|letter|envelope|bag|cake|melon|watermelon|"
                r"pumpkin|orange|coconut|fruit|book|package|parcel",
            ),
            Intent(
                r"(?:ripped|torn|blown|hacked|cut|chopped|ripped|smashed) (?:apart|to pieces|to "
                r"bits|into pieces|into bits|to shreds|limb from limb)",
                unless=r"\b(?:paper|letter|map|note|newspaper|book|toy|picture|drawing)\b",
            ),
            Intent(
                near(
                    verbs(
                        "beat",
                        "kick",
                        "hit",
                        "stab",
                        "punch",
                        "choke",
                        "drown",
                        "burn",
                        "starve",
                        "hurt",
                        "torture",
                        "stomp",
                        "crush",
                        "strangle",
                        "whip",
                        "club",
                    )
                    + r"|beaten|burnt|struck",
                    r"(?:to death|until (?:\w+ ){0,2}(?:dies|die|died|dead|stops breathing|stopped "
                    r"breathing|bleeds|bled|bleeding|is dead|cannot breathe|cant breathe))",
                    5,
                )
            ),
            Intent(
                near(
                    verbs("burn", "bury", "skin", "boil", "cook", "eat") + r"|burnt|ate|eaten",
                    r"(?:\w+ )?alive",
                    4,
                ),
                requires=VICTIM + r"|sister|brother|baby|family|people|children|kids",
            ),
            Intent(r"(?:sets?|setting) " + VICTIM + r" on fire"),
            Intent(
                near(verbs("shoot", "stab", "drown", "strangle", "behead") + r"|shot", VICTIM, 1),
                unless=r"water|nerf|squirt|paint ?ball|snowballs?|targets?|toy|toys|bubbles?|"
                r"foam|marshmallows?|pillows?|cameras?|photos?|pictures?|hoops|goals?|baskets?|"
                r"darts|confetti|glitter",
            ),
            Intent(
                r"(?:school|mass) (?:shooting|shooter|shootings|shooters)|shooting spree|"
                r"gunman|gunmen|suicide bomb\w*|terrorist attacks?|car bombs?|"
                r"bomb (?:the|a) (?:school|city|church|mosque|synagogue|hospital|bus|train)"
            ),
            Intent(
                r"blood (?:sprays?|sprayed|spurts?|spurted|everywhere|gushes|gushing|splatter\w*|"
                r"pours|pouring|bath)|bloodbath|bloodshed|pool of blood|covered in blood|"
                r"drinks? (?:\w+ )?blood"
            ),
            Intent(
                r"(?:eyes?|teeth) (?:gouged|plucked|poked|ripped|knocked|pulled) out|"
                r"(?:snaps?|snapped|breaks?|broke) (?:his|her|their|its|the \w+s) neck|"
                r"(?:slits?|slit|cuts?) (?:his|her|their|the \w+s) throat"
            ),
            Intent(r"(?:knife|knives|gun|guns|axe|hammer) to (?:hurt|stab|kill|attack|threaten)"),
        ),
        words=(
            "kill",
            "murder",
            "blood",
            "bloody",
            "gore",
            "gory",
            "stab",
            "behead",
            "gun",
            "rifle",
            "shot dead",
            "bomb",
            "explosive",
            "torture",
            "massacre",
            "corpse",
            "dead body",
            "strangle",
            "decapitate",
            "slaughter",
            "assault",
            "gunned down",
            "bloodbath",
            "impale",
            "execution",
            "mutilated",
            "shooter",
        ),
    ),
)

# The order in which categories' words are looked for, after every category's phrases: the
# order of the word list this moderator grew out of, so a refusal names the category it did.
WORD_ORDER = ("violence", "sexual", "self_harm", "drugs", "hate", "horror", "weapons", "grooming")

# Phrases that are never a reason to refuse, taken out before anything else is looked for: the
# word in them means something else here.
BENIGN = (
    r"killer whales?",
    forms("kill") + r" (?:the )?time",
    r"(?:bored|scared|frightened|tickled|worried|laughing|laughed|tired) to death",
    r"blood (?:test|tests|orange|oranges|cells?|donor|donors|type|bank|pressure|moon)",
    r"(?:a little|a bit of|a drop of|a tiny bit of|some|drops of) blood",
    r"naked mole ?rats?",
    r"emperors new clothes",
    r"(?:bath|seed|photo|water|glitter|confetti|flavou?r|stink) bombs?",
    r"(?:water|squirt|glue|nerf|bubble|foam|paint ?ball|laser|spud|staple|bubble blowing) "
    r"(?:guns?|pistols?)",
    r"(?:root|ginger) beers?",
    r"off with (?:his|her|their) heads?",
    r"corpse flowers?",
    r"(?:has|had|have) drunk",
    r"pea ?shooters?",
    r"drug ?stores?",
    r"murder of crows",
    r"shots? of (?:courage|medicine|vaccine)",
    r"(?:flu|booster) shots?",
    r"(?:kill|kills|killed|killing) (?:the )?(?:germs|bugs|weeds|lights?|engine)",
    r"weed ?killers?",
    r"dragon ?slayers?",
)
