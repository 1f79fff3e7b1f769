insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values ('documents', 'documents', false, 52428800, array['application/pdf']);

create table public.documents (
  id bigint primary key generated always as identity,
  name text not null,
  storage_object_id uuid not null references storage.objects (id),
  created_by uuid not null references auth.users (id) default auth.uid(),
  created_at timestamptz not null default now()
);
alter table public.documents enable row level security;

create view public.documents_with_storage_path with (security_invoker = true) as
  select documents.*, storage.objects.name as storage_object_path
  from public.documents
  join storage.objects on storage.objects.id = documents.storage_object_id;

create or replace function private_extension(name text) returns text
language sql immutable as $$ select storage.extension(name) $$;

-- A trigger on storage.objects: postgres may add one, as on the platform.
create function public.handle_storage_upload() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.documents (name, storage_object_id, created_by)
  values (storage.filename(new.name), new.id, new.owner);
  return null;
end;
$$;

create trigger on_file_upload
  after insert on storage.objects
  for each row when (new.bucket_id = 'documents')
  execute procedure public.handle_storage_upload();

create policy "Authenticated users can upload files"
on storage.objects for insert to authenticated with check (
  bucket_id = 'documents' and owner = auth.uid() and storage.extension(name) = 'pdf'
);
