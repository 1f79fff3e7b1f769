-- Unqualified: `extensions` is on the database's search_path.
insert into public.organizations (title, updated_at) values ('Café Olé', '2000-01-01');
update public.organizations set title = 'Café Olé!' where title = 'Café Olé';

do $$
begin
  if (select count(*) from public.organizations where updated_at > '2000-01-02') <> 1 then
    raise exception 'moddatetime did not touch updated_at';
  end if;
  if public.slugify('Crème Brûlée') <> 'creme-brulee' then
    raise exception 'unaccent is not the real one';
  end if;
  if length(gen_random_bytes(32)) <> 32 or uuid_generate_v4() = uuid_generate_v4() then
    raise exception 'pgcrypto or uuid-ossp misbehave';
  end if;
end $$;

insert into public.sections (organization_id, content, embedding)
select id, 'hello', '[1, 2, 3]' from public.organizations;
select content from public.sections order by embedding <#> '[1, 1, 1]' limit 1;
