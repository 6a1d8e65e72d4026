"""The config file (`config/cjm.yml`) as typed models.

Every error is reported with its path inside the YAML (``sources[2].url``) so a
user fixing a config never has to guess which of twenty sources is wrong.
Secrets are only ever *references* (an env var name or an Airflow connection
id); a literal token in the YAML is rejected.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from cjm.core.secrets import ENV_REF, env_name_problem, literal_secret_errors
from cjm.core.sources import register_source_type, source_models, source_types

DEFAULT_CONFIG = "config/cjm.yml"
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
DEFAULT_STAGES = ["awareness", "consideration", "purchase", "usage", "loyalty"]

# Optional contract fields of a mention, stored in raw.mentions.attributes under these
# names (no raw column): how many people saw it (views, followers), its interactions
# (reactions + reposts + replies), and the id or URL of the mention it answers.
# marts.mentions reads them (reach, engagement, reply_to), falling back on what the
# extractors store (Telegram `views` and `reply_to`).
MENTION_ATTRIBUTE_FIELDS = ("reach", "engagement", "reply_to")
MENTION_FIELDS = {
    "native_id",
    "url",
    "author",
    "title",
    "text",
    "published_at",
    "language",
    "brand",
    "channel",
    *MENTION_ATTRIBUTE_FIELDS,
}
CRM_EVENT_FIELDS = {
    "native_id",
    "customer_key",
    "event_type",
    "channel",
    "touchpoint",
    "campaign",
    "message",
    "occurred_at",
    "amount",
    "attributes",
    "brand",
}


class ConfigError(ValueError):
    """A config that cannot be used; ``errors`` holds one line per problem."""

    def __init__(self, path: str | Path, errors: list[str]):
        self.path = str(path)
        self.errors = errors
        super().__init__(f"{path}: " + "; ".join(errors))


class _Model(BaseModel):
    # Unknown keys are errors: a typo such as `exlude:` must not silently do nothing.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Relevance(_Model):
    """When a mention that names the brand counts as *about* it (cjm/enrichment/relevance.py).

    Every mention gets a `relevance` score in [0, 1]; below `min_score` it is
    `is_relevant = false` and the story marts (cjm, sentiment, keyword_map, spikes)
    leave it out, while marts.mentions keeps it. The default 0.3 was measured on the
    Sanders tweets (cjm/bench/evaluation/relevance.py) to keep ≥ 99% of the real mentions
    while removing most off-topic ones; 0 keeps everything.
    """

    min_score: float = Field(default=0.3, ge=0, le=1)


# The languages display_labels has a column for (label_ru, label_en).
DisplayLanguage = Literal["ru", "en"]
DISPLAY_LANGUAGES: tuple[str, ...] = ("ru", "en")


class BrandAccount(_Model):
    """One of the brand's own accounts: its posts are the brand speaking (replies to
    customers in marts.response_times), not customers' mentions."""

    source: str = Field(min_length=1)  # a configured source's name
    author: str = Field(min_length=1)  # the author as that source stores it (any case)


# A brand is the one being mapped (`own`) or one it is compared with (`competitor`):
# every brand is `own` unless marked, so a config of one brand means what it always did.
BrandRole = Literal["own", "competitor"]
DEFAULT_MARKET = "default"


class Brand(_Model):
    name: str = Field(min_length=1)
    role: BrandRole = "own"
    # The market the brand is compared within (marts.share_of_voice shares are of the
    # market's mentions); brands without one share the market DEFAULT_MARKET.
    market: str = Field(default=DEFAULT_MARKET, min_length=1)
    accounts: list[BrandAccount] = Field(default_factory=list)
    keywords: list[str] = Field(min_length=1)
    exclude: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=lambda: ["ru", "en"])
    # The language people read the brand's marts, report and alerts in (labels of the
    # seed display_labels); default: the first of `languages`.
    language: DisplayLanguage | None = None
    # Brand-domain words that make a match more likely about the brand ("app store").
    context: list[str] = Field(default_factory=list)
    # Words of the keyword's other senses anywhere in the text ("pie", "juice"); unlike
    # `exclude` (a phrase masked before matching) they only lower the relevance.
    off_topic: list[str] = Field(default_factory=list)
    relevance: Relevance = Field(default_factory=Relevance)
    # Product name -> its keywords (matched like `keywords`: whole words, any case,
    # ё = е); a mention gets the product with the most hits (marts.mentions.product).
    products: dict[str, list[str]] = Field(default_factory=dict)

    @property
    def display_language(self) -> DisplayLanguage:
        if self.language:
            return self.language
        first = self.languages[0] if self.languages else ""
        return first if first in DISPLAY_LANGUAGES else "en"  # type: ignore[return-value]


class SecretRef(_Model):
    """Where a secret lives. Exactly one of the references must be given."""

    bearer_env: str | None = None
    airflow_conn: str | None = None
    header: str | None = None  # header name for API-key style auth, e.g. X-Api-Key
    header_env: str | None = None
    # For APIs that take the token only as a query parameter (VK's access_token, Google's
    # key): the parameter's name, and the variable holding it (or airflow_conn).
    query_param: str | None = None
    query_env: str | None = None

    @field_validator("bearer_env", "header_env", "query_env")
    @classmethod
    def _a_name_not_a_secret(cls, v: str | None) -> str | None:
        problem = env_name_problem(v) if v else None
        if problem:  # the value itself is never repeated: it may be the secret
            raise ValueError(f"{problem} (give the variable's name, e.g. CRM_TOKEN)")
        return v

    @model_validator(mode="after")
    def _one_reference(self) -> SecretRef:
        refs = [
            v for v in (self.bearer_env, self.airflow_conn, self.header_env, self.query_env) if v
        ]
        if len(refs) != 1:
            raise ValueError("give exactly one of bearer_env, header_env, query_env, airflow_conn")
        if self.header_env and not self.header:
            raise ValueError("header_env needs header (the HTTP header name)")
        if self.query_env and not self.query_param:
            raise ValueError("query_env needs query_param (the query parameter's name)")
        if self.header and self.query_param:
            raise ValueError("give header or query_param, not both")
        return self

    @property
    def env_var(self) -> str | None:
        """The environment variable the secret is read from (None: an Airflow connection)."""
        return self.bearer_env or self.header_env or self.query_env


class SourceBase(_Model):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")
    brand: str | None = None  # restrict matching to one brand; default: all brands
    enabled: bool = True


class _HttpSource(SourceBase):
    """What every HTTP source shares (cjm/core/http.py): timeouts in seconds; transient
    failures (429, 5xx, timeouts, dropped connections) are retried up to `max_tries`
    times with exponential backoff from `backoff_seconds`, each pause capped at
    `max_wait_seconds` (Retry-After included), all pauses together at
    `max_total_wait_seconds`."""

    timeout_connect: float = Field(default=10.0, gt=0)
    timeout_read: float = Field(default=30.0, gt=0)
    max_tries: int = Field(default=5, ge=1)
    backoff_seconds: float = Field(default=1.0, ge=0)
    max_wait_seconds: float = Field(default=60.0, ge=0)
    max_total_wait_seconds: float = Field(default=300.0, ge=0)
    # Sent with every request (Accept-Language, a proxy's routing header …). A
    # credential belongs in `auth:`, or here only as a ${VAR} reference: a literal one
    # is refused by check-config (cjm.core.secrets).
    headers: dict[str, str] = Field(default_factory=dict)


class RssSource(_HttpSource):
    type: Literal["rss"]
    url: str  # a feed, or a search feed with `{query}` (filled with brand keywords)
    channel: str = "media"
    # `{query}` URLs: None → one request per keyword; a string such as " OR " → one
    # request per brand with its keywords joined by it (for engines that support OR).
    query_join: str | None = None
    # Entry ids remembered in the cursor so a re-read feed yields only new entries.
    seen_max: int = Field(default=5000, ge=10)


def _check_base_url(value: str) -> str:
    """http(s) only; a ``${VAR}`` left unexpanded passes here and fails at run time."""
    value = value.strip().rstrip("/")
    if "${" not in value and not value.startswith(("http://", "https://")):
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    return value


class TelegramSource(SourceBase):
    """A public Telegram channel, read from its web preview (t.me/s/<channel>) via snscrape."""

    type: Literal["telegram"]
    # The public username: `finlyapp`, `@finlyapp` and `https://t.me/finlyapp` all mean it.
    channel: str
    # Where the web preview is served: t.me itself, or a mirror/test server.
    base_url: str = "https://t.me"
    # Pages of ~20 messages read back per run; a first run backfills at most this far.
    max_pages: int = Field(default=50, gt=0, le=10_000)
    # Retries per page on connection errors, 429 and 5xx, through the one HTTP client
    # (cjm/core/http.py: backoff 1, 2, 4 s ..., Retry-After honoured); timeout_s is the
    # connect and the read timeout.
    retries: int = Field(default=3, ge=0, le=10)
    timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("channel")
    @classmethod
    def _username(cls, v: str) -> str:
        name = v.strip()
        for prefix in ("https://", "http://"):
            name = name.removeprefix(prefix)
        name = name.removeprefix("t.me/").removeprefix("s/").removeprefix("@").strip("/")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", name):
            raise ValueError(
                f"{v!r} is not a public channel username (5-32 letters, digits, _; "
                "private invite links cannot be read)"
            )
        return name

    @field_validator("base_url")
    @classmethod
    def _site_root(cls, v: str) -> str:
        v = _check_base_url(v)
        # The preview's "before" links are root-relative (/s/<channel>?before=…): a base
        # URL with a path would lose it on the second page.
        if "${" not in v and urlsplit(v).path not in ("", "/"):
            raise ValueError(f"{v!r}: give a site root (https://host[:port]) without a path")
        return v


class SnscrapeSource(SourceBase):
    """Another snscrape scraper that still works upstream (Mastodon, VK public pages)."""

    # Working scrapers (snscrape's own names) and the record `channel` each one fills in.
    WORKING: ClassVar[dict[str, str]] = {
        "mastodon-profile": "mastodon",
        "mastodon-toot": "mastodon",
        "vkontakte-user": "vk",
    }
    ALIASES: ClassVar[dict[str, str]] = {
        "mastodon-user": "mastodon-profile",
        "vk-user": "vkontakte-user",
        "vkontakte": "vkontakte-user",
    }
    # Why the rest are refused, by name prefix: a config must fail at check-config time,
    # not with an empty table months later.
    DEAD: ClassVar[dict[str, str]] = {
        "twitter": "dead upstream: Twitter/X closed the guest API snscrape used (2023)",
        "reddit": "dead upstream: Reddit closed the Pushshift API snscrape used (2023)",
        "facebook": "dead upstream: the page markup changed and pages need a login",
        "instagram": "dead upstream: Instagram requires a login for the endpoints snscrape used",
        "weibo": "not supported: untested here and needs a visitor cookie handshake",
        "telegram": "use `type: telegram` with `channel:` for Telegram channels",
    }

    type: Literal["snscrape"]
    scraper: str
    # mastodon-profile: `@user@instance.social` or the profile URL; mastodon-toot: the
    # toot URL; vkontakte-user: the page's short name (`finlyapp`, `club123`).
    target: str
    channel: str | None = None  # the record's channel; default from the scraper (mastodon, vk)
    # vkontakte-user only: where vk.com is served (a mirror or a test server).
    base_url: str = "https://vk.com"
    max_items: int = Field(default=500, gt=0)  # newest items read per run
    # Through the one HTTP client (cjm/core/http.py): retries after the first try on
    # connection errors, 429 and 5xx (backoff 1, 2, 4 s ..., Retry-After honoured), and
    # the connect/read timeout in seconds.
    retries: int = Field(default=3, ge=0, le=10)
    timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("scraper")
    @classmethod
    def _working_scraper(cls, v: str) -> str:
        name = cls.ALIASES.get(v.strip().lower(), v.strip().lower())
        if name in cls.WORKING:
            return name
        prefix = name.split("-", 1)[0]
        why = cls.DEAD.get(prefix, "unknown scraper")
        raise ValueError(
            f"scraper {v!r}: {why}; working scrapers: {', '.join(sorted(cls.WORKING))}"
        )

    @field_validator("base_url")
    @classmethod
    def _http_base_url(cls, v: str) -> str:
        return _check_base_url(v)

    @model_validator(mode="after")
    def _target_shape(self) -> SnscrapeSource:
        t = self.target.strip()
        if not t:
            raise ValueError("target: empty")
        if self.scraper == "mastodon-toot" and not t.startswith(("http://", "https://")):
            raise ValueError("target: mastodon-toot needs the toot's URL")
        if self.scraper == "mastodon-profile" and not (
            t.startswith(("http://", "https://")) or re.fullmatch(r"@[^@\s]+@[^@\s]+", t)
        ):
            raise ValueError("target: mastodon-profile needs @user@instance or the profile URL")
        if self.scraper == "vkontakte-user" and not re.fullmatch(r"[A-Za-z0-9_.]+", t):
            raise ValueError("target: vkontakte-user needs the page's short name, e.g. durov")
        return self


class Pagination(_Model):
    """How a CRM API pages (extractors/crm_api.py has one small class per type).

    cursor: `param` (default `cursor`) takes the value at JSON path `next`; stops when
    it is empty. page: `param` (default `page`) counts from `start` (default 1).
    offset: `param` (default `offset`) counts records from `start` (default 0). page
    and offset send `size_param`=`size` when given and stop on a short or empty page.
    link: follows the `Link: <...>; rel="next"` header.
    """

    type: Literal["cursor", "page", "offset", "link", "none"] = "none"
    param: str | None = None
    next: str | None = None
    size_param: str | None = None
    size: int | None = Field(default=None, gt=0)
    start: int | None = Field(default=None, ge=0)
    # A guard against APIs that ignore the paging parameter and repeat page one.
    max_pages: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _needs_next(self) -> Pagination:
        if self.type == "cursor" and not self.next:
            raise ValueError("type cursor needs `next`: the JSON path of the next cursor")
        if self.size_param and not self.size:
            raise ValueError("size_param needs size (the page size to ask for)")
        return self


class _JsonApiSource(_HttpSource):
    """What the JSON API sources share (cjm/extractors/rest.py reads them)."""

    url: str
    auth: SecretRef | None = None
    records: str = "data"
    pagination: Pagination = Field(default_factory=Pagination)
    since_param: str | None = None
    # How the since value is written: "epoch" (seconds) or a strftime pattern; ISO-8601
    # UTC (2026-09-08T10:00:00Z) when absent.
    since_format: str | None = None
    # The record field (dotted path) whose maximum is the cursor; default: the field
    # mapped to the record's timestamp (occurred_at, published_at).
    cursor_field: str | None = None
    # Records come newest first and the API has no since filter: stop paging at the
    # first page that holds nothing newer than the cursor.
    newest_first: bool = False
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)  # fixed query
    columns: dict[str, str] = Field(default_factory=dict)  # contract field → dotted path
    constants: dict[str, Any] = Field(default_factory=dict)
    timestamp_format: str | None = None  # strftime; ISO-8601 (or epoch numbers) when absent
    timezone: str = "UTC"  # for timestamps without an offset

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except Exception as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v


class CrmApiSource(_JsonApiSource):
    type: Literal["crm_api"]

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - CRM_EVENT_FIELDS)
        if unknown:
            raise ValueError(
                f"unknown crm_event field(s) {unknown}; known: {sorted(CRM_EVENT_FIELDS)}"
            )
        return v

    @model_validator(mode="after")
    def _mapping_complete(self) -> CrmApiSource:
        unknown = sorted(set(self.constants) - CRM_EVENT_FIELDS)
        if unknown:
            raise ValueError(f"constants: unknown crm_event field(s) {unknown}")
        # The required fields are checked when the source is read (extractors/crm_api.py),
        # so a config can name a CRM before its mapping is worked out.
        if self.since_param and not (self.cursor_field or "occurred_at" in self.columns):
            raise ValueError("since_param needs cursor_field or columns.occurred_at")
        return self


class BodyErrors(_Model):
    """An API that reports failures inside a 200 body (VK: ``{"error": {"error_code": 6,
    "error_msg": "Too many requests per second"}}``): an object at `path` means the call
    failed. Codes in `retry_codes` are rate limits, asked again after `retry_seconds`
    (doubling, within the source's max_tries and max_total_wait_seconds); any other code
    fails the source with the API's message, and its cursor stays where it was."""

    path: str = "error"
    code: str = "error_code"  # inside the error object
    message: str = "error_msg"
    retry_codes: list[int | str] = Field(default_factory=list)
    retry_seconds: float = Field(default=1.0, ge=0)


class RepliesAt(_Model):
    """Replies nested inside each record (YouTube's ``replies.comments`` of a comment
    thread): each is a mention of its own, mapped by `columns`; `reply_to` is the parent
    record's native_id unless `columns` maps it."""

    records: str
    columns: dict[str, str] = Field(min_length=1)

    @field_validator("columns")
    @classmethod
    def _mention_fields(cls, v: dict[str, str]) -> dict[str, str]:
        return _known_mention_fields(v)


def _known_mention_fields(v: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(v) - MENTION_FIELDS)
    if unknown:
        raise ValueError(f"unknown mention field(s) {unknown}; known: {sorted(MENTION_FIELDS)}")
    return v


REST_API_REQUIRED = ("native_id", "text", "published_at")


class RestApiSource(_JsonApiSource):
    """A social network's or a listening platform's JSON API as mentions (recipes in
    config/recipes/). `columns` values are dotted paths, templates such as
    ``https://vk.com/wall{owner_id}_{id}``, or sums such as ``likes.count + reposts.count``."""

    type: Literal["rest_api"]
    records: str = "items"
    channel: str = "rest_api"  # the mentions' channel unless `columns.channel` maps one
    # `{query}` in `url` or a `params` value: one request series per query, each with
    # its own cursor. The queries are `queries` when given, else the brands' keywords
    # (joined by `query_join` into one query per brand when set, as rss does).
    queries: list[str] = Field(default_factory=list)
    query_join: str | None = None
    # Extra attributes kept in raw.mentions.attributes: attribute name → dotted path
    # (a platform's own tonality, a subreddit); unmapped fields are not stored.
    attributes: dict[str, str] = Field(default_factory=dict)
    replies: RepliesAt | None = None
    body_errors: BodyErrors | None = None
    # Mapped `text` / `title` hold HTML (Mastodon's `content`): stored as plain text.
    html: bool = False

    @field_validator("columns")
    @classmethod
    def _mention_fields(cls, v: dict[str, str]) -> dict[str, str]:
        return _known_mention_fields(v)

    @model_validator(mode="after")
    def _mapping_complete(self) -> RestApiSource:
        unknown = sorted(set(self.constants) - MENTION_FIELDS)
        if unknown:
            raise ValueError(f"constants: unknown mention field(s) {unknown}")
        missing = [f for f in REST_API_REQUIRED if f not in self.columns]
        if missing:
            raise ValueError(f"columns: map the required mention field(s) {missing}")
        if self.since_param and not (self.cursor_field or "published_at" in self.columns):
            raise ValueError("since_param needs cursor_field or columns.published_at")
        return self


class FileSource(SourceBase):
    type: Literal["file"]
    path: str
    entity: Literal["mention", "crm_event"]
    format: Literal["csv", "jsonl", "parquet"] | None = None  # from the extension when absent
    columns: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, Any] = Field(default_factory=dict)
    timestamp_format: str | None = None
    timezone: str = "UTC"
    channel: str | None = None
    csv_delimiter: str = ","
    # A glob that matches nothing is a warning at check-config and an empty run; with
    # `required: true` it is an error (a missing export fails the source).
    required: bool = False
    # Text files (csv, jsonl): a Python codec name (utf-8, the default, also reads a BOM;
    # cp1251, koi8-r, latin-1 ...) or `auto` (detected per file by charset-normalizer).
    encoding: str = "utf-8"

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        import codecs

        if v == "auto":
            return v
        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError(
                f"unknown encoding {v!r} (a codec name such as utf-8, cp1251, koi8-r, or auto)"
            ) from None
        return v

    @model_validator(mode="after")
    def _known_fields(self) -> FileSource:
        known = MENTION_FIELDS if self.entity == "mention" else CRM_EVENT_FIELDS
        for what, mapping in (("columns", self.columns), ("constants", self.constants)):
            unknown = sorted(set(mapping) - known)
            if unknown:
                raise ValueError(
                    f"{what}: unknown {self.entity} field(s) {unknown}; known: {sorted(known)}"
                )
        mapped = set(self.columns) | set(self.constants)
        required = (
            {"native_id", "text", "published_at"}
            if self.entity == "mention"
            else {"native_id", "customer_key", "event_type", "occurred_at"}
        )
        missing = sorted(required - mapped)
        if missing:
            raise ValueError(f"columns: map the required {self.entity} field(s) {missing}")
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(self.timezone)
        except Exception as exc:
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from exc
        return self


# What `sources:` entries are typed as; each is an instance of its registered type's
# model (cjm/core/sources.py), chosen by its `type:`.
Source = SourceBase


@lru_cache(maxsize=8)
def _sources_adapter(models: tuple[type[SourceBase], ...]) -> TypeAdapter[Any]:
    union = Union[models] if len(models) > 1 else models[0]  # noqa: UP007 (built at run time)
    return TypeAdapter(list[Annotated[union, Field(discriminator="type")]])


class JourneyAnalysis(_Model):
    """Thresholds of the driver, barrier-impact and path marts (marts.conversion_drivers,
    marts.barrier_impact, marts.journey_paths): tiny groups and short series are not
    reported as findings."""

    # A property is tested at a step only when both groups (with / without it) hold at
    # least this many customers and every expected cell of the 2×2 table at least
    # min_expected_count (the usual validity rule of thumb for 2×2 tests).
    min_group_customers: int = Field(default=30, ge=1)
    min_expected_count: float = Field(default=5.0, ge=0)
    # Benjamini–Hochberg false-discovery rate: a driver is significant when its
    # q-value is below it.
    fdr_alpha: float = Field(default=0.05, gt=0, lt=1)
    # Barrier exposure of a customer: the barrier's negative mentions at the stage in
    # this many days before the customer entered it, above its median over the stage's
    # entrants.
    barrier_exposure_days: int = Field(default=7, ge=1)
    # Barrier impact: correlation of the weekly barrier share with the weekly drop-off
    # over this many trailing weeks, at the lag (0..barrier_max_lag_weeks) that fits
    # best; fewer weeks with data than barrier_min_weeks → no correlation (the CJM then
    # ranks by frequency).
    barrier_window_weeks: int = Field(default=8, ge=2)
    barrier_max_lag_weeks: int = Field(default=2, ge=0)
    barrier_min_weeks: int = Field(default=4, ge=3)
    # marts.journey_paths keeps this many most frequent paths per brand; the rest are
    # one 'other' row.
    max_paths: int = Field(default=50, ge=1)


class Stages(_Model):
    order: list[str] = Field(default_factory=lambda: list(DEFAULT_STAGES), min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)
    event_stages: dict[str, str] = Field(default_factory=dict)
    conversion_window_days: int = Field(default=90, gt=0)
    # Per-step windows: from-stage -> days to enter the next stage (default: the above).
    step_windows_days: dict[str, Annotated[int, Field(gt=0)]] = Field(default_factory=dict)
    # The stage whose first entry is a conversion for attribution (default: purchase when
    # configured, else the third stage).
    conversion_stage: str | None = None
    # Cohort grains built: marts.stage_conversion_daily / _weekly / _monthly have rows
    # only for the grains listed here.
    period_grains: list[Literal["day", "week", "month"]] = Field(
        default_factory=lambda: ["day", "week", "month"], min_length=1
    )
    # The one cohort grain and channel basis of marts.stage_conversion (one grain per
    # table, so its counts sum without double counting). Grain default: week when built,
    # else the first of period_grains.
    stage_conversion_grain: Literal["day", "week", "month"] | None = None
    stage_conversion_channel_basis: Literal["stage_entry", "first_touch"] = "stage_entry"
    attribution_half_life_days: float = Field(default=7.0, gt=0)
    # Incremental dbt models re-read the loads of this many hours before their watermark
    # (the newest load they processed): a margin for loaders whose clocks or commits are
    # out of order. Late events (an old occurred_at) need none: the watermark is the
    # load time. 0 suits the single loader (one DuckDB writer, load times increase).
    incremental_lookback_hours: float = Field(default=0.0, ge=0)
    # Which cue sets of seeds/stage_cues.csv speak for a configured stage, e.g.
    # {lead: [awareness, consideration], approved: [approval]}. Stages left out get the
    # cue set of their own name, else the standard sets by position (first ↔ awareness …
    # last ↔ loyalty); see cjm/enrichment/stages.py. Checked against the seed when loaded.
    stage_cues: dict[str, list[str]] = Field(default_factory=dict)
    analysis: JourneyAnalysis = Field(default_factory=JourneyAnalysis)

    @model_validator(mode="after")
    def _stages_known(self) -> Stages:
        if len(set(self.order)) != len(self.order):
            raise ValueError("order: a stage is listed twice")
        for what, stages in (
            ("labels", self.labels),
            ("stage_cues", self.stage_cues),
            ("event_stages", self.event_stages.values()),
            ("step_windows_days", self.step_windows_days),
            ("conversion_stage", [self.conversion_stage] if self.conversion_stage else []),
        ):
            unknown = sorted(set(stages) - set(self.order))
            if unknown:
                raise ValueError(f"{what}: stage(s) {unknown} are not in order {self.order}")
        grain = self.stage_conversion_grain
        if grain is not None and grain not in self.period_grains:
            raise ValueError(
                f"stage_conversion_grain: {grain!r} is not in period_grains {self.period_grains}"
            )
        return self

    @property
    def resolved_stage_conversion_grain(self) -> str:
        if self.stage_conversion_grain:
            return self.stage_conversion_grain
        return "week" if "week" in self.period_grains else self.period_grains[0]

    @property
    def resolved_conversion_stage(self) -> str:
        if self.conversion_stage:
            return self.conversion_stage
        return "purchase" if "purchase" in self.order else self.order[min(2, len(self.order) - 1)]


class SpikeRule(_Model):
    """How a bucket of negative mentions is judged a spike (int_negative_buckets_scored.sql).

    expected = greatest(seasonal median, baseline negative odds × this bucket's
    non-negative mentions). The test is on the log lift ln((negatives + 5) / (expected
    + 5)) against the series' own spread of log lifts (MAD over window_days, plus
    Poisson noise): real mention volumes are over-dispersed, so a brand that bursts
    daily needs a larger lift than a steady one. A bucket is a spike when its log lift
    reaches z spreads, or the last three buckets' summed log lift reaches sustained_z
    spreads (with this bucket carrying its share), and it has min_count negatives and
    min_share of its mentions are negative; a smaller echo within a day of a larger
    spike, after the cooldown, is an after-shock, not a new incident.

    The defaults are measured on human-labelled real volumes (NAB realTweets,
    cjm.bench.evaluation.spikes): z, sustained_z, seasonal_weight and min_history_days were
    chosen there; README "Spike alerts" has the precision/recall trade-off of
    sustained_z, the per-brand sensitivity knob.
    """

    bucket: Literal["hour", "day"] = "hour"
    window_days: int = Field(default=28, gt=0)
    min_count: int = Field(default=5, ge=1)
    # Spreads of log lift one bucket needs on its own, and the last three together.
    z: float = Field(default=5.0, gt=0)
    sustained_z: float = Field(default=3.0, gt=0)
    # Negative share of the bucket's mentions below which nothing fires.
    min_share: float = Field(default=0.3, ge=0, le=1)
    # Weight of the same-hour-of-week median against the same-hour-of-day median. 0 by
    # default: with window_days 28 the weekly median sees four values, and on real
    # volumes it made the trade-off jumpier without finding more.
    seasonal_weight: float = Field(default=0.0, ge=0, le=1)
    # Spike buckets closer than this to the previous spike belong to the same incident.
    cooldown_hours: int = Field(default=6, ge=0)
    # A bucket needs this many earlier days at the same hour before it can be judged.
    min_history_days: int = Field(default=3, ge=0)


# Per-brand overrides may change any rule parameter except the bucket: every brand's
# counts share one time axis so the marts stay comparable.
_SPIKE_OVERRIDABLE = set(SpikeRule.model_fields) - {"bucket"}


def spike_defaults_csv() -> str:
    """`SpikeRule`'s defaults as the dbt seed `spike_rule_defaults` holds them: the SQL
    models read their defaults from that seed, never from literals of their own, and
    tests/test_spike_detection.py fails when the seed is stale (regenerate it with
    `python -c "import cjm.core.config as c; c.write_spike_defaults_seed()"`)."""
    defaults = SpikeRule().model_dump()
    return ",".join(defaults) + "\n" + ",".join(str(v) for v in defaults.values()) + "\n"


def write_spike_defaults_seed() -> Path:
    from cjm.core.paths import seeds_dir

    path = seeds_dir() / "spike_rule_defaults.csv"
    path.write_text(spike_defaults_csv(), encoding="utf-8")
    return path


class NotifyTarget(_Model):
    """One destination; its URL, token or SMTP login live in the Airflow connection."""

    type: Literal["slack", "telegram", "email", "webhook"]
    airflow_conn: str
    # e-mail: recipients; telegram: the chat id (else the connection's host / extra chat_id)
    to: list[str] = Field(default_factory=list)
    # The message's language; default: the brand's display language (Brand.language).
    language: DisplayLanguage | None = None
    # A stable name for ops.alerts (default type:airflow_conn); renaming it re-alerts.
    name: str | None = None
    # Only these brands (default: all).
    brands: list[str] = Field(default_factory=list)
    # webhook: the endpoint path appended to the connection's host.
    endpoint: str = ""

    @property
    def key(self) -> str:
        return self.name or f"{self.type}:{self.airflow_conn}"

    @model_validator(mode="after")
    def _email_needs_recipients(self) -> NotifyTarget:
        if self.type == "email" and not self.to:
            raise ValueError("to: an email target needs at least one recipient")
        return self


class OperationsAlerts(_Model):
    """Alerts for the people who run the refresh, sent to the same `alerts.notify`
    targets as spikes: a failed refresh, a late one, stale sources."""

    # A refresh run not finished this long after it was queued is reported late
    # (an Airflow deadline alert on cjm_refresh); null: never.
    late_after_minutes: int | None = Field(default=90, gt=0)
    # A source whose last load is older than this is reported stale by each refresh.
    source_max_age_hours: float = Field(default=26.0, gt=0)
    # per-source overrides of source_max_age_hours, e.g. {crm: 72}
    sources: dict[str, float] = Field(default_factory=dict)

    def max_age_hours(self, source: str) -> float:
        return self.sources.get(source, self.source_max_age_hours)


class Alerts(_Model):
    spike: SpikeRule = Field(default_factory=SpikeRule)
    # brand name → overrides of `spike`, e.g. {Finly: {min_count: 8, z: 5}}
    brands: dict[str, dict[str, Any]] = Field(default_factory=dict)
    notify: list[NotifyTarget] = Field(default_factory=list)
    # Where the CJM report's pages are served (one `<brand>.html` per brand, written by
    # `cjm report`): every alert links `<report_base_url>/<brand>.html`; no link when unset.
    report_base_url: str | None = None
    # Only incidents whose last spike is this close to the brand's newest bucket are
    # sent: switching alerts on over a year of history must not send a year of alerts.
    lookback_hours: int = Field(default=168, gt=0)
    # Tries per delivery within one run (exponential backoff from retry_backoff_seconds),
    # and how many runs may retry a failed delivery before it stays failed.
    delivery_attempts: int = Field(default=3, ge=1, le=10)
    retry_backoff_seconds: float = Field(default=1.0, ge=0)
    max_delivery_rounds: int = Field(default=3, ge=1)
    examples: int = Field(default=3, ge=0, le=10)
    # Competitors' spikes stay in marts.negative_spikes; they are sent only when true (a
    # PR lead on call answers for the own brand, a rival's crisis is a morning read).
    competitors: bool = False
    operations: OperationsAlerts = Field(default_factory=OperationsAlerts)

    @model_validator(mode="after")
    def _overrides_valid(self) -> Alerts:
        names = [t.key for t in self.notify]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"notify: duplicate target(s) {dupes}; give each a distinct name")
        for brand, override in self.brands.items():
            unknown = sorted(set(override) - _SPIKE_OVERRIDABLE)
            if unknown:
                raise ValueError(
                    f"brands.{brand}: unknown or not overridable key(s) {unknown}; "
                    f"known: {sorted(_SPIKE_OVERRIDABLE)}"
                )
            try:
                SpikeRule.model_validate({**self.spike.model_dump(), **override})
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"])
                raise ValueError(f"brands.{brand}.{where}: {err['msg']}") from None
        return self

    def rule_for(self, brand: str) -> SpikeRule:
        """The brand's effective rule: the defaults with its overrides applied."""
        return SpikeRule.model_validate({**self.spike.model_dump(), **self.brands.get(brand, {})})


class EnrichmentSettings(_Model):
    """How mentions are read, beyond the seeds: which topic packs apply.

    Topic keywords come in packs (the `pack` column of seeds/topic_keywords.csv:
    general, banking, telecom, retail, airlines, …). None = every pack: a new user who
    has not chosen sees every topic the seeds know (each tag traceable to its keyword)
    rather than topics silently missing; naming packs removes other domains' readings
    (a bank's "задержка перевода" is not an airline delay). Checked against the seed.
    """

    topic_packs: list[str] | None = None
    # brand name → its packs, for configs that follow brands of different domains
    topic_packs_by_brand: dict[str, list[str]] = Field(default_factory=dict)
    # Mentions scored per batch (one Parquet row group, one task of the pool): peak
    # memory of the dbt process and of each worker grows with it, not with the input.
    batch_rows: int = Field(default=20_000, gt=0)
    # Scoring processes; None = one per core (os.cpu_count()). 1 = in the dbt process.
    workers: int | None = Field(default=None, gt=0)

    @property
    def resolved_workers(self) -> int:
        return self.workers or os.cpu_count() or 1


class LoadSettings(_Model):
    """How the load path (extract → landing → validation → load) moves records.

    Every step works on Arrow record batches of at most `batch_rows` rows, so its peak
    memory follows the batch size rather than the size of an export: smaller batches
    use less memory, larger ones spend less per-batch overhead.
    """

    batch_rows: int = Field(default=100_000, ge=1)


# DuckDB sizes: a number and a unit, as DuckDB's memory_limit reads them ("1GB", "512MiB").
_DUCKDB_SIZE = r"^\d+(\.\d+)?\s*(?i:[kmgt]i?b)$"


class WarehouseSettings(_Model):
    """How much of the machine DuckDB may take while a refresh writes the warehouse.

    DuckDB's own default is 80 % of the RAM: at 10^6 mentions the dbt build alone
    peaked at 5.4 GiB, growing with the input. With a limit DuckDB spills joins,
    sorts and aggregates to `<warehouse>.tmp/` instead, so the peak is set here, not by
    the data. Applied to every connection of the load path and publish and, through
    `config.settings`, to the dbt build (macros/warehouse.sql). The Python side of
    the build (the enrichment's batches and its worker processes) comes on top.
    """

    memory_limit: str = Field(default="1GB", pattern=_DUCKDB_SIZE)


PUBLISH_TARGETS = ("duckdb", "parquet", "postgres")
PublishTarget = Literal["duckdb", "parquet", "postgres"]


class PostgresTarget(_Model):
    """Where the marts are published for BI tools that speak PostgreSQL (cjm/publish_pg.py).

    The connection is a reference, never the DSN itself: `dsn_env` names an environment
    variable holding a libpq URI (`postgresql://user:pass@host:5432/db`), or
    `airflow_conn` an Airflow connection id (metadata DB, secrets backend or
    `AIRFLOW_CONN_<ID>`), read only when publishing. Each refresh is loaded into a new
    schema and swapped in under the name `schema` in one transaction.
    """

    dsn_env: str | None = None
    airflow_conn: str | None = None
    # at most 30 characters: `<schema>__new_<refresh id>` must fit PostgreSQL's 63
    schema_name: str = Field(default="marts", alias="schema", pattern=r"^[a-z_][a-z0-9_]{0,29}$")
    # Roles given USAGE on each refresh's schema and SELECT on its tables (the schema is
    # new every refresh, so grants made by hand would be lost), e.g. [cjm_reader].
    grant_select_to: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]] = Field(
        default_factory=list
    )
    connect_timeout_seconds: int = Field(default=10, gt=0)
    # How long the swap waits for readers' open transactions on the old tables before
    # this refresh's PostgreSQL publish gives up (the other targets are unaffected).
    lock_timeout_seconds: float = Field(default=60, gt=0)

    @field_validator("dsn_env")
    @classmethod
    def _a_name_not_a_secret(cls, v: str | None) -> str | None:
        problem = env_name_problem(v) if v else None
        if problem:  # never repeated: it may be the DSN with its password
            raise ValueError(f"{problem} (give the variable's name, e.g. CJM_PG_DSN)")
        return v

    @model_validator(mode="after")
    def _one_reference(self) -> PostgresTarget:
        if bool(self.dsn_env) == bool(self.airflow_conn):
            raise ValueError("give exactly one of dsn_env, airflow_conn")
        return self


class Publish(_Model):
    # Default: next to the warehouse (data/warehouse.duckdb → data/bi/marts.duckdb), so a
    # warehouse moved with --warehouse takes its published copy and landing files along.
    duckdb_path: str | None = None
    parquet_dir: str | None = None
    postgres: PostgresTarget | None = None
    # Which targets each refresh publishes; default: duckdb and parquet, and postgres
    # when `postgres:` is configured.
    targets: list[PublishTarget] | None = Field(default=None, min_length=1)

    @field_validator("targets", mode="before")
    @classmethod
    def _comma_separated(cls, v: Any) -> Any:
        # a string too, so `${CJM_PUBLISH_TARGETS:-duckdb,parquet}` chooses per machine
        return [t.strip() for t in v.split(",") if t.strip()] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _targets_configured(self) -> Publish:
        if self.targets and "postgres" in self.targets and self.postgres is None:
            raise ValueError("targets: postgres needs a postgres: block (dsn_env or airflow_conn)")
        return self

    @property
    def enabled_targets(self) -> list[str]:
        if self.targets is not None:
            return [t for t in PUBLISH_TARGETS if t in self.targets]
        return ["duckdb", "parquet"] + (["postgres"] if self.postgres else [])


class Paths(_Model):
    landing: str | None = None  # default: <warehouse folder>/landing


class Report(_Model):
    """The HTML report (cjm/report) every refresh writes after publishing."""

    enabled: bool = True
    dir: str | None = None  # default: <warehouse folder>/report (data/report)


class Pii(_Model):
    """What of a CRM record's unmapped fields is stored (cjm/core/pii.py): nothing by
    default; `keep` names fields stored as they are (contacts inside them redacted),
    `hash` fields stored as a keyed hash (joinable, not reversible)."""

    keep: list[str] = Field(default_factory=list)
    hash: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _disjoint(self) -> Pii:
        both = sorted({k.lower() for k in self.keep} & {k.lower() for k in self.hash})
        if both:
            raise ValueError(f"{both} are both kept and hashed; name each field once")
        return self


class SegmentSource(_Model):
    """Where one segment dimension is read from. `crm_attribute` is a field of the CRM
    record's unmapped columns (kept in raw.crm_events.attributes for this use, even when
    `pii.keep` does not list it); `mention_attribute` a column of a mention export or
    a source's attribute (raw.mentions.attributes), which beats what the text says."""

    crm_attribute: str | None = Field(default=None, min_length=1)
    mention_attribute: str | None = Field(default=None, min_length=1)


class RegionSource(SegmentSource):
    # also read the region from the text (the gazetteer seeds/region_gazetteer.csv)
    from_text: bool = True


class Segments(_Model):
    """The dimensions marts are filtered by beside brand, stage, channel and source:
    the customer's segment, region and product (README "Segments")."""

    customer_segment: SegmentSource = Field(default_factory=SegmentSource)
    region: RegionSource = Field(default_factory=RegionSource)
    product: SegmentSource = Field(default_factory=SegmentSource)

    @property
    def crm_attributes(self) -> list[str]:
        """The CRM fields the segments read: stored as they are (PII policy keep)."""
        return [
            a
            for a in (
                self.customer_segment.crm_attribute,
                self.region.crm_attribute,
                self.product.crm_attribute,
            )
            if a
        ]


SEGMENT_DIMENSIONS = ("product", "region", "customer_segment")


class JourneyMap(_Model):
    # One communication map per value of this dimension (marts.communication_map.segment);
    # none = one map, segment 'all'.
    segment_by: Literal["none", "product", "region", "customer_segment"] = "none"


class Channels(_Model):
    """One channel vocabulary for mentions and CRM events: alias -> channel, on top of
    the defaults in seeds/channel_aliases.csv (a listed alias overrides its default).
    Aliases compare lower-cased and trimmed."""

    aliases: dict[str, str] = Field(default_factory=dict)


class KeyMedium(_Model):
    """A medium whose carrying a brand's story counts as a citation (marts.media_citations).

    A mention belongs to the medium when its source is one of `sources`, its author
    (an RSS item's outlet, a channel's name) one of `outlets` (any case), or its URL's
    host one of `domains` or under one (`rbc.ru` also takes `www.rbc.ru`).
    """

    name: str = Field(min_length=1)
    sources: list[str] = Field(default_factory=list)
    outlets: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    # How much one citation by this medium counts in citation_index (1 = an ordinary one).
    weight: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _matches_something(self) -> KeyMedium:
        if not (self.sources or self.outlets or self.domains):
            raise ValueError("give at least one of sources, outlets, domains")
        return self


class Config(_Model):
    brands: list[Brand] = Field(min_length=1)
    key_media: list[KeyMedium] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    stages: Stages = Field(default_factory=Stages)
    enrichment: EnrichmentSettings = Field(default_factory=EnrichmentSettings)
    load: LoadSettings = Field(default_factory=LoadSettings)
    warehouse: WarehouseSettings = Field(default_factory=WarehouseSettings)
    alerts: Alerts = Field(default_factory=Alerts)
    publish: Publish = Field(default_factory=Publish)
    paths: Paths = Field(default_factory=Paths)
    report: Report = Field(default_factory=Report)
    pii: Pii = Field(default_factory=Pii)
    segments: Segments = Field(default_factory=Segments)
    journey_map: JourneyMap = Field(default_factory=JourneyMap)
    channels: Channels = Field(default_factory=Channels)
    # The IANA time zone of the days, cohorts, spike hours and alert times people read;
    # storage stays UTC.
    reporting_timezone: str = "UTC"
    # Where relative paths in this file are resolved from (the config's folder's parent
    # for files under config/, so `data/inbox/*.csv` means the same from any cwd).
    base_dir: str = "."

    @field_validator("sources", mode="wrap")
    @classmethod
    def _registered_types(cls, value: Any, handler: Any) -> Any:
        """Each entry validated as the model its `type:` registered, so a new source
        type needs only its registry entry; errors keep their `sources[i].field` path."""
        if isinstance(value, list):
            value = _sources_adapter(source_models()).validate_python(value)
        return handler(value)

    @field_validator("reporting_timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{v!r} is not an IANA time zone name (e.g. Europe/Moscow, UTC)"
            ) from None
        return v

    @model_validator(mode="after")
    def _cross_checks(self) -> Config:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"sources: duplicate source name(s) {dupes}")
        brands = {b.name for b in self.brands}
        for i, s in enumerate(self.sources):
            if s.brand and s.brand not in brands:
                raise ValueError(
                    f"sources[{i}].brand: {s.brand!r} is not one of brands {sorted(brands)}"
                )
        for i, b in enumerate(self.brands):
            for j, a in enumerate(b.accounts):
                if a.source not in names:
                    raise ValueError(
                        f"brands[{i}].accounts[{j}].source: {a.source!r} is not one of "
                        f"sources {sorted(names)}"
                    )
        owners: dict[tuple[str, str], str] = {}
        for b in self.brands:
            for a in b.accounts:
                key = (a.source, a.author.strip().lower())
                if owners.setdefault(key, b.name) != b.name:
                    raise ValueError(
                        f"brands: the account {a.author!r} of source {a.source!r} is listed "
                        f"by both {owners[key]!r} and {b.name!r}"
                    )
        if not any(b.role == "own" for b in self.brands):
            raise ValueError("brands: every brand is a competitor; mark the own one role: own")
        media = [m.name for m in self.key_media]
        dupes = sorted({n for n in media if media.count(n) > 1})
        if dupes:
            raise ValueError(f"key_media: duplicate name(s) {dupes}")
        for i, m in enumerate(self.key_media):
            unknown = sorted(set(m.sources) - set(names))
            if unknown:
                raise ValueError(
                    f"key_media[{i}].sources: {unknown} are not sources {sorted(names)}"
                )
        unknown = sorted(set(self.alerts.operations.sources) - set(names))
        if unknown:
            raise ValueError(
                f"alerts.operations.sources: {unknown} are not sources {sorted(names)}"
            )
        unknown = sorted(set(self.enrichment.topic_packs_by_brand) - brands)
        if unknown:
            raise ValueError(
                f"enrichment.topic_packs_by_brand: {unknown} are not brands {sorted(brands)}"
            )
        return self

    def resolve(self, path: str) -> Path:
        p = Path(path)
        return p if p.is_absolute() else Path(self.base_dir) / p

    def source(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(f"no source named {name!r} in the config")

    @property
    def enabled_sources(self) -> list[Source]:
        return [s for s in self.sources if s.enabled]


def _loc_to_path(loc: tuple[Any, ...], data: Any) -> str:
    """Turn pydantic's error location into a YAML path such as ``sources[2].url``.

    Discriminated unions add the tag (``file``) as an extra location element; drop it
    so the path matches what the user sees in the file.
    """
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            continue
        if (
            isinstance(node, dict)
            and part not in node
            and part in source_types()
            and node.get("type") == part
        ):
            continue
        out += f".{part}" if out else str(part)
        node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


def parse_config(
    data: Any, path: str | Path = "<config>", base_dir: str | Path | None = None
) -> Config:
    if not isinstance(data, dict):
        raise ConfigError(path, ["(top level): expected a mapping of brands, sources, ..."])
    if base_dir is not None and "base_dir" not in data:
        data = {**data, "base_dir": str(base_dir)}
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            errors.append(f"{_loc_to_path(tuple(err['loc']), data)}: {msg}")
        raise ConfigError(path, errors) from None
    return config


def config_base_dir(path: Path) -> Path:
    """Relative paths in a config resolve against the project folder.

    A config inside a ``config/`` folder belongs to the project one level up;
    any other config resolves relative to its own folder.
    """
    parent = path.resolve().parent
    return parent.parent if parent.name == "config" else parent


def expand_env(data: Any) -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string of the parsed YAML.

    Why: one config must serve machines that differ only in a host or a folder (the
    demo's local server gets a random port). Expansion happens after YAML parsing, so
    a value can never inject YAML structure. A variable that is unset and has no
    default is left as written: `check-config` still passes, and the source that uses
    it fails at run time naming the variable. Secrets stay references (`bearer_env`),
    never expanded values.
    """
    if isinstance(data, str):
        return ENV_REF.sub(
            lambda m: os.environ.get(
                m.group(1), m.group(2) if m.group(2) is not None else m.group(0)
            ),
            data,
        )
    if isinstance(data, list):
        return [expand_env(v) for v in data]
    if isinstance(data, dict):
        return {k: expand_env(v) for k, v in data.items()}
    return data


def config_path(path: str | Path | None = None) -> Path:
    """The config file a command means: the one named, else `CJM_CONFIG`, else the
    project's `config/cjm.yml`."""
    return Path(path or os.environ.get("CJM_CONFIG") or DEFAULT_CONFIG)


def load_config(path: str | Path | None = None) -> Config:
    """The config's own structure, checked (what it asks of the rule seeds is checked
    by `cjm.refresh.settings.load`, the loader every entry point uses)."""
    path = config_path(path)
    if not path.exists():
        raise ConfigError(path, ["file not found"])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        raise ConfigError(
            path, [f"not valid YAML at {where}: {getattr(exc, 'problem', exc)}"]
        ) from None
    secrets = literal_secret_errors(data)  # before ${VAR} expansion: references pass
    if secrets:
        raise ConfigError(path, secrets)
    return parse_config(expand_env(data), path, base_dir=config_base_dir(path))


# The shipped source types (cjm/core/sources.py): the config model, and the extractor
# the run imports when it first needs it.
register_source_type(RssSource, "cjm.extractors.rss:extract")
register_source_type(TelegramSource, "cjm.extractors.telegram:extract")
register_source_type(SnscrapeSource, "cjm.extractors.snscrape_source:extract")
register_source_type(CrmApiSource, "cjm.extractors.crm_api:extract")
register_source_type(RestApiSource, "cjm.extractors.rest_api:extract")
register_source_type(FileSource, "cjm.extractors.file_source:extract")
