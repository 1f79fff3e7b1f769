-- RLS is on already; only the owner may switch it, and postgres is not the owner.
alter table storage.objects enable row level security;
