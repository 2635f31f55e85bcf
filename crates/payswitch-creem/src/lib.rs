//! payswitch-creem (work in progress).
