"""The config file (`config/cjm.yml`) as typed models.

Every error is reported with its path inside the YAML (``sources[2].url``) so a
user fixing a config never has to guess which of twenty sources is wrong.
Secrets are only ever *references* (an env var name or an Airflow connection
id); a literal token in the YAML is rejected.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_CONFIG = "config/cjm.yml"
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
DEFAULT_STAGES = ["awareness", "consideration", "purchase", "usage", "loyalty"]

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


class Brand(_Model):
    name: str = Field(min_length=1)
    keywords: list[str] = Field(min_length=1)
    exclude: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=lambda: ["ru", "en"])


class SecretRef(_Model):
    """Where a secret lives. Exactly one of the references must be given."""

    bearer_env: str | None = None
    airflow_conn: str | None = None
    header: str | None = None  # header name for API-key style auth, e.g. X-Api-Key
    header_env: str | None = None

    @model_validator(mode="after")
    def _one_reference(self) -> SecretRef:
        refs = [v for v in (self.bearer_env, self.airflow_conn, self.header_env) if v]
        if len(refs) != 1:
            raise ValueError("give exactly one of bearer_env, header_env, airflow_conn")
        if self.header_env and not self.header:
            raise ValueError("header_env needs header (the HTTP header name)")
        return self


class _SourceBase(_Model):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")
    brand: str | None = None  # restrict matching to one brand; default: all brands
    enabled: bool = True


class RssSource(_SourceBase):
    type: Literal["rss"]
    url: str
    channel: str = "media"


class TelegramSource(_SourceBase):
    type: Literal["telegram"]
    channel: str
    base_url: str = "https://t.me"


class SnscrapeSource(_SourceBase):
    type: Literal["snscrape"]
    scraper: str
    target: str
    channel: str | None = None


class Pagination(_Model):
    type: Literal["cursor", "page", "offset", "link", "none"] = "none"
    param: str | None = None
    next: str | None = None
    size_param: str | None = None
    size: int | None = Field(default=None, gt=0)


class CrmApiSource(_SourceBase):
    type: Literal["crm_api"]
    url: str
    auth: SecretRef | None = None
    records: str = "data"
    pagination: Pagination = Field(default_factory=Pagination)
    since_param: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, Any] = Field(default_factory=dict)

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - CRM_EVENT_FIELDS)
        if unknown:
            raise ValueError(
                f"unknown crm_event field(s) {unknown}; known: {sorted(CRM_EVENT_FIELDS)}"
            )
        return v


class FileSource(_SourceBase):
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


Source = Annotated[
    RssSource | TelegramSource | SnscrapeSource | CrmApiSource | FileSource,
    Field(discriminator="type"),
]


class Stages(_Model):
    order: list[str] = Field(default_factory=lambda: list(DEFAULT_STAGES), min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)
    event_stages: dict[str, str] = Field(default_factory=dict)
    conversion_window_days: int = Field(default=90, gt=0)

    @model_validator(mode="after")
    def _stages_known(self) -> Stages:
        if len(set(self.order)) != len(self.order):
            raise ValueError("order: a stage is listed twice")
        for what, stages in (("labels", self.labels), ("event_stages", self.event_stages.values())):
            unknown = sorted(set(stages) - set(self.order))
            if unknown:
                raise ValueError(f"{what}: stage(s) {unknown} are not in order {self.order}")
        return self


class SpikeRule(_Model):
    bucket: Literal["hour", "day"] = "hour"
    window_days: int = Field(default=28, gt=0)
    min_count: int = Field(default=5, ge=1)
    z: float = Field(default=4.0, gt=0)


class NotifyTarget(_Model):
    type: Literal["slack", "telegram", "email", "webhook"]
    airflow_conn: str
    to: list[str] = Field(default_factory=list)
    language: Literal["ru", "en"] = "en"


class Alerts(_Model):
    spike: SpikeRule = Field(default_factory=SpikeRule)
    notify: list[NotifyTarget] = Field(default_factory=list)


class PostgresTarget(_Model):
    airflow_conn: str | None = None
    dsn_env: str | None = None
    schema_name: str = Field(default="marts", alias="schema")


class Publish(_Model):
    # Default: next to the warehouse (data/warehouse.duckdb → data/bi/marts.duckdb), so a
    # warehouse moved with --warehouse takes its published copy and landing files along.
    duckdb_path: str | None = None
    parquet_dir: str | None = None
    postgres: PostgresTarget | None = None


class Paths(_Model):
    landing: str | None = None  # default: <warehouse folder>/landing


class Config(_Model):
    brands: list[Brand] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)
    stages: Stages = Field(default_factory=Stages)
    alerts: Alerts = Field(default_factory=Alerts)
    publish: Publish = Field(default_factory=Publish)
    paths: Paths = Field(default_factory=Paths)
    # Where relative paths in this file are resolved from (the config's folder's parent
    # for files under config/, so `data/inbox/*.csv` means the same from any cwd).
    base_dir: str = "."

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
            and part in {"rss", "telegram", "snscrape", "crm_api", "file"}
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
        return Config.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            errors.append(f"{_loc_to_path(tuple(err['loc']), data)}: {msg}")
        raise ConfigError(path, errors) from None


def config_base_dir(path: Path) -> Path:
    """Relative paths in a config resolve against the project folder.

    A config inside a ``config/`` folder belongs to the project one level up;
    any other config resolves relative to its own folder.
    """
    parent = path.resolve().parent
    return parent.parent if parent.name == "config" else parent


def load_config(path: str | Path | None = None) -> Config:
    path = Path(path or os.environ.get("CJM_CONFIG") or DEFAULT_CONFIG)
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
    return parse_config(data, path, base_dir=config_base_dir(path))
