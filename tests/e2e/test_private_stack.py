"""`make run` and every test stack are private by default (issue 15, item 2): what the
driver (scripts/stack.py) leaves on disk and runs, looked at from another local user's
point of view.
"""
import os
import stat
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from stack import write_private  # noqa: E402


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_sockets_sit_in_folders_other_users_cannot_enter(stack):
    db_dir = os.path.dirname(stack.db_socket)
    assert mode(db_dir) == 0o700, oct(mode(db_dir))  # mariadbd makes its socket 0777
    for d in (stack.base, stack.rundir, stack.logdir):
        assert mode(d) & 0o007 == 0, (d, oct(mode(d)))
    sock = stack.pool_socket(0)
    assert mode(sock) & 0o007 == 0, oct(mode(sock))
    if stack.nginx_account:
        # nginx's workers reach the worker socket through their group, and only they do
        gid = stack.nginx_account[2]
        assert os.stat(stack.rundir).st_gid == gid and os.stat(sock).st_gid == gid
        assert mode(sock) & 0o060 == 0o060


def test_database_account_has_a_random_password_and_only_the_grants_it_needs(stack):
    assert stack.db_password != "aiengine-local" and len(stack.db_password) >= 32
    grants = " ".join(r[0] for r in stack.sql("SHOW GRANTS FOR 'aiengine'@'localhost'"))
    assert "ALL PRIVILEGES" not in grants, grants
    for needed in ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "DROP", "INDEX"):
        assert needed in grants, (needed, grants)
    for never in ("GRANT OPTION", "FILE", "SUPER", "PROCESS", "SHUTDOWN", "*.*` TO"):
        assert never not in grants.replace("USAGE ON *.*", ""), (never, grants)


def test_nginx_workers_do_not_run_as_root(stack):
    pid = open(os.path.join(stack.base, "nginx", "nginx.pid")).read().strip()
    users = set(subprocess.run(["ps", "-o", "user=", "--ppid", pid], capture_output=True,
                               text=True).stdout.split())
    assert users, "no nginx worker found"
    if os.geteuid() == 0:
        assert "root" not in users, users
        assert users == {stack.nginx_account[0]}, users


def test_secret_files_are_never_readable_by_others(tmp_path):
    """write_private (app key, token, database password of `make run`): 0600 from the
    first byte — the file is created with that mode, not chmod-ed after its content."""
    path = str(tmp_path / "secret")
    old = os.umask(0)
    try:
        write_private(path, "s3cret")
        assert mode(path) == 0o600
        write_private(path, "again")  # replacing keeps it private too
        assert mode(path) == 0o600 and open(path).read() == "again"
    finally:
        os.umask(old)
    assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []
