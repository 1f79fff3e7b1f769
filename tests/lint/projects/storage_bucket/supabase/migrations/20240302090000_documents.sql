-- Private documents, one folder per user: <user id>/<file name>.
insert into storage.buckets (id, name, public)
values ('documents', 'documents', false);

create policy "Users upload into their own folder"
  on storage.objects for insert to authenticated
  with check (
    bucket_id = 'documents'
    and (storage.foldername(name))[1] = (select auth.uid())::text
  );

create policy "Users read their own documents"
  on storage.objects for select to authenticated
  using (
    bucket_id = 'documents'
    and (storage.foldername(name))[1] = (select auth.uid())::text
  );

-- A debugging shortcut that shipped: every signed-in user lists every file.
create policy "Signed-in users can list files"
  on storage.objects for select to authenticated
  using (true);

create policy "Users remove their own documents"
  on storage.objects for delete to authenticated
  using (
    bucket_id = 'documents'
    and owner_id = (select auth.uid())::text
  );
