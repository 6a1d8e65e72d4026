"""The snscrape source: dead scrapers refused early and late; Mastodon and VK served locally.

Mastodon's scrapers take a profile URL, so they point at a local server as they
are. VK's is hard-coded to vk.com; the source subclasses it with `base_url`.
The pages are minimal but in the markup snscrape parses (Mastodon's
server-rendered pages before 4.0, VK's wall), served by a real HTTP server.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Response

from cjm.core.config import ConfigError, SnscrapeSource, parse_config
from cjm.extractors import get_extractor
from cjm.extractors.base import ExtractContext, Extracted, ExtractError

ROOT = Path(__file__).resolve().parent.parent
BRANDS = [{"name": "Finly", "keywords": ["finly", "финли", "#финли"]}]


def run(source: dict, cursor: str | None = None) -> Extracted:
    config = parse_config({"brands": BRANDS, "sources": [{"name": "social", **source}]})
    ctx = ExtractContext(
        config=config,
        source=config.sources[0],
        run_id="test",
        fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
        cursor=cursor,
    )
    return get_extractor("snscrape")(ctx)


def html(body: str) -> Response:
    return Response(body, content_type="text/html; charset=utf-8")


# --------------------------------------------------------------------------- dead scrapers


@pytest.mark.parametrize(
    ("scraper", "why"),
    [
        ("twitter-search", "Twitter/X"),
        ("twitter-user", "Twitter/X"),
        ("reddit-subreddit", "Pushshift"),
        ("facebook-user", "dead upstream"),
        ("instagram-hashtag", "dead upstream"),
        ("telegram-channel", "type: telegram"),
        ("myspace-user", "unknown scraper"),
    ],
)
def test_dead_or_unknown_scraper_is_a_config_error(scraper: str, why: str) -> None:
    source = {"name": "social", "type": "snscrape", "scraper": scraper, "target": "finly"}
    with pytest.raises(ConfigError) as err:
        parse_config({"brands": BRANDS, "sources": [source]})
    (line,) = err.value.errors
    assert line.startswith("sources[0].scraper:") and why in line
    assert "mastodon-profile" in line  # says what works instead


def test_check_config_fails_on_a_dead_scraper(tmp_path: Path) -> None:
    path = tmp_path / "cjm.yml"
    config = {
        "brands": BRANDS,
        "sources": [{"name": "tw", "type": "snscrape", "scraper": "twitter-search", "target": "x"}],
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    res = subprocess.run(
        [sys.executable, "-m", "cjm.cli", "--config", str(path), "check-config"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert res.returncode == 2
    assert f"{path}: sources[0].scraper: scraper 'twitter-search': dead upstream" in res.stderr


def test_a_dead_scraper_is_refused_at_run_time_too() -> None:
    """A config built in code (model_construct skips validation) must not run either."""
    config = parse_config(
        {
            "brands": BRANDS,
            "sources": [
                {"name": "ok", "type": "snscrape", "scraper": "vkontakte-user", "target": "x"}
            ],
        }
    )
    dead = SnscrapeSource.model_construct(
        name="tw", type="snscrape", scraper="twitter-search", target="finly"
    )
    ctx = ExtractContext(config, dead, "test", datetime(2026, 11, 1, tzinfo=UTC))
    with pytest.raises(ExtractError, match=r"twitter-search.*not supported"):
        get_extractor("snscrape")(ctx)


def test_aliases_and_target_shapes() -> None:
    def load(scraper: str, target: str) -> SnscrapeSource:
        src = {"name": "s", "type": "snscrape", "scraper": scraper, "target": target}
        return parse_config({"brands": BRANDS, "sources": [src]}).sources[0]

    assert load("mastodon-user", "@finly@mastodon.example").scraper == "mastodon-profile"
    with pytest.raises(ConfigError, match="toot's URL"):
        load("mastodon-toot", "@finly@mastodon.example")
    with pytest.raises(ConfigError, match="short name"):
        load("vkontakte-user", "https://vk.com/finly")


# --------------------------------------------------------------------------- Mastodon


def _toot(host: str, toot_id: int, when: str, text_html: str, boosted: bool = False) -> str:
    user = "someone" if boosted else "finly"
    prepend = (
        '<div class="status__prepend"><div class="status__prepend-icon-wrapper">'
        '<i class="status__prepend-icon fa fa-fw fa-retweet"></i></div>'
        f'<span><a class="status__display-name muted" href="{host}/@finly">'
        "<bdi><strong>Finly</strong></bdi></a> boosted</span></div>"
        if boosted
        else ""
    )
    return f"""
<div class="entry h-entry">{prepend}
  <div class="status" data-id="{toot_id}">
    <div class="status__info">
      <a class="status__relative-time u-url u-uid" href="{host}/@{user}/{toot_id}">
        <data class="dt-published" value="{when}"></data>
        <time class="time-ago" datetime="{when}">Oct 14</time></a>
      <a class="status__display-name u-url" href="{host}/@{user}" rel="noopener">
        <div class="status__avatar"><div><img class="u-photo account__avatar"
          src="/avatars/original/missing.png" width="48"></div></div>
        <span class="display-name"><bdi><strong class="display-name__html p-name emojify"
          >{user.title()}</strong></bdi> <span>@{user}@{host.split("//")[1]}</span></span></a>
    </div>
    <div class="status__content emojify"><div class="e-content" lang="ru">{text_html}</div></div>
  </div>
</div>"""


def mastodon_profile(host: str) -> str:
    toots = [
        _toot(
            host,
            109002,
            "2026-10-14T09:05:00+00:00",
            "<p>Финли восстановил вход в приложение. "
            f'<a href="{host}/tags/финли" class="mention hashtag" rel="tag">#<span>финли</span></a>'
            ' <a href="https://finly.app/status" rel="nofollow noopener">finly.app/status</a></p>',
        ),
        _toot(
            host,
            109001,
            "2026-10-14T08:00:00+00:00",
            "<p>Finly app down again?</p><p>Can't log in since 10 am</p>",
            boosted=True,
        ),
        _toot(host, 108990, "2026-10-13T12:00:00+00:00", "<p>Погода в Казани</p>"),
    ]
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Finly (@finly)</title>'
        '</head><body><div class="public-account-header"></div>'
        '<div class="activity-stream activity-stream--under-tabs">'
        + "".join(toots)
        + "</div></body></html>"
    )


def test_mastodon_profile_served_locally(httpserver: HTTPServer) -> None:
    host = httpserver.url_for("/").rstrip("/")
    httpserver.expect_request("/@finly/with_replies").respond_with_response(
        html(mastodon_profile(host))
    )
    out = run({"type": "snscrape", "scraper": "mastodon-profile", "target": f"{host}/@finly"})

    assert out.rows_seen == 3 and out.rows_off_brand == 1
    rows = {r["native_id"]: r for r in out.table.to_pylist()}
    own = rows[f"{host}/@finly/109002"]
    assert own["channel"] == "mastodon"
    assert own["author"].startswith("@finly@")
    assert own["published_at"] == datetime(2026, 10, 14, 9, 5, tzinfo=UTC)
    assert "https://finly.app/status" in own["attributes"]
    boost = rows[f"{host}/@someone/109001"]
    assert boost["text"] == "Finly app down again?\n\nCan't log in since 10 am"
    assert '"boosted_by": "@finly@' in boost["attributes"]
    assert out.cursor == "2026-10-14T09:05:00+00:00"

    again = run(
        {"type": "snscrape", "scraper": "mastodon-profile", "target": f"{host}/@finly"},
        cursor=out.cursor,
    )
    assert again.table.num_rows == 0 and again.cursor == out.cursor


def test_mastodon_4_app_shell_is_a_layout_error(httpserver: HTTPServer) -> None:
    """Mastodon 4+ serves a JavaScript app instead of the server-rendered profile."""
    host = httpserver.url_for("/").rstrip("/")
    httpserver.expect_request("/@finly/with_replies").respond_with_response(
        html('<!DOCTYPE html><html><body><div id="mastodon" data-props="{}"></div></body></html>')
    )
    with pytest.raises(ExtractError, match=r"mastodon-profile .*layout may have changed"):
        run({"type": "snscrape", "scraper": "mastodon-profile", "target": f"{host}/@finly"})


# --------------------------------------------------------------------------- VK


VK_WALL = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Finly</title></head><body>
<div id="page_wall_posts">
{posts}
</div></body></html>"""


def _vk_post(owner: int, post_id: int, epoch: int, text: str) -> str:
    return f"""
<div id="post-{owner}_{post_id}" class="_post post page_block all own"
  data-post-id="-{owner}_{post_id}">
  <div class="_post_content">
    <div class="post_header"><div class="post_header_info">
      <div class="post_date"><a class="post_link" href="/wall-{owner}_{post_id}">
        <span class="rel_date" time="{epoch}">14 Oct at 11:00 am</span></a></div>
    </div></div>
    <div class="post_content"><div class="post_info"><div class="wall_text">
      <div class="wall_post_cont _wall_post_cont"><div class="wall_post_text">{text}</div></div>
    </div></div></div>
  </div>
</div>"""


def test_vk_wall_through_a_configurable_base_url(httpserver: HTTPServer) -> None:
    epoch = int(datetime(2026, 10, 14, 8, 0, tzinfo=UTC).timestamp())
    posts = [
        _vk_post(4242, 77, epoch, "Финли не пускает в приложение, у всех так?"),
        _vk_post(
            4242,
            76,
            epoch - 3600,
            'Обзор тарифов <a href="/away.php?to=https%3A%2F%2Ffinly.app%2Ftariffs&amp;cc_key=">'
            "finly.app/tariffs</a> от Финли",
        ),
    ]
    httpserver.expect_request("/finlyapp").respond_with_response(
        html(VK_WALL.format(posts="".join(posts)))
    )
    httpserver.expect_request("/al_wall.php", method="POST").respond_with_json(
        {"payload": [0, ['<div class="page_block no_posts">Нет записей</div>']]}
    )
    base = httpserver.url_for("/").rstrip("/")
    out = run(
        {"type": "snscrape", "scraper": "vkontakte-user", "target": "finlyapp", "base_url": base}
    )

    rows = {r["native_id"]: r for r in out.table.to_pylist()}
    assert set(rows) == {"wall-4242_77", "wall-4242_76"}
    assert rows["wall-4242_77"]["url"] == "https://vk.com/wall-4242_77"  # canonical, not local
    assert rows["wall-4242_77"]["channel"] == "vk"
    assert rows["wall-4242_77"]["published_at"] == datetime(2026, 10, 14, 8, 0, tzinfo=UTC)
    assert "https://finly.app/tariffs" in rows["wall-4242_76"]["attributes"]
    methods = [req.method for req, _ in httpserver.log]
    assert methods == ["GET", "POST"]  # the wall page, then one "more posts" request


def test_a_first_run_that_finds_nothing_is_an_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/nobody").respond_with_response(Response("", status=404))
    base = httpserver.url_for("/").rstrip("/")
    with pytest.raises(ExtractError, match="no items found"):
        run({"type": "snscrape", "scraper": "vkontakte-user", "target": "nobody", "base_url": base})
