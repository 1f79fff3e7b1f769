select extensions.crypt('secret', extensions.gen_salt('bf'));
