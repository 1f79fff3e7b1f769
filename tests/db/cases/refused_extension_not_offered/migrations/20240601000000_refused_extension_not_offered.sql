create extension if not exists file_fdw;
