"""What the stand-in holds before the first migration: the platform's roles, owners and
grants, and extension functions that compute exactly what the real ones do."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest
from tenantspec.standin.databases import standin_database


@pytest.fixture(scope="module")
def standin(tenantspec_server):
    server = tenantspec_server.server
    with standin_database(server, "2026", "tenantspec_shape") as name:
        yield server, name


def test_postgres_migrates_without_being_a_superuser(standin):
    server, name = standin
    with server.connect_admin(name) as conn:
        rows = {name: attributes for name, *attributes in conn.execute(
            "select rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin"
            " from pg_roles where rolname in ('postgres', 'supabase_admin')").fetchall()}
    assert rows["postgres"] == [False, True, True, True, True, True]
    assert rows["supabase_admin"][0] is True
    with server.connect_migrator(name) as conn:
        assert conn.execute("select current_user, session_user").fetchone() == ("postgres", "postgres")


def test_services_own_their_schemas_and_postgres_owns_the_publication(standin):
    server, name = standin
    with server.connect_admin(name) as conn:
        owners = dict(conn.execute(
            "select c.oid::regclass::text, pg_get_userbyid(c.relowner) from pg_class c"
            " where c.oid in ('auth.users'::regclass, 'auth.identities'::regclass, 'auth.sessions'::regclass,"
            " 'storage.buckets'::regclass, 'storage.objects'::regclass)").fetchall())
        publication = conn.execute(
            "select pg_get_userbyid(pubowner) from pg_publication where pubname = 'supabase_realtime'").fetchone()
        rls = conn.execute("select relrowsecurity from pg_class where oid = 'storage.objects'::regclass").fetchone()
        settings = conn.execute(
            "select s.setconfig from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase"
            " where d.datname = current_database()").fetchone()
        database_owner = conn.execute(
            "select pg_get_userbyid(datdba) from pg_database where datname = current_database()").fetchone()
    assert owners == {"auth.users": "supabase_auth_admin", "auth.identities": "supabase_auth_admin",
                      "auth.sessions": "supabase_auth_admin", "storage.buckets": "supabase_storage_admin",
                      "storage.objects": "supabase_storage_admin"}
    assert publication == ("postgres",)
    assert rls == (True,)
    assert settings == (['search_path="$user", public, extensions'],)
    assert database_owner == ("postgres",)


def test_postgres_references_auth_users_but_cannot_change_them(standin):
    server, name = standin
    with server.connect_migrator(name) as conn:
        assert conn.execute("select has_table_privilege('auth.users', 'references')").fetchone() == (True,)
        with pytest.raises(Exception, match="must be owner of table users"):
            conn.execute("alter table auth.users add column plan text")


def test_the_storage_path_helpers(standin):
    server, name = standin
    with server.connect_migrator(name) as conn:
        row = conn.execute("select storage.foldername('a/b/c.tar.gz'), storage.filename('a/b/c.tar.gz'),"
                           " storage.extension('a/b/c.tar.gz')").fetchone()
    assert row == (["a", "b"], "c.tar.gz", "gz")


def needs_standin_pgcrypto(conn) -> None:
    version = conn.execute("select default_version from pg_available_extensions where name = 'pgcrypto'").fetchone()
    if version != ("standin",):
        pytest.skip(f"not applicable: this server has its own pgcrypto ({version}), not the stand-in's")


@pytest.mark.parametrize("algorithm", ["md5", "sha224", "sha256", "sha384", "sha512"])
def test_digest_and_hmac_are_exact(standin, algorithm):
    server, name = standin
    key, long_key, data = b"\x0b" * 20, b"k" * 200, "Hi There, café"
    with server.connect_migrator(name) as conn:
        needs_standin_pgcrypto(conn)
        row = conn.execute("select digest(%s, %s), hmac(%s::bytea, %s::bytea, %s), hmac(%s::bytea, %s::bytea, %s)",
                           (data, algorithm, data.encode(), key, algorithm, data.encode(), long_key,
                            algorithm)).fetchone()
    assert bytes(row[0]) == hashlib.new(algorithm, data.encode()).digest()
    assert bytes(row[1]) == hmac.new(key, data.encode(), algorithm).digest()
    assert bytes(row[2]) == hmac.new(long_key, data.encode(), algorithm).digest()


def test_random_bytes_and_uuids(standin):
    server, name = standin
    with server.connect_migrator(name) as conn:
        needs_standin_pgcrypto(conn)
        lengths = conn.execute("select length(gen_random_bytes(n)) from generate_series(1, 40) n").fetchall()
        distinct = conn.execute("select count(distinct gen_random_bytes(16)) from generate_series(1, 500)").fetchone()
        # every bit position of 2,000 random bytes takes both values
        bits = conn.execute(
            "select bit_or(get_byte(b, i)), bit_and(get_byte(b, i)) from (select gen_random_bytes(1000) b"
            " from generate_series(1, 2)) r, generate_series(0, 999) i").fetchone()
        v3 = conn.execute("select uuid_generate_v3(uuid_ns_dns(), 'www.example.com'),"
                          " uuid_generate_v3(uuid_ns_url(), 'https://example.com/ä')").fetchone()
        v4 = conn.execute("select uuid_generate_v4()").fetchone()[0]
        with pytest.raises(Exception, match="uuid_generate_v5\\(\\) is not available"):
            conn.execute("select uuid_generate_v5(uuid_ns_dns(), 'x')")
    assert [n for (n,) in lengths] == list(range(1, 41))
    assert distinct == (500,)
    assert bits == (255, 0)
    assert v3 == (uuid.uuid3(uuid.NAMESPACE_DNS, "www.example.com"),
                  uuid.uuid3(uuid.NAMESPACE_URL, "https://example.com/ä"))
    assert v4.version == 4


def test_pgjwt_signs_and_verifies(standin):
    server, name = standin
    with server.connect_migrator(name) as conn:
        needs_standin_pgcrypto(conn)
        conn.execute("create extension pgjwt with schema extensions")
        token = conn.execute("select sign('{\"sub\": \"1\"}'::json, 'secret')").fetchone()[0]
        good = conn.execute("select valid, payload ->> 'sub' from verify(%s, 'secret')", (token,)).fetchone()
        bad = conn.execute("select valid from verify(%s, 'other')", (token,)).fetchone()
        conn.rollback()
    header, payload, signature = token.split(".")
    import base64
    expected = base64.urlsafe_b64encode(hmac.new(b"secret", f"{header}.{payload}".encode(), "sha256").digest())
    assert signature == expected.decode().rstrip("=")
    assert good == (True, "1") and bad == (False,)
