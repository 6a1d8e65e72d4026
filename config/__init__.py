"""The shipped configs (`cjm.yml`, the default; `demo.yml`, the demo's), packaged as
`cjm.defaults` so `cjm demo` works from a wheel outside a checkout."""
