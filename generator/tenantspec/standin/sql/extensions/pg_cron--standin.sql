-- pg_cron's job table and scheduling functions with its signatures. Scheduling records the job
-- in cron.job as pg_cron does, and returns its id; no background worker runs it here.
\echo Use "CREATE EXTENSION pg_cron" to load this file. \quit

create schema if not exists cron;

create table cron.job (
  jobid bigserial primary key,
  schedule text not null,
  command text not null,
  nodename text not null default 'localhost',
  nodeport integer not null default 5432,
  database text not null default current_database(),
  username text not null default current_user,
  active boolean not null default true,
  jobname text
);
create unique index jobname_username_uniq on cron.job (jobname, username);

create table cron.job_run_details (
  jobid bigint, runid bigserial primary key, job_pid integer, database text, username text,
  command text, status text, return_message text, start_time timestamptz, end_time timestamptz
);

create function cron.schedule(schedule text, command text) returns bigint
language sql volatile as $$
  insert into cron.job (schedule, command) values ($1, $2) returning jobid
$$;

create function cron.schedule(job_name text, schedule text, command text) returns bigint
language sql volatile as $$
  insert into cron.job (jobname, schedule, command) values ($1, $2, $3)
  on conflict (jobname, username) do update set schedule = excluded.schedule, command = excluded.command
  returning jobid
$$;

create function cron.schedule_in_database(job_name text, schedule text, command text, database text,
                                          username text default null, active boolean default true) returns bigint
language sql volatile as $$
  insert into cron.job (jobname, schedule, command, database, username, active)
  values ($1, $2, $3, $4, coalesce($5, current_user), $6)
  on conflict (jobname, username) do update set schedule = excluded.schedule, command = excluded.command
  returning jobid
$$;

create function cron.unschedule(job_id bigint) returns boolean language plpgsql volatile as $$
begin
  delete from cron.job where jobid = job_id;
  if not found then
    raise exception 'could not find valid entry for job %', job_id;
  end if;
  return true;
end
$$;

create function cron.unschedule(job_name text) returns boolean language plpgsql volatile as $$
begin
  delete from cron.job where jobname = job_name and username = current_user;
  if not found then
    raise exception 'could not find valid entry for job ''%''', job_name;
  end if;
  return true;
end
$$;

create function cron.alter_job(job_id bigint, schedule text default null, command text default null,
                               database text default null, username text default null,
                               active boolean default null) returns void
language sql volatile as $$
  update cron.job set schedule = coalesce($2, cron.job.schedule), command = coalesce($3, cron.job.command),
         database = coalesce($4, cron.job.database), username = coalesce($5, cron.job.username),
         active = coalesce($6, cron.job.active)
  where jobid = $1
$$;

grant usage on schema cron to postgres;
grant all on all tables in schema cron to postgres;
grant all on all sequences in schema cron to postgres;
grant execute on all functions in schema cron to postgres;
