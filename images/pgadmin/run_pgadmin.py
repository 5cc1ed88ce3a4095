# The WSGI entry point gunicorn loads (run_pgadmin:app), as in the official container.
# Importing pgAdmin4 creates /var/lib/pgadmin/pgadmin4.db on the first start, with the initial
# user taken from PGADMIN_SETUP_EMAIL and PGADMIN_SETUP_PASSWORD (set by the entrypoint).
import builtins

builtins.SERVER_MODE = None  # config.py then chooses server mode (login, multi-user)

from pgAdmin4 import app  # noqa: E402,F401
