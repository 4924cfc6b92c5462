from django.apps import AppConfig


class LmsConfig(AppConfig):
    name = "lms"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.db.models.signals import post_save, pre_save

        from . import receivers
        from .models import User

        user_login_failed.connect(receivers.count_failed_login, dispatch_uid="lms.login_failed")
        user_logged_in.connect(receivers.clear_pair_on_login, dispatch_uid="lms.logged_in")
        pre_save.connect(receivers.note_credentials_change, sender=User, dispatch_uid="lms.pre")
        post_save.connect(
            receivers.revoke_on_credentials_change, sender=User, dispatch_uid="lms.post"
        )
