create extension if not exists pg_net with schema extensions;
select net.http_post(url := 'https://example.com/hook', body := '{}'::jsonb);
