create role reporting login;
alter user reporting with superuser;
