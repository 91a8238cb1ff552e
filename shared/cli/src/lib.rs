//! medvault's operator command-line tools; each binary in `src/bin/` is a thin `main` over a module here.

pub mod phi;
