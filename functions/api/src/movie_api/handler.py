"""Lambda entry point of ApiFunction: the public API's FastAPI app behind Mangum, logging through Powertools."""

from aws_lambda_powertools import Logger

from movie_api.app import create_app
from movie_web.app import lambda_handler

logger = Logger(service="marquee-api")
app = create_app(logger)
handler = lambda_handler(app, logger)
