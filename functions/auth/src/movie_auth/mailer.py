"""The mail backend of this execution environment, built once from the settings (SES, SMTP or the outbox)."""

from __future__ import annotations

import functools

from movie_auth.settings import auth_settings
from movie_common.mail import MailSender, stdlib_sender


@functools.cache
def get_mail_sender() -> MailSender:
    settings = auth_settings().mail
    if settings.backend == "ses":
        from movie_auth.ses_mail import SesSender  # boto3 only when SES is the backend

        return SesSender(region=settings.ses_region, configuration_set=settings.ses_configuration_set)
    return stdlib_sender(settings)
