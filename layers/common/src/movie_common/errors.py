"""Domain errors of the common layer: each class maps to one stable problem `code`, HTTP status and title."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


class MarqueeError(Exception):
    """Base of every error a user can cause or see; HTTP functions render it as an RFC 9457 problem."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Request failed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ConfigurationError(RuntimeError):
    """A required setting is missing or unsafe; raised at cold start (or by a CLI command), never per request."""


class NotFoundError(MarqueeError):
    code = "not_found"
    status = 404
    title = "Not found"


@dataclass(frozen=True)
class InvalidParameter:
    """One bad input: where it was (`query`, `path`, `header`, `body`), its name, and why it was refused."""

    name: str
    location: str
    reason: str


class RequestValidationError(MarqueeError):
    code = "validation_error"
    status = 422
    title = "Invalid request parameters"

    def __init__(self, detail: str, errors: list[InvalidParameter]) -> None:
        super().__init__(detail)
        self.errors = errors


# ---------------------------------------------------------------- API keys


class MissingApiKeyError(MarqueeError):
    code = "missing_api_key"
    status = 401
    title = "Missing API key"


class MalformedApiKeyError(MarqueeError):
    code = "malformed_api_key"
    status = 403
    title = "Malformed API key"


class RepeatedApiKeyHeaderError(MarqueeError):
    """The key header came more than once with different values (which one is meant cannot be guessed), or repeated
    the same key more than access.MAX_REPEATS times."""

    code = "repeated_api_key_header"
    status = 403  # like every key refusal: the authorizer's Deny is a 403 at the gateway, so the app agrees
    title = "API key header repeated"


class ConflictingApiKeysError(MarqueeError):
    """`X-API-KEY` and `Authorization: Bearer` carry different keys."""

    code = "conflicting_api_keys"
    status = 403
    title = "Conflicting API keys"


class InvalidApiKeyError(MarqueeError):
    code = "invalid_api_key"
    status = 403
    title = "Invalid API key"


class KeySuspendedError(MarqueeError):
    code = "key_suspended"
    status = 403
    title = "API key suspended"


class KeyRevokedError(MarqueeError):
    code = "key_revoked"
    status = 403
    title = "API key revoked"


class KeyExpiredError(MarqueeError):
    code = "key_expired"
    status = 403
    title = "API key expired"


class LimitExceededError(MarqueeError):
    """A per-key limit refused the request; says which limit and when it resets (`Retry-After`, `reset_at`)."""

    status = 429

    def __init__(
        self, detail: str, *, limit: int, reset_at: datetime, retry_after: int, headers: dict[str, str]
    ) -> None:
        super().__init__(detail)
        self.limit = limit
        self.reset_at = reset_at
        self.retry_after = retry_after
        self.headers = headers  # the rate-limit headers a refused request still carries


class RateLimitedError(LimitExceededError):
    code = "rate_limited"
    title = "Rate limit exceeded"


class DailyQuotaExceededError(LimitExceededError):
    code = "daily_quota_exceeded"
    title = "Daily quota exceeded"


# ---------------------------------------------------------------- sessions (developer and admin logins)


class NotAuthenticatedError(MarqueeError):
    code = "not_authenticated"
    status = 401
    title = "Not signed in"


class InvalidSessionError(MarqueeError):
    """The bearer token is not one of ours: malformed, wrongly signed, or naming no session."""

    code = "invalid_session"
    status = 401
    title = "Invalid session"


class SessionExpiredError(MarqueeError):
    code = "session_expired"
    status = 401
    title = "Session expired"


class SessionRevokedError(MarqueeError):
    """Ended by logout, a password change or a suspension."""

    code = "session_revoked"
    status = 401
    title = "Session ended"


class ForbiddenRoleError(MarqueeError):
    """A valid session of the wrong kind, e.g. a developer's token on an admin route."""

    code = "forbidden"
    status = 403
    title = "Forbidden"


# ---------------------------------------------------------------- the database


class DatabaseUnavailableError(MarqueeError):
    code = "database_unavailable"
    status = 503
    title = "Database unavailable"


class QueryTimeoutError(MarqueeError):
    """A statement ran past DB_STATEMENT_TIMEOUT_MS and was cancelled: the database is up, the query was too dear."""

    code = "query_timeout"
    status = 504
    title = "Query timed out"


class LockTimeoutError(MarqueeError):
    """A statement waited for a lock longer than lock_timeout (SQLSTATE 55P03): other work holds the rows; the
    database is up and the same request may pass in a moment (503 with Retry-After)."""

    code = "lock_timeout"
    status = 503
    title = "Lock wait timed out"


class TransactionConflictError(MarqueeError):
    """A deadlock or serialization failure (SQLSTATE class 40): the transaction was rolled back because of a
    concurrent one; retrying shortly is right (503 with Retry-After)."""

    code = "transaction_conflict"
    status = 503
    title = "Transaction conflict"


class StatementFailedError(MarqueeError):
    """The database is up but refused a statement in a way that is our fault, not the client's nor an outage (a
    program limit such as a btree row too large, class 54; an object in the wrong state; a resource limit other
    than connections): a 500 whose log names the SQLSTATE (`sqlstate`)."""

    code = "internal_error"
    status = 500
    title = "Internal error"

    def __init__(self, detail: str, *, sqlstate: str | None) -> None:
        super().__init__(detail)
        self.sqlstate = sqlstate


# Developer accounts (issue 8). Each refusal of the portal has its own code; none of them says whether an
# address has an account except `email_taken`, which the duplicate rule requires.


class InvalidEmailError(MarqueeError):
    code = "invalid_email"
    status = 422
    title = "Invalid email address"


class EmailDomainNotAllowedError(MarqueeError):
    code = "email_domain_not_allowed"
    status = 422
    title = "Email provider not accepted"


class DisposableEmailError(MarqueeError):
    code = "disposable_email"
    status = 422
    title = "Disposable email address"


class EmailTakenError(MarqueeError):
    code = "email_taken"
    status = 409
    title = "Email address already registered"


class WeakPasswordError(MarqueeError):
    code = "weak_password"
    status = 422
    title = "Password too weak"


class PasswordLikeEmailError(MarqueeError):
    """A password made from the account's own email address (its local part, spelled with or without dots, tags
    or punctuation): the first thing anyone who knows the address would try."""

    code = "password_like_email"
    status = 422
    title = "Password made from the email address"


class PasswordTooLongError(MarqueeError):
    code = "password_too_long"
    status = 422
    title = "Password too long"


class InvalidTokenError(MarqueeError):
    """A verification or reset token that is unknown (mistyped, tampered, or never issued)."""

    code = "invalid_token"
    status = 400
    title = "Invalid link"


class TokenExpiredError(MarqueeError):
    code = "token_expired"
    status = 410
    title = "Link expired"


class TokenUsedError(MarqueeError):
    code = "token_used"
    status = 409
    title = "Link already used"


class InvalidCredentialsError(MarqueeError):
    code = "invalid_credentials"
    status = 401
    title = "Wrong email or password"


class CurrentPasswordWrongError(MarqueeError):
    """The password sent to confirm an action of a signed-in developer (deleting the account) is not theirs. A 403,
    not a 401: the session itself is good, and a 401 would sign the portal out."""

    code = "current_password_wrong"
    status = 403
    title = "Wrong password"


class WrongPasswordError(MarqueeError):
    """The password sent to confirm an address is not the one its latest sign-up chose (POST /auth/verify)."""

    code = "wrong_password"
    status = 401
    title = "Wrong password"


class EmailNotVerifiedError(MarqueeError):
    code = "email_not_verified"
    status = 403
    title = "Email address not verified"


class AccountSuspendedError(MarqueeError):
    code = "account_suspended"
    status = 403
    title = "Account suspended"


class TooManyAttemptsError(LimitExceededError):
    """A per-IP or per-account limit of the portals (sign-up, login, resend, reset): 429 with Retry-After, and
    `limit`, `reset_at`, `retry_after` in the body like the API's own limits."""

    code = "too_many_attempts"
    title = "Too many attempts"

    def __init__(self, detail: str, *, limit: int, retry_after: int, reset_at: datetime) -> None:
        super().__init__(detail, limit=limit, reset_at=reset_at, retry_after=retry_after, headers={})


class AccountLockedError(TooManyAttemptsError):
    """Repeated failed logins locked the account for a while (429 with Retry-After)."""

    code = "account_locked"
    title = "Account temporarily locked"


class KeyRequestPendingError(MarqueeError):
    code = "key_request_pending"
    status = 409
    title = "A key request is already pending"


class KeyRequestNotApprovedError(MarqueeError):
    code = "key_request_not_approved"
    status = 409
    title = "Key request not approved"


class NoApiKeyError(MarqueeError):
    """The developer has no key yet (not verified) or none to replace."""

    code = "no_api_key"
    status = 409
    title = "No API key"


class KeyAlreadyRevealedError(MarqueeError):
    code = "key_already_revealed"
    status = 409
    title = "Key already revealed"


class MailUnavailableError(MarqueeError):
    """The mail backend refused or could not be reached; what was saved stays saved and a resend can follow."""

    code = "mail_unavailable"
    status = 503
    title = "Email could not be sent"


class DefaultPlanMissingError(MarqueeError):
    """DEFAULT_PLAN (AuthFunction's setting) names no row of `plans`, so no key can be issued on a confirmation:
    an operator's fault, not the developer's, and mended without a deploy of code (set the variable, or add the
    plan). A 503 with Retry-After: nothing was spent, the same link works once it is mended."""

    code = "default_plan_missing"
    status = 503
    title = "Keys cannot be issued"


# ---------------------------------------------------------------- TMDB sync


class TmdbNotConfiguredError(MarqueeError):
    """The TMDB sync has no read token (TMDB_API_TOKEN locally, TMDB_API_TOKEN_SECRET_ARN in AWS)."""

    code = "tmdb_not_configured"
    status = 503
    title = "TMDB sync not configured"


class SyncAlreadyRunningError(MarqueeError):
    """Another TMDB sync holds the sync lock; runs never overlap."""

    code = "sync_running"
    status = 409
    title = "A sync is already running"


class TitleConflictError(MarqueeError):
    """A TMDB title would duplicate another catalogue row (same normalised title and year, or the same TMDB id)."""

    code = "title_conflict"
    status = 409
    title = "Title conflicts with another movie"


# ---------------------------------------------------------------------------------------------------- CSV ingest
# A job that fails with one of these changes nothing in the catalogue; `detail` says what to do about it.


class IngestFileError(MarqueeError):
    """The uploaded file cannot be ingested as a whole (not text, empty, no title column, ...)."""

    code = "unreadable_file"
    status = 422
    title = "File cannot be read"


class NotTextFileError(IngestFileError):
    code = "not_text"
    title = "Not a text (CSV) file"


class EmptyFileError(IngestFileError):
    code = "empty_file"
    title = "Empty file"


class MissingTitleColumnError(IngestFileError):
    code = "missing_title_column"
    title = "No title column"


class TooManyBadRowsError(IngestFileError):
    code = "too_many_bad_rows"
    title = "Too many bad rows"


class UploadGoneError(IngestFileError):
    """The uploaded object changed or was deleted between its event and the read (a newer upload is its own job)."""

    code = "upload_gone"
    status = 409
    title = "Upload changed or gone"


class UploadAlreadyUsedError(IngestFileError):
    """A second object, with other content, under a key an admin's upload form granted once its job had a file: one
    grant brings one file, so this one is refused (a failed job of its own) and read not at all."""

    code = "upload_already_used"
    status = 409
    title = "Upload form already used"


class UploadNotReceivedError(IngestFileError):
    """A presigned upload's job whose file never arrived before its upload form expired (a closed tab, a network
    error): the job is closed as failed so that it does not stay queued forever."""

    code = "upload_not_received"
    title = "Upload not received"


class JobInterruptedError(IngestFileError):
    """An ingest job whose run died before it finished (a function timeout, a crash, a stopped stack): closed as
    failed when seen, so that it does not show as running forever; the same file delivered again runs it again."""

    code = "interrupted"
    title = "Ingest interrupted"


class IngestConflictError(MarqueeError):
    """Rows of the file would collide with each other or with movies written meanwhile (a unique key)."""

    code = "ingest_conflict"
    status = 409
    title = "Conflicting rows"


class CatalogueBusyError(MarqueeError):
    """The catalogue stayed locked by other work through every retry."""

    code = "catalogue_busy"
    status = 503
    title = "Catalogue busy"


# ---------------------------------------------------------------- admin (issue 9)


class ConflictError(MarqueeError):
    """The target's current state forbids the action (e.g. reactivating a revoked key)."""

    code = "conflict"
    status = 409
    title = "Conflict"


class KeyStateConflictError(ConflictError):
    code = "key_state_conflict"
    title = "The key's status does not allow this"


class DeveloperSuspendedError(ConflictError):
    code = "developer_suspended"
    title = "The developer is suspended"


class KeyRequestDecidedError(ConflictError):
    code = "key_request_decided"
    title = "The reissue request was already decided"


class DuplicateMovieError(ConflictError):
    code = "duplicate_movie"
    title = "A movie with this title and year exists"

    def __init__(self, detail: str, *, existing_id: int | None = None) -> None:
        super().__init__(detail)
        self.existing_id = existing_id


class PreconditionFailedError(MarqueeError):
    """An `If-Match` named a version of the target other than its current one: someone changed it since the
    client read it, so the write is refused rather than undoing their change (a lost update)."""

    code = "precondition_failed"
    status = 412
    title = "Changed since it was read"


class AdminExistsError(ConflictError):
    code = "admin_exists"
    title = "An admin with this email exists"


# ---------------------------------------------------------------- the admin portal's uploads and sync runs


class SyncNotConfiguredError(ConflictError):
    """An admin asked for a TMDB sync on a stack without a TMDB read token: nothing was requested."""

    code = "sync_not_configured"
    title = "TMDB sync not configured"


class SyncRequestFailedError(MarqueeError):
    """EventBridge did not accept the "Sync Requested" event (PutEvents failed or refused the entry)."""

    code = "sync_request_failed"
    status = 503
    title = "The sync could not be requested"


class UploadsUnavailableError(MarqueeError):
    """The admin function cannot sign uploads into the uploads bucket (no credentials, or no bucket configured)."""

    code = "uploads_unavailable"
    status = 503
    title = "Uploads unavailable"
