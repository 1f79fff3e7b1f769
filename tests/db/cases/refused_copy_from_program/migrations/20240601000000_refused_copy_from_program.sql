create table public.imports (line text);
copy public.imports from program 'cat /etc/hostname';
