"""Pure partner rules: no Django, no database.

Contract: every function here takes plain values and answers one question;
`now` (where needed) is passed in. Models, services and forms call these so a
rule is written once.
"""

# ISO 3166-1 alpha-2: the 249 officially assigned codes.
ISO_COUNTRY_CODES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
    BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
    DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET
    FI FJ FK FM FO FR
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
    HK HM HN HR HT HU
    ID IE IL IM IN IO IQ IR IS IT
    JE JM JO JP
    KE KG KH KI KM KN KP KR KW KY KZ
    LA LB LC LI LK LR LS LT LU LV LY
    MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
    NA NC NE NF NG NI NL NO NP NR NU NZ
    OM
    PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA
    RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
    TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
    UA UG UM US UY UZ
    VA VC VE VG VI VN VU
    WF WS
    YE YT
    ZA ZM ZW
    """.split()
)


def normalise_country_code(value: str | None) -> str:
    """Trimmed and upper-cased; "" stays "" (country not given)."""
    return (value or "").strip().upper()


def is_country_code(value: str) -> bool:
    """True for an assigned ISO 3166-1 alpha-2 code in upper case."""
    return value in ISO_COUNTRY_CODES


# Words the partner pages use as fixed path segments right under /partners/
# (/partners/apply/, /partners/directory/...), and a few kept for later ones:
# a partner with one of these slugs would be shadowed by (or shadow) that page.
# tests/partners/test_reserved_slugs.py derives the segments from the URLconf
# and fails when a new route's word is missing here.
RESERVED_SLUGS = frozenset(
    {
        "apply",
        "directory",
        "invitations",
        "staff",
        # kept for pages to come and for names that would mislead
        "admin",
        "api",
        "badge",
        "new",
        "partners",
        "search",
        "static",
        "media",
        "verified",
    }
)


def is_reserved_slug(value: str) -> bool:
    """True when `value` may never be a partner's slug (see RESERVED_SLUGS)."""
    return (value or "").strip().lower() in RESERVED_SLUGS
