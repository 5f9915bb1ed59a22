"""Lambda entry point of AdminFunction: the admin API's FastAPI app behind Mangum, logging through Powertools."""

from aws_lambda_powertools import Logger

from movie_admin.app import create_app
from movie_web.app import lambda_handler

logger = Logger(service="marquee-admin")
app = create_app(logger)
handler = lambda_handler(app, logger)
