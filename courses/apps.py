from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = "Courses and events"

    def ready(self):
        from django.db.models.signals import post_delete, post_save
        from wagtail.documents import get_document_model
        from wagtail.images import get_image_model

        from . import learner_page_cache, page_context
        from .lesson_body_cache import media_changed

        # What the pages show besides their own fields (the models do not
        # import the selectors that read it).
        page_context.register_readers()

        # Rendered lesson bodies show image renditions and document links.
        image_model = get_image_model()
        for model in (image_model, image_model.get_rendition_model(), get_document_model()):
            uid = f"courses-media-{model._meta.label}"
            post_save.connect(media_changed, sender=model, dispatch_uid=f"{uid}-save")
            post_delete.connect(media_changed, sender=model, dispatch_uid=f"{uid}-delete")
        learner_page_cache.connect_signals()
