"""``python -m nexios_auth_di``: the ``nexios-auth`` command line."""

from nexios_auth_di.cli import main

if __name__ == "__main__":
    main()
