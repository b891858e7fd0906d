"""Word lists behind the built-in text perturbations.

Kept small and hand-checked: names exclude ones that are also common English words
("May", "Will", "Rose"), synonyms are sentiment-neutral, and contractions are only
contracted where the long form is unambiguous.
"""

from __future__ import annotations

KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard_neighbours() -> dict[str, str]:
    """Keys next to each letter on a QWERTY layout (rows staggered to the right)."""
    out: dict[str, str] = {}
    for r, row in enumerate(KEYBOARD_ROWS):
        for c, key in enumerate(row):
            spots = [(r, c - 1), (r, c + 1), (r - 1, c), (r - 1, c + 1)]
            spots += [(r + 1, c - 1), (r + 1, c)]
            out[key] = "".join(
                KEYBOARD_ROWS[i][j]
                for i, j in spots
                if 0 <= i < len(KEYBOARD_ROWS) and 0 <= j < len(KEYBOARD_ROWS[i])
            )
    return out


KEY_NEIGHBOURS = _keyboard_neighbours()

NEGATIONS = frozenset(
    [
        "not",
        "no",
        "never",
        "nor",
        "neither",
        "none",
        "nobody",
        "nothing",
        "nowhere",
        "cannot",
        "without",
        "hardly",
        "barely",
        "scarcely",
    ]
)

# First names across genders and cultures: English, Spanish and Portuguese, Arabic,
# South Asian, East and South-East Asian, African, European and Hebrew.
FIRST_NAMES = (
    "James",
    "Emily",
    "Michael",
    "Sarah",
    "David",
    "Jessica",
    "Robert",
    "Jennifer",
    "John",
    "Mary",
    "Jeff",
    "Lisa",
    "Steve",
    "Karen",
    "Carlos",
    "Maria",
    "Jose",
    "Sofia",
    "Diego",
    "Lucia",
    "Alejandro",
    "Camila",
    "Joao",
    "Ana",
    "Mohammed",
    "Fatima",
    "Ahmed",
    "Aisha",
    "Omar",
    "Layla",
    "Yusuf",
    "Amira",
    "Priya",
    "Rahul",
    "Anjali",
    "Arjun",
    "Deepa",
    "Sanjay",
    "Lakshmi",
    "Vikram",
    "Wei",
    "Mei",
    "Hiroshi",
    "Yuki",
    "Haruto",
    "Sakura",
    "Minh",
    "Linh",
    "Jisoo",
    "Minjun",
    "Kwame",
    "Amara",
    "Chinedu",
    "Ngozi",
    "Tunde",
    "Zainab",
    "Sipho",
    "Thandiwe",
    "Ivan",
    "Olga",
    "Dmitri",
    "Katarina",
    "Luca",
    "Giulia",
    "Lars",
    "Ingrid",
    "Pierre",
    "Chloe",
    "Noam",
    "Tamar",
)

# Groups of interchangeable, sentiment-neutral words. Words whose other senses would
# break the swap ("fast food", "whole wheat", "street tacos") are left out.
SYNONYM_GROUPS = tuple(
    tuple(group.split("/"))
    for group in [
        "big/large",
        "buy/purchase",
        "bought/purchased",
        "car/automobile",
        "quickly/rapidly",
        "maybe/perhaps",
        "almost/nearly",
        "often/frequently",
        "usually/typically",
        "people/folks",
        "kids/children",
        "restaurant/eatery",
        "waiter/server",
        "city/town",
        "totally/completely",
        "mostly/largely",
        "movie/film",
        "sofa/couch",
        "bathroom/restroom",
        "photos/pictures",
        "amount/quantity",
        "instantly/immediately",
        "certainly/definitely",
    ]
)
SYNONYMS = {
    word: tuple(other for other in group if other != word)
    for group in SYNONYM_GROUPS
    for word in group
}

# Contraction -> long form. Ambiguous ones ("he's", "I'd", "ain't") are left out.
CONTRACTIONS = {
    "don't": "do not",
    "doesn't": "does not",
    "didn't": "did not",
    "isn't": "is not",
    "aren't": "are not",
    "wasn't": "was not",
    "weren't": "were not",
    "haven't": "have not",
    "hasn't": "has not",
    "hadn't": "had not",
    "won't": "will not",
    "wouldn't": "would not",
    "couldn't": "could not",
    "shouldn't": "should not",
    "mustn't": "must not",
    "can't": "cannot",
    "i'm": "i am",
    "you're": "you are",
    "we're": "we are",
    "they're": "they are",
    "it's": "it is",
    "that's": "that is",
    "there's": "there is",
    "what's": "what is",
    "i'll": "i will",
    "you'll": "you will",
    "we'll": "we will",
    "they'll": "they will",
    "it'll": "it will",
    "i've": "i have",
    "you've": "you have",
    "we've": "we have",
    "they've": "they have",
    "let's": "let us",
}
# Long forms that must not be contracted: "I have a car" -> "I've a car" is odd in
# most varieties of English and "let us know" does not mean "let's know".
EXPAND_ONLY = frozenset({"i've", "you've", "we've", "they've", "let's"})

# Gendered words and their counterparts, for counterfactual swaps. "her" is missing on
# purpose: it maps to "his" or "him" depending on what follows (see edits.swap_gender).
GENDER_WORD_PAIRS = tuple(
    tuple(pair.split("/"))
    for pair in [
        "he/she",
        "himself/herself",
        "man/woman",
        "men/women",
        "boy/girl",
        "boys/girls",
        "father/mother",
        "fathers/mothers",
        "dad/mom",
        "son/daughter",
        "sons/daughters",
        "brother/sister",
        "brothers/sisters",
        "husband/wife",
        "husbands/wives",
        "boyfriend/girlfriend",
        "uncle/aunt",
        "nephew/niece",
        "king/queen",
        "gentleman/lady",
        "gentlemen/ladies",
        "mr/mrs",
        "male/female",
        "males/females",
        "grandfather/grandmother",
        "grandson/granddaughter",
        "grandpa/grandma",
        "actor/actress",
        "actors/actresses",
        "waiter/waitress",
        "waiters/waitresses",
        "sir/madam",
    ]
)
# One-way swaps whose reverse is already covered by a pair above.
GENDER_WORD_ONE_WAY = {"him": "her", "his": "her", "hers": "his", "mum": "dad"}

# Male/female pairs of first names from FIRST_NAMES (names used for both genders,
# such as "Wei", "Mei", "Minh" and "Linh", are left out).
GENDERED_NAME_PAIRS = (
    ("James", "Emily"),
    ("Michael", "Sarah"),
    ("David", "Jessica"),
    ("Robert", "Jennifer"),
    ("John", "Mary"),
    ("Jeff", "Lisa"),
    ("Steve", "Karen"),
    ("Carlos", "Maria"),
    ("Jose", "Sofia"),
    ("Diego", "Lucia"),
    ("Alejandro", "Camila"),
    ("Joao", "Ana"),
    ("Mohammed", "Fatima"),
    ("Ahmed", "Aisha"),
    ("Omar", "Layla"),
    ("Yusuf", "Amira"),
    ("Rahul", "Priya"),
    ("Arjun", "Anjali"),
    ("Sanjay", "Deepa"),
    ("Vikram", "Lakshmi"),
    ("Hiroshi", "Yuki"),
    ("Haruto", "Sakura"),
    ("Minjun", "Jisoo"),
    ("Kwame", "Amara"),
    ("Chinedu", "Ngozi"),
    ("Tunde", "Zainab"),
    ("Sipho", "Thandiwe"),
    ("Ivan", "Olga"),
    ("Dmitri", "Katarina"),
    ("Luca", "Giulia"),
    ("Lars", "Ingrid"),
    ("Pierre", "Chloe"),
    ("Noam", "Tamar"),
)

# After "her", these words mean it is an object ("told her about") and maps to "him";
# before anything else it is a possessive ("her car") and maps to "his".
HER_OBJECT_BEFORE = frozenset(
    [
        "a", "an", "the", "to", "and", "or", "but", "nor", "so", "yet", "in", "on", "at", "for",
        "with", "from", "about", "into", "over", "by", "of", "off", "up", "out", "down", "back",
        "again", "too", "very", "as", "if", "when", "because", "than", "then", "there", "here",
        "now", "today", "yesterday", "tomorrow", "i", "we", "you", "they", "he", "she", "it", "me",
        "us", "them", "is", "was", "be", "feel", "feels", "felt", "that", "this", "all", "once",
        "twice"
    ]
)
