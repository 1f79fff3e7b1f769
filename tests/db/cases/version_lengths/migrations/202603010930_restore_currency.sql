-- Put back what the pull dropped: this only applies after it.
alter table public.orders add column currency text not null default 'EUR';
