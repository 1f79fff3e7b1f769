create table public.boards (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  title text not null,
  created_at timestamptz not null default now()
);
create index boards_team_id_idx on public.boards (team_id);
alter table public.boards enable row level security;

create policy "Members read boards" on public.boards
  for select to authenticated using ((select public.is_team_member(team_id)));
create policy "Members add boards" on public.boards
  for insert to authenticated with check ((select public.is_team_member(team_id)));
create policy "Members edit boards" on public.boards
  for update to authenticated
  using ((select public.is_team_member(team_id)))
  with check ((select public.is_team_member(team_id)));
create policy "Members remove boards" on public.boards
  for delete to authenticated using ((select public.is_team_member(team_id)));

-- Cards belong to a team through their board.
create table public.cards (
  id uuid primary key default gen_random_uuid(),
  board_id uuid not null references public.boards (id) on delete cascade,
  body text not null,
  done boolean not null default false
);
create index cards_board_id_idx on public.cards (board_id);
alter table public.cards enable row level security;

create policy "Members read cards" on public.cards
  for select to authenticated using (
    exists (select 1 from public.boards b where b.id = cards.board_id and public.is_team_member(b.team_id)));
create policy "Members write cards" on public.cards
  for all to authenticated
  using (exists (select 1 from public.boards b where b.id = cards.board_id and public.is_team_member(b.team_id)))
  with check (exists (select 1 from public.boards b where b.id = cards.board_id and public.is_team_member(b.team_id)));
