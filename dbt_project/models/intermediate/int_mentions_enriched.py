"""What each mention says (language, sentiment, emotion, stage, topics, NPS, author role,
story keys), scored in Python by the `cjm.enrichment` package from the rule seeds.

Incremental: only new or changed mentions are scored, unless the rules (any rule seed,
the brands/stages config or the scorer version) changed since the stored rows were
scored; then every mention is scored again. See cjm/enrichment/dbt_model.py.
"""

import os
import sys
from pathlib import Path


def _import_enrichment():
    try:
        from cjm.enrichment import dbt_model
    except ImportError:
        # A checkout where the package is not installed: it sits next to dbt_project/.
        argv = sys.argv
        project_dir = (
            Path(argv[argv.index("--project-dir") + 1])
            if "--project-dir" in argv
            else Path(os.environ.get("DBT_PROJECT_DIR") or os.getcwd())
        )
        sys.path.insert(0, str(project_dir.resolve().parent))
        from cjm.enrichment import dbt_model
    return dbt_model


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        unique_key="mention_id",
        incremental_strategy="delete+insert",
        on_schema_change="sync_all_columns",
    )
    seeds = {
        "sentiment_lexicon": dbt.ref("sentiment_lexicon"),
        "negators": dbt.ref("negators"),
        "sentiment_modifiers": dbt.ref("sentiment_modifiers"),
        "emoji_lexicon": dbt.ref("emoji_lexicon"),
        "emotion_lexicon": dbt.ref("emotion_lexicon"),
        "stage_cues": dbt.ref("stage_cues"),
        "topic_keywords": dbt.ref("topic_keywords"),
        "nps_phrases": dbt.ref("nps_phrases"),
        "author_roles": dbt.ref("author_roles"),
    }
    return _import_enrichment().build(
        session=session,
        mentions=dbt.ref("stg_raw__mentions"),
        brands=dbt.ref("stg_config__brands"),
        stages=dbt.ref("int_stages_sequenced"),
        settings=dbt.ref("stg_config__settings"),
        seeds=seeds,
        this=str(dbt.this) if dbt.is_incremental else None,
        is_incremental=dbt.is_incremental,
    )
