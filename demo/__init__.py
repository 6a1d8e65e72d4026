"""The bundled demo data (`inbox/`, `truth/`), packaged as `cjm.demo.bundle` for the demo
server (cjm/demo/server.py)."""
