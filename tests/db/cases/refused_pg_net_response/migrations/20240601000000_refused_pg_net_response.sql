-- A request is queued; its response never comes, since the stand-in sends nothing.
create extension if not exists pg_net with schema extensions;
select net._http_collect_response(net.http_post(url := 'https://example.com/hook', body := '{}'::jsonb), async := false);
