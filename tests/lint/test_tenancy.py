"""Tenancy read from the schema alone: users tables, memberships, roots, tenant and owner
columns, and what configuration adds. Each case replays a few statements."""

from __future__ import annotations

import pytest

from tenantspec.catalog.replay import replay
from tenantspec.catalog.source import parse_file
from tenantspec.lint.tenancy import Declared, infer_tenancy, parse_column_name, parse_table_name

ORGANIZATIONS = """
create table public.organizations (id uuid primary key, name text);
create table public.organization_members (
  organization_id uuid not null references public.organizations (id),
  user_id uuid not null references auth.users (id),
  role text not null
);
"""


def tenancy_of(sql: str, declared: Declared = Declared()):
    return infer_tenancy(replay(parse_file("case.sql", sql)), declared)


def columns(tenancy, table: str) -> dict[str, str | None]:
    """``{column: root table name}`` of ``public.<table>``."""
    return {c.column: c.root[1] if c.root else None for c in tenancy.columns_of(("public", table))}


def test_a_membership_read_by_a_policy_makes_a_root():
    tenancy = tenancy_of(ORGANIZATIONS + """
        create table public.projects (id uuid primary key, organization_id uuid not null references public.organizations (id));
        create policy p on public.projects for select to authenticated using (exists (
          select 1 from public.organization_members m
          where m.organization_id = projects.organization_id and m.user_id = (select auth.uid())));
    """)
    assert tenancy.roots == {("public", "organizations")}
    [membership] = tenancy.memberships
    assert (membership.table, membership.user_columns, membership.root_columns) == (
        ("public", "organization_members"), ("user_id",), ("organization_id",))
    assert "policy 'p' on public.projects" in membership.evidence
    assert columns(tenancy, "projects") == {"organization_id": "organizations"}


def test_a_membership_read_in_a_plpgsql_function_makes_a_root():
    tenancy = tenancy_of(ORGANIZATIONS + """
        create function private.is_member(org uuid) returns boolean language plpgsql stable security definer
          set search_path = '' as $$
        begin
          return exists (select 1 from public.organization_members om
                         where om.organization_id = org and om.user_id = auth.uid());
        end $$;
    """)
    assert tenancy.roots == {("public", "organizations")}
    assert "function private.is_member(uuid)" in tenancy.memberships[0].evidence


def test_an_unread_membership_counts_when_keyed_on_the_pair_and_named_like_one():
    keyed = ORGANIZATIONS.replace("role text not null", "role text not null, primary key (organization_id, user_id)")
    assert tenancy_of(keyed).roots == {("public", "organizations")}
    assert tenancy_of(ORGANIZATIONS).roots == frozenset()  # neither read nor keyed
    account_user = """
        create table public.accounts (id uuid primary key);
        create table public.account_user (
          account_id uuid not null references public.accounts (id),
          user_id uuid not null references auth.users (id),
          unique (user_id, account_id));
    """
    assert tenancy_of(account_user).roots == {("public", "accounts")}
    company_users = """
        create table public.companies (id uuid primary key);
        create table public.company_users (
          company_id uuid not null references public.companies (id),
          user_id uuid not null references auth.users (id),
          primary key (company_id, user_id));
    """
    assert tenancy_of(company_users).roots == {("public", "companies")}  # companies -> company


@pytest.mark.parametrize("sql", [
    # a like is unique per user and post, but it is no membership
    """create table public.posts (id bigint primary key);
       create table public.post_likes (post_id bigint not null references public.posts (id),
                                       user_id uuid not null references auth.users (id),
                                       primary key (post_id, user_id));""",
    # a task read with its assignee, but never through its project
    """create table public.projects (id uuid primary key);
       create table public.tasks (id uuid primary key, project_id uuid not null references public.projects (id),
                                  assignee_id uuid references auth.users (id));
       create table public.comments (id uuid primary key, task_id uuid not null references public.tasks (id));
       create policy c on public.comments for select to authenticated using (exists (
         select 1 from public.tasks t where t.id = comments.task_id and t.assignee_id = (select auth.uid())));""",
])
def test_tables_that_are_not_memberships(sql):
    assert tenancy_of(sql).roots == frozenset()


def test_tenant_columns_follow_not_null_parents_only():
    tenancy = tenancy_of(ORGANIZATIONS.replace("role text not null", "primary key (organization_id, user_id)") + """
        create table public.projects (id uuid primary key, organization_id uuid not null references public.organizations (id));
        create table public.tasks (id uuid primary key, project_id uuid not null references public.projects (id));
        create table public.checklist_items (id uuid primary key, task_id uuid not null references public.tasks (id));
        create table public.links (id uuid primary key, task_id uuid references public.tasks (id));
    """)
    assert columns(tenancy, "tasks") == {"project_id": "organizations"}
    assert columns(tenancy, "checklist_items") == {"task_id": "organizations"}
    assert columns(tenancy, "links") == {}  # nullable: a row need not belong to a tenant
    assert tenancy.scoped(("public", "links")) is False
    assert tenancy.scoped(("public", "tasks")) and tenancy.scoped(("public", "organizations"))


def test_a_column_without_foreign_key_named_like_its_siblings():
    tenancy = tenancy_of(ORGANIZATIONS.replace("role text not null", "primary key (organization_id, user_id)") + """
        create table public.projects (id uuid primary key, organization_id uuid not null references public.organizations (id));
        create table public.documents (id uuid primary key, organization_id uuid not null);
        create table public.labels (id uuid primary key, organization_id text);
    """)
    assert columns(tenancy, "documents") == {"organization_id": "organizations"}
    assert "no foreign key" in tenancy.columns_of(("public", "documents"))[0].reason
    assert columns(tenancy, "labels") == {}  # same name, other type


def test_owner_columns_and_users_tables():
    tenancy = tenancy_of("""
        create table public.profiles (id uuid primary key references auth.users (id));
        create table public.posts (id bigint primary key, author_id uuid references public.profiles (id),
                                   editor_id uuid references auth.users (id));
    """)
    assert ("public", "profiles") in tenancy.users_tables
    assert tenancy.owners_of(("public", "posts")) == ("author_id", "editor_id")
    assert tenancy.owners_of(("public", "profiles")) == ("id",)


def test_declared_roots_and_columns_add_to_inference():
    sql = """
        create table public.invoices (id uuid primary key, account_id uuid not null references public.accounts (id));
        create table public.notes (id uuid primary key, account_id uuid not null);
    """
    assert tenancy_of(sql).tenant_columns == {}
    tenancy = tenancy_of(sql, Declared(roots=frozenset({("public", "accounts")}),
                                       tenant_columns=frozenset({(("public", "orders"), "account_id")})))
    assert columns(tenancy, "invoices") == {"account_id": "accounts"}
    assert columns(tenancy, "notes") == {"account_id": "accounts"}  # named like invoices.account_id
    assert columns(tenancy, "orders") == {"account_id": "accounts"}  # declared on a table made elsewhere


def test_inference_can_be_turned_off():
    keyed = ORGANIZATIONS.replace("role text not null", "primary key (organization_id, user_id)")
    assert tenancy_of(keyed, Declared(infer=False)).roots == frozenset()


def test_configured_names():
    assert parse_table_name("accounts") == ("public", "accounts")
    assert parse_table_name("basejump.accounts") == ("basejump", "accounts")
    assert parse_column_name("account_id") == (None, "account_id")
    assert parse_column_name("orders.account_id") == (("public", "orders"), "account_id")
    assert parse_column_name("billing.orders.account_id") == (("billing", "orders"), "account_id")
