"""StreamField blocks for lesson bodies.

Blocks only describe and render content. Self-check questions carry their
answers in the page on purpose: they give immediate feedback and never count
toward a certification (exam questions live in the exams app and never reach
the browser before scoring).

Video embeds render as a link card, not an iframe: the Content-Security-Policy
allows frames from our own origin only, and fetching oEmbed HTML while
rendering would cost a query (or a network call) per video.
"""

from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageChooserBlock

RICH_TEXT_FEATURES = ["h3", "h4", "bold", "italic", "link", "ol", "ul", "code", "blockquote"]

CODE_LANGUAGES = [
    ("text", "Plain text"),
    ("bash", "Shell"),
    ("json", "JSON"),
    ("http", "HTTP"),
    ("python", "Python"),
    ("javascript", "JavaScript"),
    ("typescript", "TypeScript"),
    ("java", "Java"),
    ("csharp", "C#"),
    ("php", "PHP"),
    ("ruby", "Ruby"),
    ("go", "Go"),
    ("sql", "SQL"),
    ("yaml", "YAML"),
    ("xml", "XML"),
]


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=120)
    level = blocks.ChoiceBlock(
        choices=[("h2", "Section heading"), ("h3", "Subheading")], default="h2"
    )

    class Meta:
        icon = "title"
        template = "courses/blocks/heading.html"


class FigureBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    alt_text = blocks.CharBlock(
        max_length=250,
        required=False,
        help_text="Describe the image for people who cannot see it. Leave empty if decorative.",
    )
    caption = blocks.CharBlock(max_length=250, required=False)

    class Meta:
        icon = "image"
        template = "courses/blocks/figure.html"


class VideoBlock(blocks.StructBlock):
    video = EmbedBlock(help_text="A YouTube or Vimeo URL.")
    title = blocks.CharBlock(max_length=120)
    caption = blocks.CharBlock(max_length=250, required=False)

    class Meta:
        icon = "media"
        template = "courses/blocks/video.html"


class CodeBlock(blocks.StructBlock):
    language = blocks.ChoiceBlock(choices=CODE_LANGUAGES, default="text")
    code = blocks.TextBlock()
    caption = blocks.CharBlock(max_length=200, required=False)

    class Meta:
        icon = "code"
        template = "courses/blocks/code.html"


class CalloutBlock(blocks.StructBlock):
    kind = blocks.ChoiceBlock(
        choices=[("tip", "Tip"), ("note", "Note"), ("warning", "Warning")], default="tip"
    )
    title = blocks.CharBlock(max_length=120, required=False)
    text = blocks.RichTextBlock(features=["bold", "italic", "link", "ol", "ul", "code"])

    class Meta:
        icon = "help"
        template = "courses/blocks/callout.html"


class DownloadBlock(blocks.StructBlock):
    document = DocumentChooserBlock()
    title = blocks.CharBlock(max_length=120, required=False, help_text="Defaults to the file's.")
    description = blocks.CharBlock(max_length=250, required=False)

    class Meta:
        icon = "doc-full"
        template = "courses/blocks/download.html"


class SelfCheckOptionBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=300)
    correct = blocks.BooleanBlock(required=False)
    feedback = blocks.CharBlock(
        max_length=400, required=False, help_text="Shown when the learner picks this option."
    )


class SelfCheckBlock(blocks.StructBlock):
    question = blocks.CharBlock(max_length=300)
    options = blocks.ListBlock(SelfCheckOptionBlock(), min_num=2, max_num=6)
    explanation = blocks.TextBlock(
        required=False, max_length=1000, help_text="Shown after the learner answers."
    )

    class Meta:
        icon = "radio-full"
        template = "courses/blocks/self_check.html"
        help_text = "A practice question with instant feedback. It never counts toward a grade."


def lesson_body_blocks():
    return [
        ("paragraph", blocks.RichTextBlock(features=RICH_TEXT_FEATURES, icon="pilcrow")),
        ("heading", HeadingBlock()),
        ("image", FigureBlock()),
        ("video", VideoBlock()),
        ("code", CodeBlock()),
        ("callout", CalloutBlock()),
        ("download", DownloadBlock()),
        ("self_check", SelfCheckBlock()),
    ]
