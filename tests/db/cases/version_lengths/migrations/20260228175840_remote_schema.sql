-- A pull from the dashboard, fourteen digits: the CLI lists files by name, so it runs
-- after 202602281620_ and before 202603010930_.
alter table public.orders drop column currency;
