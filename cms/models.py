"""Site pages: the landing page and plain content pages.

Pages only describe and render content; anything the programme computes
(partner status, progress, credentials) comes from the other apps' selectors.
"""

from django.db import models
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page

# The columns of the benefits table: the base partner plus the verified tracks.
# Keys are stable (they are stored in page content); labels may change.
BENEFIT_STATUSES = [
    ("partner", "Partner"),
    ("verified_apps", "Verified apps"),
    ("verified_embedded_payments", "Verified embedded payments"),
    ("verified_services", "Verified services"),
    ("verified_technology", "Verified technology"),
]

BENEFIT_CATEGORIES = [
    ("build", "Build"),
    ("market", "Market"),
    ("sell", "Sell"),
    ("engage", "Engage"),
]

RICH_TEXT_FEATURES = ["bold", "italic", "link", "ol", "ul"]


class LinkStructValue(blocks.StructValue):
    """Resolves a block's link from either a chosen page or a typed URL."""

    def url(self) -> str:
        page = self.get("link_page")
        if page:
            return page.url
        return self.get("link_url") or ""


class HeadingBlock(blocks.StructBlock):
    eyebrow = blocks.CharBlock(required=False, max_length=60, help_text="Small text above")
    heading = blocks.CharBlock(max_length=120)
    anchor = blocks.CharBlock(
        required=False,
        max_length=40,
        help_text="Optional id so other links can jump here, e.g. 'tracks'.",
    )

    class Meta:
        icon = "title"
        template = "cms/blocks/heading.html"


class TrackCardBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=80)
    summary = blocks.TextBlock(max_length=600)
    link_page = blocks.PageChooserBlock(required=False)
    link_url = blocks.CharBlock(required=False, max_length=300, help_text="Or a URL/path")
    link_text = blocks.CharBlock(required=False, max_length=60)

    class Meta:
        icon = "doc-full"
        value_class = LinkStructValue


class TrackCardsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120)
    anchor = blocks.CharBlock(required=False, max_length=40)
    intro = blocks.TextBlock(required=False, max_length=600)
    cards = blocks.ListBlock(TrackCardBlock(), min_num=1, max_num=8)

    class Meta:
        icon = "grip"
        template = "cms/blocks/track_cards.html"


class StepBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=80)
    text = blocks.TextBlock(max_length=600)


class StepsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120)
    anchor = blocks.CharBlock(required=False, max_length=40)
    intro = blocks.TextBlock(required=False, max_length=600)
    steps = blocks.ListBlock(StepBlock(), min_num=1, max_num=8)
    note = blocks.RichTextBlock(required=False, features=RICH_TEXT_FEATURES)

    class Meta:
        icon = "list-ol"
        template = "cms/blocks/steps.html"


class ChecklistColumnBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=80)
    items = blocks.ListBlock(blocks.CharBlock(max_length=300), min_num=1)


class ChecklistBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120)
    anchor = blocks.CharBlock(required=False, max_length=40)
    intro = blocks.TextBlock(required=False, max_length=600)
    columns = blocks.ListBlock(ChecklistColumnBlock(), min_num=1, max_num=3)

    class Meta:
        icon = "tick-inverse"
        template = "cms/blocks/checklist.html"


class BenefitRowBlock(blocks.StructBlock):
    benefit = blocks.CharBlock(max_length=160)
    category = blocks.ChoiceBlock(choices=BENEFIT_CATEGORIES)
    statuses = blocks.MultipleChoiceBlock(
        choices=BENEFIT_STATUSES, help_text="Which partner statuses get this benefit."
    )
    select_only = blocks.BooleanBlock(
        required=False,
        help_text="Only for select verified partners (and apps partners at the growth milestone).",
    )


class BenefitsTableStructValue(blocks.StructValue):
    """Shapes the rows for the template: grouped by category, one cell per status."""

    def status_columns(self):
        return BENEFIT_STATUSES

    def groups(self):
        labels = dict(BENEFIT_CATEGORIES)
        grouped: dict[str, list[dict]] = {key: [] for key, _ in BENEFIT_CATEGORIES}
        for row in self.get("rows") or []:
            chosen = set(row.get("statuses") or [])
            grouped.setdefault(row.get("category"), []).append(
                {
                    "benefit": row.get("benefit"),
                    "select_only": row.get("select_only"),
                    "cells": [
                        {"status": label, "included": key in chosen}
                        for key, label in BENEFIT_STATUSES
                    ],
                }
            )
        return [
            {"key": key, "label": labels.get(key, key), "rows": rows}
            for key, rows in grouped.items()
            if rows
        ]

    def has_select_only(self) -> bool:
        return any(row.get("select_only") for row in self.get("rows") or [])


class BenefitsTableBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120)
    anchor = blocks.CharBlock(required=False, max_length=40)
    intro = blocks.TextBlock(required=False, max_length=600)
    caption = blocks.CharBlock(max_length=200)
    rows = blocks.ListBlock(BenefitRowBlock(), min_num=1)
    footnote = blocks.CharBlock(
        required=False,
        max_length=300,
        help_text="Explains the * mark on benefits for select partners.",
    )

    class Meta:
        icon = "table"
        template = "cms/blocks/benefits_table.html"
        value_class = BenefitsTableStructValue


class CallToActionBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120)
    text = blocks.TextBlock(required=False, max_length=400)
    signed_in_text = blocks.TextBlock(
        required=False, max_length=400, help_text="Shown instead to people already signed in."
    )

    class Meta:
        icon = "pick"
        template = "cms/blocks/call_to_action.html"


class ParagraphBlock(blocks.RichTextBlock):
    class Meta:
        icon = "pilcrow"
        template = "cms/blocks/paragraph.html"


def body_blocks():
    return [
        ("heading", HeadingBlock()),
        ("paragraph", ParagraphBlock(features=["h3", *RICH_TEXT_FEATURES])),
        ("track_cards", TrackCardsBlock()),
        ("steps", StepsBlock()),
        ("checklist", ChecklistBlock()),
        ("benefits_table", BenefitsTableBlock()),
        ("call_to_action", CallToActionBlock()),
    ]


class HomePage(Page):
    """The site's landing page: one per site, directly under the tree root."""

    hero_title = models.CharField(max_length=120)
    intro = RichTextField(features=RICH_TEXT_FEATURES, blank=True)
    body = StreamField(body_blocks(), blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("hero_title"),
        FieldPanel("intro"),
        FieldPanel("body"),
    ]

    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = "home page"


class StandardPage(Page):
    """A plain content page (about, FAQ, programme rules...)."""

    intro = models.TextField(blank=True, max_length=600)
    body = StreamField(body_blocks(), blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("body"),
    ]

    subpage_types = ["cms.StandardPage"]

    class Meta:
        verbose_name = "standard page"
