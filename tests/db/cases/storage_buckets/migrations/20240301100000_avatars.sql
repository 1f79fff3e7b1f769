-- Avatars: a public bucket, each user writes under a folder named after their id.
insert into storage.buckets (id, name, public)
values ('avatars', 'avatars', true)
on conflict (id) do nothing;

create policy "Avatar images are publicly accessible."
  on storage.objects for select
  using (bucket_id = 'avatars');

create policy "Users upload their own avatar."
  on storage.objects for insert to authenticated
  with check (bucket_id = 'avatars' and (select auth.uid())::text = (storage.foldername(name))[1]);

create policy "Users update their own avatar."
  on storage.objects for update to authenticated
  using ((select auth.uid()) = owner)
  with check (bucket_id = 'avatars');
