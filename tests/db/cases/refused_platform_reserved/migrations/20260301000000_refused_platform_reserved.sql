-- postgres does not own the platform's extensions: dropping pgsodium is refused there too.
drop extension pgsodium;
