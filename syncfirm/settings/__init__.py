"""Settings modules: `base` (everything, from the environment), `development` (the demo and
local work), `test` (the suite), `production` (hardened; refuses unsafe values)."""
