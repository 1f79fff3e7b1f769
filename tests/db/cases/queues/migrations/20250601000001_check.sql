-- A message sent is read once within its visibility timeout, then deleted.
insert into public.signups (email) values ('ana@example.com');

do $$
declare
  got pgmq.message_record;
begin
  select * into got from pgmq.read('emails', 30, 5);
  if got.message ->> 'to' <> 'ana@example.com' or got.read_ct <> 1 then
    raise exception 'pgmq read % ', got;
  end if;
  if exists (select 1 from pgmq.read('emails', 30, 5)) then
    raise exception 'a message under its visibility timeout was read again';
  end if;
  if not pgmq.archive('emails', got.msg_id) then
    raise exception 'pgmq archive found no message';
  end if;
  if (select count(*) from pgmq.a_emails) <> 1 or exists (select 1 from pgmq.q_emails) then
    raise exception 'pgmq archive did not move the message';
  end if;
end $$;
