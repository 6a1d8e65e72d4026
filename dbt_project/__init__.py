"""The dbt project, shipped inside the `cjm` package as `cjm.dbt_project` (see
pyproject.toml): this file only makes the folder a package that the wheel and the
editable install both map. dbt itself ignores it."""
