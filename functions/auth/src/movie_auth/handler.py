"""Lambda entry point of AuthFunction's portal app (routes under /auth/): FastAPI behind Mangum, Powertools
logging; and of the "Portal Mail Requested" events the app puts on the bus, which its PortalMailRequested rule
brings back here (movie_auth.mail_handler). The key authorizer of the same deployable is movie_auth.authorizer and
never imports this."""

from typing import Any

from aws_lambda_powertools import Logger

from movie_auth.app import create_app
from movie_auth.mail_handler import mail_handler
from movie_common.portal_mail import is_portal_mail_event
from movie_web.app import lambda_handler

logger = Logger(service="marquee-auth")
app = create_app(logger)
http_handler = lambda_handler(app, logger)
mail_events_handler = mail_handler(logger)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if is_portal_mail_event(event):
        return mail_events_handler(event, context)
    return http_handler(event, context)
