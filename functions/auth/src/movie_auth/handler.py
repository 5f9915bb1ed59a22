"""Lambda entry point of AuthFunction's portal app (routes under /auth/): FastAPI behind Mangum, Powertools
logging. The key authorizer of the same deployable is movie_auth.authorizer and never imports this."""

from aws_lambda_powertools import Logger

from movie_auth.app import create_app
from movie_web.app import lambda_handler

logger = Logger(service="marquee-auth")
app = create_app(logger)
handler = lambda_handler(app, logger)
