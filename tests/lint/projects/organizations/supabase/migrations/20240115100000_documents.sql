-- Documents were added from a prototype: organization_id has no foreign key, and the
-- optional project is never checked.
create table public.documents (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null,
  project_id uuid references public.projects (id) on delete set null,
  created_by uuid not null default auth.uid() references auth.users (id),
  title text not null,
  body text
);
create index documents_organization_id_idx on public.documents (organization_id);
create index documents_project_id_idx on public.documents (project_id);
create index documents_created_by_idx on public.documents (created_by);

alter table public.documents enable row level security;
revoke all on table public.documents from public, anon, authenticated;
grant select, insert, update on table public.documents to authenticated;

create policy documents_select on public.documents for select to authenticated
  using (organization_id = any (array(select private.my_organization_ids())));
create policy documents_insert on public.documents for insert to authenticated
  with check (created_by = (select auth.uid()));
create policy documents_update on public.documents for update to authenticated
  using (organization_id = any (array(select private.my_organization_ids())))
  with check (organization_id = any (array(select private.my_organization_ids())));
