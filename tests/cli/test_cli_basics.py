"""The command line as a whole: every command documents itself, errors are one line with
the right exit code (never a traceback), and the console script is installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import PASSWORD, Env

COMMANDS = [
    ([], "Administer nexios_auth_di"),
    (["gen-secret"], "Generate a JWT/session secret"),
    (["hash-password"], "never argv"),
    (["user"], "Create accounts"),
    (["user", "create"], "password comes from a prompt or stdin"),
    (["user", "set-permissions"], "Replace USERNAME's permissions"),
    (["user", "deactivate"], "Deactivate USERNAME"),
    (["api-key"], "Create, list and revoke API keys"),
    (["api-key", "create"], "print it once"),
    (["api-key", "list"], "List USERNAME's live keys"),
    (["api-key", "revoke"], "Revoke the key KEY_ID"),
    (["sessions"], "End a user's logins"),
    (["sessions", "revoke-all"], "End every session"),
    (["check-config"], "secrets masked"),
]


@pytest.mark.parametrize(("command", "says"), COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_every_command_has_help(env: Env, command: list[str], says: str) -> None:
    """``--help`` works on every command and subcommand and says what it does."""
    result = env.invoke([*command, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: ")
    assert says in " ".join(result.stdout.split())


# (rule, args, stdin, exit code, a fragment of the one-line error). ``{users}``,
# ``{config}``, ``{tmp}`` are this test's files; ada exists in {users}.
ERRORS = [
    ("unknown user is exit 1, named", ["user", "set-permissions", "nobody", "admin", "--config",
     "{config}", "--users-db", "{users}"], None, 1, "no user named 'nobody'"),
    ("unknown user: deactivate", ["user", "deactivate", "nobody", "--config", "{config}",
     "--users-db", "{users}"], None, 1, "no user named 'nobody'"),
    ("unknown user: api-key list", ["api-key", "list", "nobody", "--config", "{config}",
     "--users-db", "{users}", "--store-db", "{tmp}/auth.sqlite3"], None, 1, "no user named"),
    ("unknown user: sessions", ["sessions", "revoke-all", "nobody", "--config", "{config}",
     "--users-db", "{users}", "--store-db", "{tmp}/auth.sqlite3"], None, 1, "no user named"),
    ("a missing user file is not silently created", ["user", "deactivate", "ada", "--config",
     "{config}", "--users-db", "{tmp}/none.sqlite3"], None, 1, "no user database at"),
    ("unknown API key", ["api-key", "revoke", "AAAAAAAAAAAAAAAA", "--config", "{config}"],
     None, 1, "no live API key with id"),
    ("passwords never come from argv: user create", ["user", "create", "bob", "--password",
     "hunter22", "--config", "{config}", "--users-db", "{users}"], None, 2,
     "No such option '--password'"),
    ("passwords never come from argv: hash-password", ["hash-password", "--password", "x"],
     None, 2, "No such option '--password'"),
    ("empty stdin password: hash-password", ["hash-password"], "\n", 1, "empty line"),
    ("empty stdin password: user create", ["user", "create", "bob", "--config", "{config}",
     "--users-db", "{users}"], "", 1, "no password on standard input"),
    ("password policy (min_length) applies", ["user", "create", "bob", "--config", "{config}",
     "--users-db", "{users}"], "short\n", 1, "at least 8 characters"),
    ("duplicate user (NFKC + casefold key)", ["user", "create", "ADA", "--config", "{config}",
     "--users-db", "{users}"], f"{PASSWORD}\n", 1, "already exists"),
    ("username rules apply (UTS #39 confusable)", ["user", "create", "аdmin", "--config",
     "{config}", "--users-db", "{users}"], f"{PASSWORD}\n", 1, "Username"),
    ("RFC 7518 §3.2: HS256 secret >= 32 bytes", ["gen-secret", "--bits", "16"], None, 2,
     "at least 32 bytes"),
    ("empty secret refused", ["gen-secret", "--bits", "0"], None, 2, "at least 32 bytes"),
    ("RSA below 2048 bits refused", ["gen-secret", "--kind", "rsa", "--bits", "1024"], None, 2,
     "RSA keys are"),
    ("unknown profile", ["user", "create", "bob", "--profile", "staging"], None, 2,
     "'staging' is not one of"),
    ("unknown argon2 profile", ["hash-password", "--profile", "md5"], None, 2,
     "unknown password profile"),
    ("config file that does not exist names the path", ["user", "create", "bob", "--config",
     "{tmp}/missing.yaml"], None, 2, "missing.yaml"),
    ("check-config on a missing file names the path", ["check-config", "{tmp}/missing.yaml"],
     None, 2, "missing.yaml"),
    ("check-config on an unknown name", ["check-config", "staging"], None, 2,
     "neither a profile"),
    ("--profile and --config together", ["user", "deactivate", "ada", "--profile", "testing",
     "--config", "{config}", "--users-db", "{users}"], None, 2, "not both"),
    ("memory stores would lose the key", ["api-key", "create", "ada", "--profile", "testing",
     "--users-db", "{users}"], None, 1, "stores: memory"),
    ("production profile without its environment", ["user", "deactivate", "ada", "--profile",
     "production", "--users-db", "{users}"], None, 1, "Missing required environment variable"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "args", "stdin", "code", "says"), ERRORS, ids=[row[0] for row in ERRORS]
)
def test_errors_are_one_line_with_exit_code(
    ada: Env,
    monkeypatch: pytest.MonkeyPatch,
    rule: str,
    args: list[str],
    stdin: str | None,
    code: int,
    says: str,
) -> None:
    """Each refused input exits 1 (problem) or 2 (usage) with a clear error on stderr,
    nothing on stdout, and no traceback."""
    for name in [n for n in os.environ if n.startswith("NEXIOS_AUTH_")]:
        monkeypatch.delenv(name)
    paths = {"config": str(ada.config), "users": str(ada.users), "tmp": str(ada.tmp)}
    result = ada.invoke([a.format(**paths) for a in args], input=stdin)
    assert result.exit_code == code, (rule, result.output)
    assert says in result.stderr, (rule, result.stderr)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1


def test_console_script_and_module_run(tmp_path: Path) -> None:
    """The installed ``nexios-auth`` script and ``python -m nexios_auth_di`` both start
    the CLI in a fresh process (the packaging is right, not only the code)."""
    script = Path(sys.executable).parent / "nexios-auth"
    for command in ([str(script), "--help"], [sys.executable, "-m", "nexios_auth_di", "--help"]):
        run = subprocess.run(
            command, capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path
        )
        assert run.returncode == 0, run.stderr
        assert "Usage: nexios-auth" in run.stdout
        assert "check-config" in run.stdout


def test_importing_the_library_does_not_load_click() -> None:
    """The CLI is lazy: an app that imports ``nexios_auth_di`` (and its container) pays
    nothing for click."""
    code = (
        "import sys, nexios_auth_di; nexios_auth_di.AuthContainer; nexios_auth_di.install; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'click' "
        "or m.startswith('nexios_auth_di.cli')))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
