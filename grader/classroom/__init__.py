"""The room: an account per student (provision), and the JupyterHub that logs them in (hub)."""
